"""Name matching as PowerShell and ConfigMgr do it: the bottom of the model, imported by everyone.

`wildcard_match` is PowerShell's `-like` (`*`, `?`, case-insensitive, backtick escapes; `[ ]` taken
literally), which is what the ConfigMgr cmdlets' wildcard parameters accept
(docs/configmgr-behaviour.md#service-connection-point-cmdlets: `-SiteSystemServerName` "accepts wildcards").
"""

from __future__ import annotations

import re


def wildcard_match(pattern: str | None, value: str) -> bool:
    """PowerShell -like: * and ?, case-insensitive, ` escapes; [ ] taken literally. None matches anything."""
    if pattern is None:
        return True
    regex, escaped = [], False
    for c in pattern:
        if escaped:
            regex.append(re.escape(c))
            escaped = False
        elif c == "`":
            escaped = True
        else:
            regex.append(".*" if c == "*" else "." if c == "?" else re.escape(c))
    return re.fullmatch("".join(regex), value, flags=re.IGNORECASE | re.DOTALL) is not None


def literal_pattern(text: str) -> str:
    """A pattern that matches `text` only (-DisableWildcardHandling)."""
    return re.sub(r"([*?`])", r"`\1", text)
