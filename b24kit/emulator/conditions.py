"""Filter conditions: the Bitrix operators (``>=``, ``%``, ``!@`` ...), value coercion and groups."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC
from typing import Any

from .clock import Clock
from .store import Row

# Longest operators first, so "!=%" wins over "!=" and "!".
_OPERATORS = (
    "!><",
    "!=%",
    "!%=",
    "><",
    ">=",
    "<=",
    "!@",
    "!=",
    "=%",
    "%=",
    "!%",
    "%",
    "=",
    "!",
    ">",
    "<",
    "@",
)
_POSITIVE = {
    "": "=",
    "=": "=",
    "@": "=",
    "!": "=",
    "!=": "=",
    "!@": "=",
    ">": ">",
    ">=": ">=",
    "<": "<",
    "<=": "<=",
    "%": "%",
    "!%": "%",
    "=%": "=%",
    "%=": "=%",
    "!=%": "=%",
    "!%=": "=%",
    "><": "><",
    "!><": "><",
}
_NEGATED = {"!", "!=", "!@", "!%", "!=%", "!%=", "!><"}
_INT_PREFIX = re.compile(r"^\s*[+-]?\d+")
_FLOAT_PREFIX = re.compile(r"^\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class FieldRef:
    """How to read and compare one field: its storage key, its kind, and whether LIKE is exact.

    Kinds: ``int``, ``float``, ``str``, ``datetime``, ``date`` (stored ``YYYY-MM-DD``), ``flag``
    (Y/N), ``bool`` (1/0 user field), ``multifield`` (PHONE/EMAIL lists of dicts). ``exact`` marks
    fields on which the LIKE operators act as an exact match (multifields, ``crm_status`` ...).
    """

    key: str
    kind: str = "str"
    exact: bool = False


Resolver = Callable[[str], FieldRef | None]
Normaliser = Callable[[Any], Any]


def split_operator(key: str) -> tuple[str, str]:
    for op in _OPERATORS:
        if key.startswith(op):
            return op, key[len(op) :]
    return "", key


def php_int(value: Any) -> int:
    """PHP's ``intval``: leading digits, else 0 (so an unresolved ``$result[..]`` becomes 0)."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value)
    match = _INT_PREFIX.match(str(value))
    return int(match.group()) if match else 0


def php_float(value: Any) -> float:
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, int | float):
        return float(value)
    match = _FLOAT_PREFIX.match(str(value))
    return float(match.group()) if match else 0.0


def flag(value: Any) -> str:
    """Coerce ``Y``/``N``/``true``/``1``/``True`` and friends to ``"Y"`` or ``"N"``."""
    if isinstance(value, bool):
        return "Y" if value else "N"
    text = str(value).strip().upper()
    return "Y" if text in ("Y", "1", "TRUE", "ON", "YES") else "N"


def is_empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def to_date(clock: Clock, value: Any) -> str | None:
    """The calendar date (``YYYY-MM-DD``) a caller means by ``value``, or None.

    A date stays as given; a datetime at exactly midnight UTC is that UTC date (this is how the
    portal renders date-only fields, so a value read back is written back unchanged); any other
    datetime is taken in the portal's time zone.
    """
    if isinstance(value, str) and _ISO_DATE.match(value.strip()):
        return value.strip()
    moment = clock.parse(value)
    if moment is None:
        return None
    utc = moment.astimezone(UTC)
    if (utc.hour, utc.minute, utc.second) == (0, 0, 0):
        return utc.date().isoformat()
    return moment.date().isoformat()


def _normaliser(kind: str, clock: Clock) -> Normaliser:
    """A function mapping a stored or filter value to a comparable key (None when unreadable)."""
    if kind == "int":
        return lambda v: v if type(v) is int else php_int(v)
    if kind == "float":
        return lambda v: float(v) if type(v) in (int, float) else php_float(v)
    if kind == "flag":
        return flag
    if kind == "bool":
        return lambda v: 1 if php_int(v) else 0
    if kind == "datetime":
        suffix = clock.iso()[19:]

        def moment_key(value: Any) -> str | None:
            if isinstance(value, str):
                if len(value) == 19 + len(suffix) and value.endswith(suffix) and value[10] == "T":
                    return value[:19]
                if len(value) == 10 and _ISO_DATE.match(value):
                    return value + "T00:00:00"
            moment = clock.parse(value)
            return None if moment is None else moment.strftime("%Y-%m-%dT%H:%M:%S")

        return moment_key
    if kind == "date":
        return lambda v: v if type(v) is str and len(v) == 10 and v[4] == "-" else to_date(clock, v)
    return lambda v: str(v).casefold()


