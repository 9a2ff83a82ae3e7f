"""List queries: compiled filters and order, and the 50-row pages of Bitrix24 list methods."""

from __future__ import annotations

import bisect
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .clock import Clock
from .conditions import (
    Condition,
    FieldRef,
    Group,
    Resolver,
    flag,
    is_empty,
    php_float,
    php_int,
    split_operator,
    to_date,
)
from .errors import RestError
from .store import Row, Table

__all__ = [
    "PAGE_SIZE",
    "Condition",
    "FieldRef",
    "Group",
    "Page",
    "Query",
    "QueryCache",
    "Resolver",
    "compile_query",
    "flag",
    "is_empty",
    "matching_ids",
    "page_start",
    "paginate",
    "php_float",
    "php_int",
    "split_operator",
    "to_date",
]

PAGE_SIZE = 50


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
        if groups and isinstance(value, Mapping) and (key.isdecimal() or key == "") and depth < 8:
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
