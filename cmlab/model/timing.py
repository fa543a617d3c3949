"""How long simulated things take (simulated seconds on the lab's clock), set from the topology.

Kept apart from the components that use them so that the topology, Site Component Manager, the SCP
and SMS_EXECUTIVE all read the same figures without importing each other.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class ConfigMgrTiming:
    """Topology `configmgr:`; tests set 0 or advance the clock."""

    install_delay: float = 5.0
    install_retry: float = 60.0
    uninstall_delay: float = 5.0
    # SMS_SERVICE_CONNECTOR's endpoint check: the real interval is not documented (assumption).
    connectivity_check_interval: float = 3600.0
    # Online, the SCP "checks every 24 hours for updates" (docs/configmgr-behaviour.md#scp-mode).
    dmp_sync_interval: float = 86400.0
    # SMS_DMP_UPLOADER's upload of usage data: not documented; daily (assumption).
    dmp_upload_interval: float = 86400.0


@dataclass
class ExecutiveTiming:
    """SMS_EXECUTIVE (docs/configmgr-behaviour.md#sms-executive-threads). `pickup`: from a
    `Requested Operation` write until the executive acts on it; `stop`: how long a thread stays
    `Stopping`."""

    pickup: float = 2.0
    stop: float = 1.0


@dataclass
class RestartTiming:
    """A simulated restart of Windows (Restart-Computer): `shutdown_delay` from the command until the
    host goes down (the command's own answer still gets out), `down` how long it stays unreachable."""

    shutdown_delay: float = 1.0
    down: float = 5.0