class Condition:
    """One filter entry, e.g. ``{">=DATE_CREATE": "2024-01-01"}``."""

    def __init__(self, field: FieldRef, op: str, value: Any, clock: Clock) -> None:
        self.field = field
        self.op = op
        self.raw = value
        self.clock = clock
        self.negate = op in _NEGATED
        self.kind = _POSITIVE.get(op, "=")
        self._norm = _normaliser("str" if field.kind == "multifield" else field.kind, clock)
        items = list(value.values()) if isinstance(value, Mapping) else value
        self.many = isinstance(items, list)
        listed = items if isinstance(items, list) else [items]
        if field.exact and self.kind in ("%", "=%"):
            self.kind = "="  # docs: LIKE on multifields and status/binding fields is an exact match
        if self.kind in ("%", "=%"):
            self.likes = [_like(self.kind, str(v)) for v in listed if v is not None]
        present = [v for v in listed if not (v is None or v == "")]
        self.values = [n for n in (self._norm(v) for v in present) if n is not None]
        self._lookup = frozenset(self.values)
        self.empty = not present and not self.many
        self.value = self.values[0] if self.values else None

    def key(self) -> tuple[Any, ...]:
        return (self.field.key, self.op, repr(self.raw))

    def stored(self, row: Row) -> list[Any]:
        raw = row.get(self.field.key)
        if raw is None or raw == "":
            return []
        if self.field.kind == "multifield":
            return [str(item.get("VALUE", "")).casefold() for item in raw if isinstance(item, dict)]
        norm = self._norm
        if isinstance(raw, list):
            return [n for n in (norm(v) for v in raw if v is not None and v != "") if n is not None]
        found = norm(raw)
        return [] if found is None else [found]

    def matches(self, row: Row) -> bool:
        return self._positive(self.stored(row)) != self.negate

    def _positive(self, stored: list[Any]) -> bool:
        kind = self.kind
        if kind == "=":
            if self.empty:
                return not stored
            lookup = self._lookup
            return any(item in lookup for item in stored)
        if kind in ("%", "=%"):
            texts = [str(item).casefold() for item in stored]
            return any(like(text) for like in self.likes for text in texts)
        if kind == "><":
            if len(self.values) < 2:
                return False
            low, high = self.values[0], self.values[1]
            return any(_compare(">=", i, low) and _compare("<=", i, high) for i in stored)
        target = self.value
        if target is None:
            return False
        return any(_compare(kind, item, target) for item in stored)


def _like(kind: str, pattern: str) -> Callable[[str], bool]:
    """``%``: substring anywhere; ``=%``: SQL LIKE with ``%`` and ``_`` wildcards. Case-insensitive."""
    text = pattern.casefold()
    if kind == "%":
        return lambda value: text in value
    parts = [".*" if c == "%" else "." if c == "_" else re.escape(c) for c in text]
    compiled = re.compile("".join(parts) + r"\Z", re.S)
    return lambda value: compiled.match(value) is not None


def _compare(op: str, left: Any, right: Any) -> bool:
    try:
        if op == ">":
            return bool(left > right)
        if op == ">=":
            return bool(left >= right)
        if op == "<":
            return bool(left < right)
        return bool(left <= right)
    except TypeError:
        return False


class Group:
    """A nested filter group (``{"logic": "OR", "0": {...}, "1": {...}}``), crm.item style."""

    def __init__(self, members: list[Condition | Group], logic: str) -> None:
        self.members = members
        self.any = logic.upper() == "OR"

    def key(self) -> tuple[Any, ...]:
        return ("group", self.any, tuple(m.key() for m in self.members))

    def matches(self, row: Row) -> bool:
        if not self.members:
            return True
        if self.any:
            return any(m.matches(row) for m in self.members)
        return all(m.matches(row) for m in self.members)
