"""List queries: filter operators, ordering and the 50-row pages of Bitrix24 list methods."""

from __future__ import annotations

import bisect
import re
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC
from typing import Any

from .clock import Clock
from .errors import RestError
from .store import Row, Table

PAGE_SIZE = 50
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


class Query:
    """A compiled filter and order over one table (``conditions`` may be extended after compiling)."""

    def __init__(
        self,
        conditions: list[Condition | Group],
        order: list[tuple[FieldRef, bool]],
        id_key: str = "ID",
    ) -> None:
        self.conditions = conditions
        self.order = order
        self.id_key = id_key

    def key(self) -> tuple[Any, ...]:
        return (
            tuple(c.key() for c in self.conditions),
            tuple((f.key, desc) for f, desc in self.order),
        )

    def matches(self, row: Row) -> bool:
        return all(c.matches(row) for c in self.conditions)

    def id_bounds(self) -> tuple[int, int | None]:
        """Exclusive id bounds implied by top-level ``>ID``/``>=ID``/``<ID``/``<=ID``/``=ID``."""
        low, high = 0, None
        for cond in self.conditions:
            if not isinstance(cond, Condition) or cond.field.key != self.id_key or cond.many:
                continue
            if not isinstance(cond.value, int):
                continue
            value = cond.value
            if cond.op in (">", ">=", "", "="):
                low = max(low, value - (0 if cond.op == ">" else 1))
            if cond.op in ("<", "<=", "", "="):
                top = value + (0 if cond.op == "<" else 1)
                high = top if high is None else min(high, top)
        return low, high

    def id_lower_bound(self) -> int:
        return self.id_bounds()[0]

    def ordered_by_id(self) -> bool | None:
        """``False`` for ascending by id (or no order), ``True`` for descending, else ``None``."""
        if not self.order:
            return False
        if self.order[0][0].key == self.id_key:
            return self.order[0][1]
        return None


def compile_query(
    filter_: Any,
    order: Any,
    resolve: Resolver,
    clock: Clock,
    *,
    strict: bool = False,
    groups: bool = False,
    id_key: str = "ID",
) -> Query:
    """Build a :class:`Query`; unknown fields are skipped, or refused when ``strict``.

    With ``groups`` (crm.item), a numbered key holding an object is a nested group whose
    ``logic`` is ``AND`` (default) or ``OR``; a top-level ``logic`` applies to the whole filter.
    """
    conditions = _conditions(filter_, resolve, clock, strict=strict, groups=groups)
    if groups and isinstance(filter_, Mapping) and _logic(filter_) == "OR":
        conditions = [Group(conditions, "OR")]
    return Query(conditions, _order(order, resolve, strict=strict), id_key)


def _order(order: Any, resolve: Resolver, *, strict: bool) -> list[tuple[FieldRef, bool]]:
    sort: list[tuple[FieldRef, bool]] = []
    for raw_key, direction in _items(order):
        field = resolve(str(raw_key))
        text = str(direction).strip().upper()
        if strict and field is None:
            raise RestError(
                400, "INVALID_ARG_VALUE", f"Invalid order: field '{raw_key}' is not allowed in order"
            )
        if strict and text not in ("ASC", "DESC"):
            raise RestError(
                400,
                "INVALID_ARG_VALUE",
                f"Invalid order: allowed sort directions are ASC, DESC. But got '{direction}'"
                f" for field '{raw_key}'",
            )
        if field is not None:
            sort.append((field, text == "DESC"))
    return sort


def _logic(value: Mapping[str, Any]) -> str:
    for key, item in value.items():
        if str(key).lower() == "logic":
            return str(item).upper()
    return "AND"


def _conditions(
    filter_: Any, resolve: Resolver, clock: Clock, *, strict: bool, groups: bool, depth: int = 0
) -> list[Condition | Group]:
    conditions: list[Condition | Group] = []
    for raw_key, value in _items(filter_):
        key = str(raw_key)
        if key.lower() == "logic":
            continue
        if groups and isinstance(value, Mapping) and (key.isdigit() or key == "") and depth < 8:
            members = _conditions(value, resolve, clock, strict=strict, groups=True, depth=depth + 1)
            conditions.append(Group(members, _logic(value)))
            continue
        op, name = split_operator(key)
        field = resolve(name)
        if field is None:
            if strict:
                raise RestError(
                    400, "INVALID_ARG_VALUE", f"Invalid filter: field '{name}' is not allowed in filter"
                )
            continue
        conditions.append(Condition(field, op, value, clock))
    return conditions


