"""A small, strict WQL `WHERE` clause (Get-CimInstance -Filter): what modules write, nothing more.

    condition := conjunction (OR conjunction)*
    conjunction := factor (AND factor)*
    factor    := ( condition ) | term
    term      := Property (= | != | <> | LIKE) literal
    literal   := 'text' | "text" | integer | TRUE | FALSE

AND binds tighter than OR, as in WQL. LIKE takes `%` (any run) and `_` (one character), as WQL
does; comparisons of text are case-insensitive. In a quoted literal a backslash escapes the next
character (`'C:\\\\Windows'` is `C:\\Windows`), as WQL requires. Valid WQL that cmlab does not evaluate
(NOT, <, >, IS NULL) fails loudly as not simulated; what WMI itself refuses — unknown properties,
malformed terms, unbalanced parentheses — is "Invalid query" (HRESULT 0x80041017), as WMI answers.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from .errors import CmdletError

_TOKEN = re.compile(r"""\s*(?:(?P<str>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")|(?P<op><>|!=|=)|(?P<paren>[()])|(?P<other><=|>=|<|>)"""
                    r"""|(?P<num>-?\d+)(?![\w.])|(?P<word>[A-Za-z_][A-Za-z0-9_]*))""")
_UNSUPPORTED_WORDS = {"NOT", "IS", "NULL", "ISA"}


class InvalidQuery(Exception):
    pass


class UnsupportedQuery(Exception):
    """Valid WQL that cmlab does not evaluate."""


def invalid_query(cmdlet: str) -> CmdletError:
    return CmdletError.of(cmdlet, "HRESULT 0x80041017", "Invalid query ", "InvalidArgument",
                          "Microsoft.Management.Infrastructure.CimException")


def _tokens(text: str) -> list[tuple[str, str]]:
    out, pos = [], 0
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise InvalidQuery(text[pos:])
        kind = m.lastgroup or ""
        if kind == "other" or (kind == "word" and m.group(kind).upper() in _UNSUPPORTED_WORDS):
            raise UnsupportedQuery(m.group(kind))
        out.append((kind, m.group(kind)))
        pos = m.end()
    return out


def _literal(kind: str, raw: str) -> Any:
    if kind == "str":
        return re.sub(r"\\(.)", r"\1", raw[1:-1])
    if kind == "num":
        return int(raw)
    if kind == "word" and raw.upper() in ("TRUE", "FALSE"):
        return raw.upper() == "TRUE"
    raise InvalidQuery(raw)


def _like(pattern: str) -> re.Pattern:
    regex = "".join(".*" if c == "%" else "." if c == "_" else re.escape(c) for c in pattern)
    return re.compile(regex, re.IGNORECASE | re.DOTALL)


def _compare(actual: Any, op: str, expected: Any) -> bool:
    if op == "LIKE":
        return actual is not None and _like(str(expected)).fullmatch(str(actual)) is not None
    if isinstance(actual, bool) or isinstance(expected, bool):
        equal = bool(actual) == (expected if isinstance(expected, bool) else str(expected).lower() in ("1", "true"))
    elif isinstance(actual, int) and not isinstance(expected, bool):
        try:
            equal = actual == int(expected)
        except ValueError:
            equal = False
    else:
        equal = str("" if actual is None else actual).lower() == str(expected).lower()
    return equal if op == "=" else not equal


def compile_filter(text: str, properties: Iterable[str]) -> Callable[[Any], bool]:
    """A predicate over objects with `.get(name)`; InvalidQuery for what WQL refuses,
    UnsupportedQuery for WQL cmlab does not evaluate."""
    known = {p.lower(): p for p in properties}
    tokens = _tokens(text)
    if not tokens:
        raise InvalidQuery(text)
    predicate, end = _disjunction(tokens, 0, known, text)
    if end != len(tokens):
        raise InvalidQuery(tokens[end][1])
    return predicate


Predicate = Callable[[Any], bool]


def _keyword(tokens: list[tuple[str, str]], i: int, word: str) -> bool:
    return i < len(tokens) and tokens[i][0] == "word" and tokens[i][1].upper() == word


def _disjunction(tokens, i, known, text) -> tuple[Predicate, int]:
    parts = []
    while True:
        part, i = _conjunction(tokens, i, known, text)
        parts.append(part)
        if not _keyword(tokens, i, "OR"):
            return (parts[0] if len(parts) == 1 else (lambda obj: any(p(obj) for p in parts))), i
        i += 1


def _conjunction(tokens, i, known, text) -> tuple[Predicate, int]:
    parts = []
    while True:
        part, i = _factor(tokens, i, known, text)
        parts.append(part)
        if not _keyword(tokens, i, "AND"):
            return (parts[0] if len(parts) == 1 else (lambda obj: all(p(obj) for p in parts))), i
        i += 1


def _factor(tokens, i, known, text) -> tuple[Predicate, int]:
    if i < len(tokens) and tokens[i] == ("paren", "("):
        inner, i = _disjunction(tokens, i + 1, known, text)
        if i >= len(tokens) or tokens[i] != ("paren", ")"):
            raise InvalidQuery(text)
        return inner, i + 1
    if i + 3 > len(tokens):
        raise InvalidQuery(text)
    (k1, name), (k2, op), (k3, raw) = tokens[i:i + 3]
    if k1 != "word" or name.lower() not in known:
        raise InvalidQuery(name)
    if k2 == "op":
        op = "!=" if op == "<>" else op
    elif k2 == "word" and op.upper() == "LIKE":
        op = "LIKE"
        if k3 != "str":
            raise InvalidQuery(raw)
    else:
        raise InvalidQuery(op)
    prop, value = known[name.lower()], _literal(k3, raw)
    return (lambda obj: _compare(obj.get(prop), op, value)), i + 3
