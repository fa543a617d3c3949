"""Role events: what Site Component Manager tells the components that run on site systems.

Site Component Manager installs and removes roles (docs/configmgr-behaviour.md#asynchronous-installation);
what a role then does on its server (the SCP downloading, uploading, checking endpoints) belongs to that
role's own model. Site Component Manager publishes an event when a role's components start running on their
server and when the role leaves the site control file; role models subscribe. Neither side imports the
other.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .configmgr import Hierarchy, Role, SiteSystem

INSTALLED = "installed"  # the role's components run on its server (after installation, or from the topology)
REMOVED = "removed"  # the role left the site control file; its components are being removed


@dataclass(frozen=True)
class RoleEvent:
    kind: str
    hierarchy: Hierarchy
    site_system: SiteSystem
    role: Role


RoleListener = Callable[[RoleEvent], None]


class RoleEvents:
    """Publish/subscribe for one hierarchy's role events. Listeners run under the model lock, in order."""

    def __init__(self) -> None:
        self._listeners: list[RoleListener] = []

    def subscribe(self, listener: RoleListener) -> None:
        self._listeners.append(listener)

    def publish(self, event: RoleEvent) -> None:
        for listener in list(self._listeners):
            listener(event)
