"""A WQL `WHERE` clause (Get-CimInstance -Filter), as WMI evaluates it, for what modules write.

    condition  := or
    or         := and (OR and)*
    and        := not (AND not)*
    not        := NOT not | '(' condition ')' | comparison
    comparison := Property (= | != | <> | < | > | <= | >=) literal
                | Property LIKE 'pattern'
                | Property IS [NOT] NULL
    literal    := 'text' | "text" | integer | TRUE | FALSE

LIKE takes `%` (any run), `_` (one character) and `[abc]` / `[^abc]` sets, as WQL does; text compares
case-insensitively. A datetime property compares with a date literal in WMI's DMTF form
(`'20261129065004.000000+000'`, the `+UUU` being minutes east of UTC) or the `yyyy-mm-dd HH:MM:SS:mmm`
form WQL also accepts (`'2026-11-29 06:50:04'`, taken as UTC: the lab's servers run on UTC). A NULL property satisfies only
`IS NULL`. Valid WQL that cmlab does not evaluate (ISA, a literal on the left) fails loudly as not
simulated; what WMI itself refuses — unknown properties, malformed terms — is "Invalid query"
(HRESULT 0x80041017), as WMI answers.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable, Iterable
from typing import Any

from .errors import CmdletError

_TOKEN = re.compile(
    r"""\s*(?:(?P<str>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")|(?P<op><>|!=|<=|>=|=|<|>)|(?P<paren>[()])"""
    r"""|(?P<num>-?\d+)(?![\w.])|(?P<word>[A-Za-z_][A-Za-z0-9_]*))"""
)
_KEYWORDS = {"AND", "OR", "NOT", "LIKE", "IS", "NULL", "TRUE", "FALSE"}
_UNSUPPORTED_WORDS = {"ISA"}
_DMTF = re.compile(r"^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})\.(\d{6})([+-])(\d{3})$")
_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2})(?:[.:](\d{1,6}))?)?)?$")


class InvalidQuery(Exception):
    pass


class UnsupportedQuery(Exception):
    """Valid WQL that cmlab does not evaluate."""


def invalid_query(cmdlet: str) -> CmdletError:
    return CmdletError.of(
        cmdlet, "HRESULT 0x80041017", "Invalid query ", "InvalidArgument", "Microsoft.Management.Infrastructure.CimException"
    )


def _tokens(text: str) -> list[tuple[str, str]]:
    out, pos = [], 0
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise InvalidQuery(text[pos:])
        kind = m.lastgroup or ""
        value = m.group(kind)
        if kind == "word" and value.upper() in _UNSUPPORTED_WORDS:
            raise UnsupportedQuery(value)
        if kind == "word" and value.upper() in _KEYWORDS:
            kind, value = "kw", value.upper()
        out.append((kind, value))
        pos = m.end()
    return out


def _literal(kind: str, raw: str) -> Any:
    if kind == "str":
        return re.sub(r"\\(.)", r"\1", raw[1:-1])
    if kind == "num":
        return int(raw)
    if kind == "kw" and raw in ("TRUE", "FALSE"):
        return raw == "TRUE"
    raise InvalidQuery(raw)


def _like(pattern: str) -> re.Pattern:
    out, i = [], 0
    while i < len(pattern):
        c = pattern[i]
        if c == "%":
            out.append(".*")
        elif c == "_":
            out.append(".")
        elif c == "[":
            end = pattern.find("]", i + 1)
            if end < 0:
                raise InvalidQuery(pattern)
            body = pattern[i + 1 : end]
            out.append("[^" + re.escape(body[1:]) + "]" if body.startswith("^") else "[" + re.escape(body) + "]")
            i = end
        else:
            out.append(re.escape(c))
        i += 1
    return re.compile("".join(out), re.IGNORECASE | re.DOTALL)


def parse_wql_datetime(text: str) -> datetime.datetime:
    """A WQL date literal: DMTF (`yyyymmddHHMMSS.mmmmmmsUUU`) or ISO-like; InvalidQuery otherwise."""
    m = _DMTF.match(text.strip())
    if m:
        y, mo, d, h, mi, s, us, sign, offset = m.groups()
        zone = datetime.timezone(datetime.timedelta(minutes=int(offset) * (1 if sign == "+" else -1)))
        return datetime.datetime(int(y), int(mo), int(d), int(h), int(mi), int(s), int(us), tzinfo=zone)
    m = _ISO.match(text.strip())
    if m:
        y, mo, d, h, mi, s, frac = m.groups()
        return datetime.datetime(
            int(y), int(mo), int(d), int(h or 0), int(mi or 0), int(s or 0), int((frac or "0").ljust(6, "0")), tzinfo=datetime.timezone.utc
        )
    raise InvalidQuery(text)