def _items(value: Any) -> Iterable[tuple[Any, Any]]:
    if isinstance(value, Mapping):
        return value.items()
    return ()


@dataclass
class Page:
    """One page of a list method: the rows and the ``total``/``next`` envelope fields."""

    rows: list[Row]
    total: int
    next: int | None


class QueryCache:
    """Remembers the ordered matching ids of recent queries until their table changes."""

    def __init__(self, size: int = 64) -> None:
        self._entries: OrderedDict[tuple[Any, ...], list[int]] = OrderedDict()
        self._size = size

    def get(self, key: tuple[Any, ...]) -> list[int] | None:
        ids = self._entries.get(key)
        if ids is not None:
            self._entries.move_to_end(key)
        return ids

    def put(self, key: tuple[Any, ...], ids: list[int]) -> None:
        self._entries[key] = ids
        if len(self._entries) > self._size:
            self._entries.popitem(last=False)


def page_start(start: Any) -> int:
    """``start`` as list methods read it: -1 (any negative) for no count, else a multiple of 50."""
    number = php_int(start) if start not in (None, "") else 0
    if number < 0:
        return -1
    return number - number % PAGE_SIZE


def paginate(table: Table, query: Query, start: Any, cache: QueryCache) -> Page:
    """Run a query the way list methods do: 50 rows from ``start``; ``start=-1`` skips the count."""
    first = page_start(start)
    if first < 0:
        return Page(_window(table, query, cache), 0, None)
    ids = matching_ids(table, query, cache)
    page = ids[first : first + PAGE_SIZE]
    more = first + PAGE_SIZE < len(ids)
    return Page([table.rows[i] for i in page], len(ids), first + PAGE_SIZE if more else None)


def _candidates(table: Table, query: Query) -> list[int]:
    ids = table.sorted_ids()
    low, high = query.id_bounds()
    lo = bisect.bisect_right(ids, low) if low > 0 else 0
    hi = len(ids) if high is None else bisect.bisect_left(ids, high)
    return ids[lo:hi] if (lo, hi) != (0, len(ids)) else ids


def matching_ids(table: Table, query: Query, cache: QueryCache) -> list[int]:
    """Every matching id in the query's order (cached until the table changes)."""
    key = (table.name, table.version, query.key())
    ids = cache.get(key)
    if ids is None:
        rows = table.rows
        ids = [i for i in _candidates(table, query) if query.matches(rows[i])]
        ids = _sort(ids, rows, query)
        cache.put(key, ids)
    return ids


def _window(table: Table, query: Query, cache: QueryCache) -> list[Row]:
    """``start=-1``: no COUNT; ordered by ID, scan from the window edge and stop after 50."""
    descending = query.ordered_by_id()
    rows = table.rows
    if descending is None:
        return [rows[i] for i in matching_ids(table, query, cache)[:PAGE_SIZE]]
    candidates = _candidates(table, query)
    found: list[Row] = []
    matches = query.matches
    for row_id in reversed(candidates) if descending else candidates:
        row = rows[row_id]
        if matches(row):
            found.append(row)
            if len(found) == PAGE_SIZE:
                break
    return found


def _sort(ids: list[int], rows: dict[int, Row], query: Query) -> list[int]:
    """Stable multi-key sort; ties keep ascending id, empty values sort first (as MySQL does)."""
    if not query.order:
        return ids
    result = sorted(ids)
    for field, desc in reversed(query.order):
        key, kind = field.key, field.kind

        def sort_key(row_id: int, key: str = key, kind: str = kind) -> tuple[int, Any]:
            return _sort_key(rows[row_id].get(key), kind)

        result.sort(key=sort_key, reverse=desc)
    return result


def _sort_key(value: Any, kind: str) -> tuple[int, Any]:
    if isinstance(value, list):
        value = value[0] if value else None
    if value is None or value == "":
        return (0, 0)
    if kind in ("int", "bool"):
        return (1, php_int(value))
    if kind == "float":
        return (1, php_float(value))
    if kind == "multifield":
        return (1, str(value.get("VALUE", "")).casefold() if isinstance(value, dict) else str(value))
    return (1, str(value).casefold())
