"""Pure list paging: per-method shapes, the chained ID-window batch, and page extraction.

The ID window (docs: settings/performance/huge-data.md): order by ID, filter ``>ID`` from the
last ID seen, ``start=-1`` so the portal skips the COUNT. Fifty such pages go into one batch,
each page's filter referring to the previous page's last row (``$result[p0][49][ID]``), so one
request reads 2,500 rows. The first page of a scan runs with ``start=0`` to learn ``total``,
which sizes the later batches exactly.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from ._batch import Chunk, Command
from ._wire import find_key

PAGE = 50
BATCH = 50


@dataclass(frozen=True, slots=True)
class Shape:
    """How a list method names its ID and wraps its rows.

    ``id_field``: the ID in ``filter``/``order``; ``row_key``: the ID in the rows; ``wrapper``:
    the key holding the rows (``{"items": [...]}``); ``sort``: ``"order"`` (an ``order``
    object) or ``"top"`` (top-level ``SORT``/``ORDER``, as ``user.get``); ``filter_top``: the
    filter keys sit at the top level (``department.get``).
    """

    id_field: str = "ID"
    row_key: str = "ID"
    wrapper: str | None = None
    sort: str = "order"
    filter_top: bool = False


SHAPES: dict[str, Shape] = {
    "crm.item.list": Shape("id", "id", "items"),
    "crm.type.list": Shape("id", "id", "types"),
    "crm.automatedsolution.list": Shape("id", "id", "automatedSolutions"),
    "crm.stagehistory.list": Shape(wrapper="items"),
    "tasks.task.list": Shape("ID", "id", "tasks"),
    "user.get": Shape(sort="top"),
    "department.get": Shape(sort="top", filter_top=True),
}

# Methods that cannot be paged by an ID window (no ID order or no >ID filter): start/next.
# fast-bitrix24 keeps the same list for its "order" handling (issues #151, #196, #199, #260).
OFFSET_ONLY = frozenset(
    {
        "crm.address.list",
        "crm.requisite.link.list",
        "documentgenerator.template.list",
        "userfieldconfig.list",
        "voximplant.statistic.get",
        "task.elapseditem.getlist",
        "crm.category.list",
        "crm.status.list",
        "crm.currency.list",
        "crm.timeline.comment.list",
        "entity.item.get",
        "lists.element.get",
        "crm.productrow.list",
        "crm.item.productrow.list",
    }
)
_USERFIELD_LIST = re.compile(r"\.userfield\.list$")
_MANAGED = ("start", "order", "sort")


@dataclass(frozen=True, slots=True)
class Plan:
    """How to stream one list: ``mode`` is ``"window"`` or ``"offset"``."""

    method: str
    mode: str
    shape: Shape
    params: dict[str, Any]


def plan(method: str, params: Mapping[str, Any] | None) -> Plan:
    """Choose the ID window where the method and the params allow it, else start/next."""
    name = method.strip().lower()
    base = dict(params or {})
    shape = SHAPES.get(name, Shape())
    if name in OFFSET_ONLY or _USERFIELD_LIST.search(name) or not _id_ordered(base, shape):
        return Plan(name, "offset", shape, base)
    for key in _MANAGED:
        found = find_key(base, key)
        if found is not None:
            del base[found]
    if shape.sort == "top":
        for key in ("SORT", "ORDER"):
            found = find_key(base, key)
            if found is not None:
                del base[found]
    return Plan(name, "window", shape, _with_id_selected(base, shape))


def _id_ordered(params: Mapping[str, Any], shape: Shape) -> bool:
    """No ``start`` and no order other than the ID ascending."""
    if find_key(params, "start") is not None:
        return False
    if shape.sort == "top":
        sort = params.get(find_key(params, "SORT") or "", None)
        order = params.get(find_key(params, "ORDER") or "", "ASC")
        return sort in (None, "") or (
            str(sort).upper() == shape.id_field.upper() and str(order).upper() == "ASC"
        )
    order = params.get(find_key(params, "order") or "", None)
    if not order:
        return True
    if not isinstance(order, Mapping) or len(order) != 1:
        return False
    ((field, direction),) = order.items()
    return str(field).upper() == shape.id_field.upper() and str(direction).upper() == "ASC"


def _with_id_selected(params: dict[str, Any], shape: Shape) -> dict[str, Any]:
    key = find_key(params, "select")
    select = params.get(key) if key else None
    wanted = shape.id_field.upper()
    if (
        isinstance(select, list | tuple)
        and select
        and "*" not in select
        and not any(str(s).upper() == wanted for s in select)
    ):
        params[key or "select"] = [*select, shape.id_field]
    return params


def window_params(plan: Plan, after: str | int | None, *, count: bool) -> dict[str, Any]:
    """One window page: the base params, ``>ID`` after ``after``, ID order, ``start``."""
    shape = plan.shape
    params = dict(plan.params)
    if after is not None:
        if shape.filter_top:
            params[f">{shape.id_field}"] = after
        else:
            key = find_key(params, "filter") or "filter"
            current = params.get(key)
            merged = dict(current) if isinstance(current, Mapping) else {}
            merged.pop(f">{shape.id_field}", None)
            merged[f">{shape.id_field}"] = after
            params[key] = merged
    if shape.sort == "top":
        params["SORT"], params["ORDER"] = shape.id_field, "ASC"
    else:
        params["order"] = {shape.id_field: "ASC"}
    params["start"] = 0 if count else -1
    return params


def reference(label: str, shape: Shape) -> str:
    """The batch reference to the last row's ID of page ``label``."""
    wrapper = f"[{shape.wrapper}]" if shape.wrapper else ""
    return f"$result[{label}]{wrapper}[{PAGE - 1}][{shape.row_key}]"