def _order(actual: Any, expected: Any) -> tuple[Any, Any]:
    """Both sides in one comparable form (WMI converts the literal to the property's type)."""
    if isinstance(actual, bool) or isinstance(expected, bool):
        return bool(actual), expected if isinstance(expected, bool) else str(expected).lower() in ("1", "true")
    if isinstance(actual, datetime.datetime):
        if isinstance(expected, int):
            raise InvalidQuery(str(expected))
        return actual.astimezone(datetime.timezone.utc), parse_wql_datetime(str(expected)).astimezone(datetime.timezone.utc)
    if isinstance(actual, int):
        try:
            return actual, int(expected)
        except ValueError:
            raise InvalidQuery(str(expected)) from None
    return str(actual).lower(), str(expected).lower()


_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "=": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    ">": lambda a, b: a > b,
    "<=": lambda a, b: a <= b,
    ">=": lambda a, b: a >= b,
}

Predicate = Callable[[Any], bool]


class _Parser:
    def __init__(self, tokens: list[tuple[str, str]], known: dict[str, str], text: str) -> None:
        self.tokens, self.known, self.text, self.i = tokens, known, text, 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        token = self.peek()
        if token is None:
            raise InvalidQuery(self.text)
        self.i += 1
        return token

    def accept(self, kind: str, value: str | None = None) -> bool:
        token = self.peek()
        if token and token[0] == kind and (value is None or token[1] == value):
            self.i += 1
            return True
        return False

    def condition(self) -> Predicate:
        left = self.conjunction()
        while self.accept("kw", "OR"):
            right, first = self.conjunction(), left
            left = lambda obj, a=first, b=right: a(obj) or b(obj)  # noqa: E731
        return left

    def conjunction(self) -> Predicate:
        left = self.negation()
        while self.accept("kw", "AND"):
            right, first = self.negation(), left
            left = lambda obj, a=first, b=right: a(obj) and b(obj)  # noqa: E731
        return left

    def negation(self) -> Predicate:
        if self.accept("kw", "NOT"):
            inner = self.negation()
            return lambda obj: not inner(obj)
        if self.accept("paren", "("):
            inner = self.condition()
            if not self.accept("paren", ")"):
                raise InvalidQuery(self.text)
            return inner
        return self.comparison()

    def comparison(self) -> Predicate:
        kind, name = self.take()
        if kind in ("str", "num"):
            raise UnsupportedQuery("a literal on the left of a comparison")
        if kind != "word" or name.lower() not in self.known:
            raise InvalidQuery(name)
        prop = self.known[name.lower()]
        kind, op = self.take()
        if kind == "kw" and op == "IS":
            negate = self.accept("kw", "NOT")
            if not self.accept("kw", "NULL"):
                raise InvalidQuery(self.text)
            return lambda obj: (obj.get(prop) is None) != negate
        if kind == "kw" and op == "LIKE":
            lk, raw = self.take()
            if lk != "str":
                raise InvalidQuery(raw)
            pattern = _like(_literal(lk, raw))
            return lambda obj: obj.get(prop) is not None and pattern.fullmatch(str(obj.get(prop))) is not None
        if kind != "op":
            raise InvalidQuery(op)
        op = "!=" if op == "<>" else op
        lk, raw = self.take()
        expected = _literal(lk, raw)
        if isinstance(expected, str) and op in ("<", ">", "<=", ">=", "=", "!=") and _DMTF.match(expected.strip()):
            parse_wql_datetime(expected)  # malformed dates fail now, not per instance
        compare = _OPS[op]

        def matches(obj: Any) -> bool:
            actual = obj.get(prop)
            if actual is None:
                return False  # NULL compares false (IS NULL is the test for it)
            a, b = _order(actual, expected)
            return compare(a, b)

        return matches


def compile_filter(text: str, properties: Iterable[str]) -> Callable[[Any], bool]:
    """A predicate over objects with `.get(name)`; InvalidQuery for what WQL refuses,
    UnsupportedQuery for WQL cmlab does not evaluate."""
    known = {p.lower(): p for p in properties}
    parser = _Parser(_tokens(text), known, text)
    predicate = parser.condition()
    if parser.peek() is not None:
        raise InvalidQuery(parser.peek()[1])
    return predicate  # may raise InvalidQuery on an instance whose type the literal does not fit
