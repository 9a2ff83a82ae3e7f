"""List queries: filter operators, ordering and the 50-row pages of Bitrix24 list methods."""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .clock import Clock
from .errors import RestError
from .store import Row, Table

PAGE_SIZE = 50
# Longest operators first, so "!=%" wins over "!=" and "!".
_OPERATORS = ("!=%", "!%=", ">=", "<=", "!@", "!=", "=%", "%=", "!%", "%", "=", "!", ">", "<", "@")
_INT_PREFIX = re.compile(r"^\s*[+-]?\d+")
_FLOAT_PREFIX = re.compile(r"^\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


@dataclass(frozen=True)
class FieldRef:
    """How to read and compare one field: its storage key and its kind.

    Kinds: ``int``, ``float``, ``str``, ``datetime``, ``flag`` (Y/N), ``bool`` (1/0 UF),
    ``multifield`` (PHONE/EMAIL lists of dicts).
    """

    key: str
    kind: str = "str"


Resolver = Callable[[str], FieldRef | None]


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


class Condition:
    """One filter entry, e.g. ``{">=DATE_CREATE": "2024-01-01"}``."""

    def __init__(self, field: FieldRef, op: str, value: Any, clock: Clock) -> None:
        self.field = field
        self.op = op
        self.clock = clock
        self.raw = value
        values = list(value.values()) if isinstance(value, Mapping) else value
        self.values = [self._coerce(v) for v in values] if isinstance(values, list) else None
        self.value = None if isinstance(values, list) else self._coerce(values)
        if op in ("%", "!%", "=%", "%=", "!=%", "!%="):
            pattern = str(value)
            if op in ("%", "!%"):
                self.like = re.compile(re.escape(pattern.casefold()), re.S)
            else:
                parts = [".*" if c == "%" else "." if c == "_" else re.escape(c) for c in pattern.casefold()]
                self.like = re.compile("^" + "".join(parts) + "$", re.S)

    def key(self) -> tuple[Any, ...]:
        return (self.field.key, self.op, repr(self.raw))

    def _coerce(self, value: Any) -> Any:
        kind = self.field.kind
        if value is None or (isinstance(value, str) and value == "" and kind != "str"):
            return None
        if kind == "int":
            return php_int(value)
        if kind == "float":
            return php_float(value)
        if kind == "datetime":
            return self.clock.to_portal_iso(value) or str(value)
        if kind == "flag":
            return flag(value)
        if kind == "bool":
            return 1 if flag(value) == "Y" else 0
        return str(value).casefold()

    def _stored(self, row: Row) -> list[Any]:
        raw = row.get(self.field.key)
        if self.field.kind == "multifield":
            items = raw or []
            return [str(item.get("VALUE", "")).casefold() for item in items]
        items = raw if isinstance(raw, list) else [raw]
        return [self._coerce(v) for v in items if v is not None and v != ""]

    def matches(self, row: Row) -> bool:
        stored = self._stored(row)
        op = self.op
        if op in ("", "=", "@"):
            return self._equals(stored)
        if op in ("!", "!=", "!@"):
            return not self._equals(stored)
        if op in (">", ">=", "<", "<="):
            target = self.values[0] if self.values else self.value
            if target is None:
                return False
            return any(_compare(op, item, target) for item in stored if item is not None)
        text = [str(item).casefold() for item in stored]
        hit = any(self.like.search(t) if op in ("%", "!%") else self.like.match(t) for t in text)
        return not hit if op.startswith("!") else hit

    def _equals(self, stored: list[Any]) -> bool:
        if self.values is not None:
            return any(item in self.values for item in stored)
        if self.value is None or self.value == "":
            return not stored
        return self.value in stored


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
    """A compiled filter and order over one table."""

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

    def id_lower_bound(self) -> int:
        bound = 0
        for cond in self.conditions:
            if not isinstance(cond, Condition):
                continue
            if cond.field.key != self.id_key or cond.value is None:
                continue
            if cond.op == ">":
                bound = max(bound, int(cond.value))
            elif cond.op == ">=":
                bound = max(bound, int(cond.value) - 1)
        return bound

    def ordered_by_id(self) -> bool | None:
        """``False`` for ascending by id (or no order), ``True`` for descending, else ``None``."""
        if not self.order:
            return False
        if len(self.order) == 1 and self.order[0][0].key == self.id_key:
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
    ``logic`` is ``AND`` (default) or ``OR``.
    """
    conditions = _conditions(filter_, resolve, clock, strict=strict, groups=groups)
    sort: list[tuple[FieldRef, bool]] = []
    for raw_key, direction in _items(order):
        field = resolve(str(raw_key))
        if field is None:
            if strict:
                raise RestError(
                    400, "INVALID_ARG_VALUE", f"Invalid order: field '{raw_key}' is not allowed"
                )
            continue
        sort.append((field, str(direction).strip().upper() == "DESC"))
    return Query(conditions, sort, id_key)


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
            conditions.append(Group(members, str(value.get("logic", "AND"))))
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


def paginate(table: Table, query: Query, start: Any, cache: QueryCache) -> Page:
    """Run a query the way list methods do: 50 rows from ``start``; ``start=-1`` skips the count."""
    start_int = php_int(start) if start not in (None, "") else 0
    if start_int < 0:
        return Page(_window(table, query), 0, None)
    start_int -= start_int % PAGE_SIZE
    ids = matching_ids(table, query, cache)
    page = ids[start_int : start_int + PAGE_SIZE]
    more = start_int + PAGE_SIZE < len(ids)
    return Page([table.rows[i] for i in page], len(ids), start_int + PAGE_SIZE if more else None)


def matching_ids(table: Table, query: Query, cache: QueryCache) -> list[int]:
    key = (table.name, table.version, query.key())
    ids = cache.get(key)
    if ids is None:
        rows = table.rows
        ids = [i for i in table.ids_after(query.id_lower_bound()) if query.matches(rows[i])]
        ids = _sort(ids, rows, query)
        cache.put(key, ids)
    return ids


def _window(table: Table, query: Query) -> list[Row]:
    """``start=-1``: no COUNT; stop after 50 matches when the order allows it."""
    descending = query.ordered_by_id()
    rows = table.rows
    if descending is None:
        ids = [i for i in table.ids_after(query.id_lower_bound()) if query.matches(rows[i])]
        return [rows[i] for i in _sort(ids, rows, query)[:PAGE_SIZE]]
    candidates = table.ids_after(query.id_lower_bound())
    found: list[Row] = []
    for row_id in reversed(candidates) if descending else candidates:
        row = rows[row_id]
        if query.matches(row):
            found.append(row)
            if len(found) == PAGE_SIZE:
                break
    return found


def _sort(ids: list[int], rows: dict[int, Row], query: Query) -> list[int]:
    if not query.order:
        return ids
    result = sorted(ids)
    for field, desc in reversed(query.order):
        result.sort(key=lambda i, f=field: _sort_key(rows[i].get(f.key), f.kind), reverse=desc)
    return result


def _sort_key(value: Any, kind: str) -> tuple[int, Any]:
    if value is None or value == "":
        return (0, 0)
    if isinstance(value, list):
        value = value[0] if value else None
        if value is None:
            return (0, 0)
    if kind == "int":
        return (1, php_int(value))
    if kind == "float":
        return (1, php_float(value))
    if kind == "multifield":
        return (1, str(value.get("VALUE", "")) if isinstance(value, dict) else str(value))
    return (1, str(value).casefold())