def window_chunk(plan: Plan, after: int | None, pages: int, *, count: bool) -> Chunk:
    """``pages`` chained window pages; the first starts after ``after`` (with ``count``: start=0)."""
    items: list[tuple[str, str, Command]] = []
    for i in range(pages):
        label = f"p{i}"
        bound: str | int | None = after if i == 0 else reference(f"p{i - 1}", plan.shape)
        params = window_params(plan, bound, count=count and i == 0)
        items.append((label, label, Command(plan.method, params, idempotent=True)))
    return Chunk(tuple(items))


def pages_needed(total: int | None, seen: int) -> tuple[int, bool]:
    """How many pages the next batch holds, and whether one of them is a probe past ``total``
    (to notice rows added since the count)."""
    if total is None:
        return BATCH, False
    needed = max(0, math.ceil((total - seen) / PAGE))
    if needed >= BATCH:
        return BATCH, False
    return needed + 1, True


def offset_chunk(plan: Plan, starts: list[int]) -> Chunk:
    """One batch of plain pages at the given ``start`` offsets."""
    items = []
    for start in starts:
        label = f"o{start}"
        items.append((label, label, Command(plan.method, offset_params(plan, start), idempotent=True)))
    return Chunk(tuple(items))


def offset_params(plan: Plan, start: int) -> dict[str, Any]:
    params = dict(plan.params)
    params[find_key(params, "start") or "start"] = start
    if plan.method not in OFFSET_ONLY and find_key(params, "order") is None and plan.shape.sort == "order":
        params["order"] = {plan.shape.id_field: "ASC"}
    return params


def rows_of(result: Any, shape: Shape) -> tuple[list[dict[str, Any]], Shape] | None:
    """The rows of a list result, and the shape corrected by what the result looks like."""
    if isinstance(result, list):
        return result, replace(shape, wrapper=None) if shape.wrapper else shape
    if not isinstance(result, Mapping):
        return None
    if shape.wrapper and isinstance(result.get(shape.wrapper), list):
        return result[shape.wrapper], shape
    lists = [k for k, v in result.items() if isinstance(v, list)]
    if len(lists) == 1:
        return result[lists[0]], replace(shape, wrapper=lists[0])
    if not result:
        return [], shape
    return None


def row_id(row: Mapping[str, Any], shape: Shape) -> tuple[int, Shape] | None:
    """A row's numeric ID, and the shape with the row key corrected (``ID`` vs ``id``)."""
    for key in (shape.row_key, shape.id_field, "ID", "id"):
        value = row.get(key)
        if value is not None:
            try:
                return int(value), shape if key == shape.row_key else replace(shape, row_key=key)
            except (TypeError, ValueError):
                return None
    return None
