"""The simulated lab's state and rules (moto-style models), independent of any wire format."""

from .clock import Scheduler, SimClock
from .cmtrace import LogWriter
from .configmgr import (
    ROLE_COMPONENT_SERVER,
    ROLE_PROVIDER,
    ROLE_SCP,
    ROLE_SITE_SERVER,
    ROLE_SITE_SYSTEM,
    ROLE_SQL_SERVER,
    SCP_MODES,
    CMAccount,
    Hierarchy,
    ImmediateInstaller,
    Prop,
    ProxySettings,
    Role,
    RoleInstaller,
    RoleState,
    Site,
    SiteSystem,
    SiteSystemSettings,
    SiteType,
)
from .errors import (
    AccessDenied,
    AlreadyExists,
    InvalidArgument,
    ModelError,
    NotFound,
    RuleViolation,
)
from .events import RoleEvent, RoleEvents
from .executive import SmsExecutive, ensure_executive
from .files import FileSystem
from .installer import SiteComponentManager
from .match import literal_pattern, wildcard_match
from .scp import ScpAgent, ScpService
from .state import CONSOLE_MODULE, LabModel
from .timing import ConfigMgrTiming, ExecutiveTiming, RestartTiming
from .windows import (
    Domain,
    LocalGroup,
    Registry,
    RegistryKey,
    Service,
    WindowsHost,
    parse_registry_path,
)

__all__ = [
    "CONSOLE_MODULE",
    "ROLE_COMPONENT_SERVER",
    "ROLE_PROVIDER",
    "ROLE_SCP",
    "ROLE_SITE_SERVER",
    "ROLE_SITE_SYSTEM",
    "ROLE_SQL_SERVER",
    "SCP_MODES",
    "AccessDenied",
    "AlreadyExists",
    "CMAccount",
    "ConfigMgrTiming",
    "Domain",
    "ExecutiveTiming",
    "FileSystem",
    "Hierarchy",
    "ImmediateInstaller",
    "InvalidArgument",
    "LabModel",
    "LocalGroup",
    "LogWriter",
    "ModelError",
    "NotFound",
    "Prop",
    "ProxySettings",
    "Registry",
    "RegistryKey",
    "RestartTiming",
    "Role",
    "RoleEvent",
    "RoleEvents",
    "RoleInstaller",
    "RoleState",
    "RuleViolation",
    "Scheduler",
    "ScpAgent",
    "ScpService",
    "Service",
    "SimClock",
    "Site",
    "SiteComponentManager",
    "SiteSystem",
    "SiteSystemSettings",
    "SiteType",
    "SmsExecutive",
    "WindowsHost",
    "ensure_executive",
    "literal_pattern",
    "parse_registry_path",
    "wildcard_match",
]
