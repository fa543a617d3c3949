"""Site Component Manager, as far as cmlab models it today.

A role added through the provider is recorded at once (the cmdlet returns, facts §8.1) and its
installation outcome is decided at once too: it fails when the site server cannot administer the
target (facts §9: the site server's computer account, or the site system installation account,
must be a local administrator there) or when an `install_failure` fault is set for the target.
The outcome is the role's `state` (installed / install_failed) with a reason; it shows in the state
dump. Making this asynchronous on the lab's clock (model.scheduler), with sitecomp.log lines,
status messages and SMS_EXECUTIVE thread keys, is the next step: replace `install()`'s direct
assignment with a scheduled job.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from .configmgr import Hierarchy, Role, RoleState, SiteSystem

if TYPE_CHECKING:
    from .state import LabModel


class SiteComponentManager:
    def __init__(self, model: LabModel, injected_failure: Callable[[str], bool] | None = None) -> None:
        self.model = model
        self.injected_failure = injected_failure or (lambda server: False)

    def install(self, hierarchy: Hierarchy, site_system: SiteSystem, role: Role) -> None:
        reason = self.failure_reason(hierarchy, site_system)
        role.state = RoleState.INSTALL_FAILED if reason else RoleState.INSTALLED
        role.detail = reason

    def uninstall(self, hierarchy: Hierarchy, site_system: SiteSystem, role: Role) -> None:
        site_system.roles.remove(role)

    def failure_reason(self, hierarchy: Hierarchy, ss: SiteSystem) -> str:
        if self.injected_failure(ss.server):
            return "install_failure fault injected for this server"
        site = hierarchy.sites[ss.site_code]
        target = self.model.host(ss.server)
        site_server = self.model.host(site.server)
        if target is None or site_server is None or target is site_server:
            return ""
        account = site_server.computer_account if ss.use_machine_account else ss.account
        if target.is_local_admin(account):
            return ""
        kind = "the site server's computer account" if ss.use_machine_account else "the site system installation account"
        return f"{account} ({kind}) is not a local administrator on {ss.server}"
