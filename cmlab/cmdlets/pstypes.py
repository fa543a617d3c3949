"""What simulated cmdlets write to the pipeline: objects with type names, enums, SecureStrings.

The engine shapes these exactly as the PowerShell engine shapes real objects
(docs/engine-protocol.md §2.2): properties by name (case-insensitive), enums by name,
other objects by their ToString().
"""

from __future__ import annotations

import copy
import datetime
from typing import Any


class PSObject:
    """A .NET / CIM / ConfigMgr object: type names (most specific first), ordered properties."""

    def __init__(self, type_names: list[str], properties: dict[str, Any], text: str | None = None) -> None:
        self.type_names = list(type_names)
        self.properties = dict(properties)
        self._text = text

    def get(self, name: str, default: Any = None) -> Any:
        if name in self.properties:
            return self.properties[name]
        lowered = name.lower()
        for key, value in self.properties.items():
            if key.lower() == lowered:
                return value
        return default

    def has(self, name: str) -> bool:
        return any(key.lower() == name.lower() for key in self.properties)

    def is_a(self, type_name: str) -> bool:
        return type_name in self.type_names

    def to_string(self) -> str:
        if self._text is not None:
            return self._text
        return self.type_names[0] if self.type_names else "System.Object"

    def snapshot(self) -> PSObject:
        """A WMI object read from the provider is a copy: later changes do not reach it."""
        return copy.deepcopy(self)

    def __repr__(self) -> str:
        return f"PSObject({self.type_names[0] if self.type_names else '?'}, {self.properties!r})"


def custom_object(properties: dict[str, Any]) -> PSObject:
    """[PSCustomObject]: ToString() is '@{a=1; b=2}'."""
    text = "@{" + "; ".join(f"{k}={_text(v)}" for k, v in properties.items()) + "}"
    return PSObject(["System.Management.Automation.PSCustomObject", "System.Object"], properties, text)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "True" if value else "False"
    if value is None:
        return ""
    if isinstance(value, list):
        return " ".join(_text(v) for v in value)
    if isinstance(value, PSObject):
        return value.to_string()
    return str(value)


class PSEnum:
    """An enum value: shaped as its name (ToString())."""

    __slots__ = ("name", "type_name", "value")

    def __init__(self, type_name: str, name: str, value: int) -> None:
        self.type_name = type_name
        self.name = name
        self.value = value

    def __eq__(self, other: object) -> bool:
        if isinstance(other, PSEnum):
            return (self.type_name, self.value) == (other.type_name, other.value)
        if isinstance(other, str):
            return self.name.lower() == other.lower()
        return NotImplemented

    def __hash__(self) -> int:
        return hash((self.type_name, self.value))

    def __str__(self) -> str:
        return self.name

    def __repr__(self) -> str:
        return f"PSEnum({self.type_name}.{self.name})"


class SecureString:
    """ConvertTo-SecureString of a plan secret. Never prints, shapes or pickles its value."""

    __slots__ = ("__value",)

    def __init__(self, value: str) -> None:
        self.__value = value

    def reveal(self) -> str:
        """For the model only (to fingerprint or check a password), never for output."""
        return self.__value

    def __str__(self) -> str:
        return "System.Security.SecureString"

    __repr__ = __str__

    def __deepcopy__(self, memo: dict) -> SecureString:
        return self

    def __reduce__(self):
        raise TypeError("a SecureString cannot be serialised")


class PSCredential:
    """[pscredential]::new(user, SecureString): a plan credential as the engine builds it. Shows only
    its user name; the password stays a SecureString."""

    __slots__ = ("password", "user_name")

    def __init__(self, user_name: str, password: SecureString) -> None:
        self.user_name = user_name
        self.password = password

    def __str__(self) -> str:
        return "System.Management.Automation.PSCredential"

    __repr__ = __str__

    def __deepcopy__(self, memo: dict) -> PSCredential:
        return self

    def __reduce__(self):
        raise TypeError("a PSCredential cannot be serialised")


class PSDateTime(datetime.datetime):
    """A .NET DateTime with its Kind: it prints as PowerShell's round-trip format (`ToString('o')`),
    which is what the engine writes for a DateTime: `2026-11-29T06:50:04.1230000Z` (Utc),
    `2026-11-29T07:50:04.1230000+01:00` (Local), `2026-11-29T06:50:04.1230000` (Unspecified).

    CIM datetimes (Get-CimInstance) arrive as Local times of the host the cmdlet ran on; ConfigMgr's
    own objects keep the UTC the site database stores (assumption)."""

    kind: str = "Unspecified"

    def isoformat(self, sep: str = "T", timespec: str = "auto") -> str:
        text = self.strftime("%Y-%m-%dT%H:%M:%S") + f".{self.microsecond:06d}0"
        if self.kind == "Utc":
            return text + "Z"
        if self.kind == "Local":
            offset = self.utcoffset() or datetime.timedelta(0)
            minutes = int(offset.total_seconds() // 60)
            sign = "+" if minutes >= 0 else "-"
            return text + f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
        return text

    def __str__(self) -> str:
        return self.isoformat()


def ps_datetime(epoch: float | None, bias_minutes: int | None = None) -> PSDateTime | None:
    """A DateTime for an instant: Utc kind without a bias, else the Local time of a host whose
    time-zone bias is `bias_minutes` (UTC = local + bias, as Windows counts it)."""
    if epoch is None:
        return None
    if bias_minutes is None:
        return UtcDateTime.fromtimestamp(epoch, tz=datetime.timezone.utc)
    return LocalDateTime.fromtimestamp(epoch, tz=datetime.timezone(datetime.timedelta(minutes=-bias_minutes)))


class UtcDateTime(PSDateTime):
    kind = "Utc"


class LocalDateTime(PSDateTime):
    kind = "Local"
