"""``tasks.task.*`` and ``task.dependence.*``: tasks with UPPER input and camelCase string output.

Status actions move ``status`` (2 pending, 3 in progress, 4 awaiting control, 5 completed,
6 deferred). ``tasks.task.complete`` on a task with ``TASK_CONTROL=Y`` completed by someone other
than its creator (or an administrator) moves it to 4, awaiting control, and the creator then
approves it (``tasks.task.approve``, 4 -> 5) or sends it back (``tasks.task.disapprove``, 4 -> 2).
The docs do not say this (reference §7.3: unverified); it is the documented meaning of "task
control", and the docs' ``complete`` example (creator completing, ``taskControl: "Y"``) ends at 5.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from b24kit.emulator.errors import RestError
from b24kit.emulator.methods import task_records as records
from b24kit.emulator.methods.task_fields import FILTER_FIELDS, GET_FIELDS, ORDER_FIELDS, kind
from b24kit.emulator.methods.task_records import (
    AWAITING_CONTROL,
    COMPLETED,
    DEFERRED,
    IN_PROGRESS,
    PENDING,
)
from b24kit.emulator.methods.task_render import render
from b24kit.emulator.query import (
    Condition,
    FieldRef,
    Group,
    Query,
    compile_query,
    paginate,
    php_int,
    split_operator,
)
from b24kit.emulator.registry import Ctx, Listing, Params, method

NO_FIELDS = "Could not find value for parameter {fields} (internal error)"
BAD_SELECT = (
    "Invalid value {} to match with parameter {select}. Should be value of type array. (internal error)"
)
UPDATE_DENIED = " (internal error)"


def _fields(p: Params) -> dict[str, Any]:
    raw = p.get("fields")
    if not isinstance(raw, Mapping) or not raw:
        raise RestError(400, "100", NO_FIELDS)
    return {str(k): v for k, v in raw.items()}


def _task(ctx: Ctx, p: Params) -> dict[str, Any] | None:
    return ctx.portal.table("tasks").get(records.task_id(p.get("taskid")))


@method("tasks.task.add", scope="task")
def task_add(ctx: Ctx, p: Params) -> dict[str, Any]:
    row = records.create(ctx, _fields(p))
    return {"task": render(ctx, row)}


@method("tasks.task.get", scope="task")
def task_get(ctx: Ctx, p: Params) -> Any:
    """The task, or ``[]`` when it does not exist or the caller cannot see it (docs)."""
    row = _task(ctx, p)
    select = None
    if "select" in p:
        raw = p.get("select")
        if not isinstance(raw, list | Mapping) or not raw:
            raise RestError(400, "100", BAD_SELECT)
        select = p.items_list("select")
    if row is None or not records.can_read(ctx, row):
        return []
    return {"task": render(ctx, row, select)}


@method("tasks.task.update", scope="task")
def task_update(ctx: Ctx, p: Params) -> dict[str, Any]:
    row = _task(ctx, p)
    fields = _fields(p)
    if row is None or not records.can_edit(ctx, row):
        raise records.not_allowed("0", UPDATE_DENIED)
    values = records.prepare(ctx, fields, row)
    return {"task": render(ctx, records.save(ctx, row, values))}


@method("tasks.task.delete", scope="task")
def task_delete(ctx: Ctx, p: Params) -> dict[str, bool]:
    row = _task(ctx, p)
    if row is None or not records.is_director(ctx, row):
        raise RestError(400, "1048582", "No access to delete the task")
    records.delete(ctx, row)
    return {"task": True}


@method("tasks.task.getFields", scope="task")
def task_get_fields(ctx: Ctx, p: Params) -> dict[str, Any]:
    return {"fields": GET_FIELDS}


# -- status actions -------------------------------------------------------------------------


def _move(
    ctx: Ctx, p: Params, allowed: tuple[int, ...], target: int, code: str, *, director: bool = False
) -> Any:
    row = _task(ctx, p)
    permitted = row is not None and (records.is_director(ctx, row) if director else records.can_act(ctx, row))
    if row is None or not permitted or row["STATUS"] not in allowed:
        raise records.not_allowed(code)
    return {"task": render(ctx, records.save(ctx, row, {"STATUS": target}))}


@method("tasks.task.complete", scope="task")
def task_complete(ctx: Ctx, p: Params) -> Any:
    row = _task(ctx, p)
    controlled = row is not None and row.get("TASK_CONTROL") == "Y" and not records.is_director(ctx, row)
    target = AWAITING_CONTROL if controlled else COMPLETED
    return _move(ctx, p, (PENDING, IN_PROGRESS, DEFERRED), target, "0")


@method("tasks.task.start", scope="task")
def task_start(ctx: Ctx, p: Params) -> Any:
    return _move(ctx, p, (PENDING, DEFERRED), IN_PROGRESS, "0")


@method("tasks.task.pause", scope="task")
def task_pause(ctx: Ctx, p: Params) -> Any:
    return _move(ctx, p, (IN_PROGRESS,), PENDING, "1048582")


@method("tasks.task.defer", scope="task")
def task_defer(ctx: Ctx, p: Params) -> Any:
    return _move(ctx, p, (PENDING, IN_PROGRESS), DEFERRED, "1048582")


@method("tasks.task.renew", scope="task")
def task_renew(ctx: Ctx, p: Params) -> Any:
    return _move(ctx, p, (AWAITING_CONTROL, COMPLETED, DEFERRED), PENDING, "1048582")


@method("tasks.task.approve", scope="task")
def task_approve(ctx: Ctx, p: Params) -> Any:
    return _move(ctx, p, (AWAITING_CONTROL,), COMPLETED, "1048582", director=True)


@method("tasks.task.disapprove", scope="task")
def task_disapprove(ctx: Ctx, p: Params) -> Any:
    return _move(ctx, p, (AWAITING_CONTROL,), PENDING, "1048582", director=True)


# -- list -----------------------------------------------------------------------------------


def _resolve(name: str) -> FieldRef | None:
    stored = FILTER_FIELDS.get(name)
    return None if stored is None else FieldRef(stored, kind(stored))


def _order(raw: Mapping[str, Any]) -> list[tuple[FieldRef, bool]]:
    order: list[tuple[FieldRef, bool]] = []
    for key, direction in (raw or {"ID": "desc"}).items():
        stored = ORDER_FIELDS.get(str(key).upper())
        if stored is None:
            raise RestError(400, "0", "Invalid sorting key (internal error)")
        order.append(
            (
                FieldRef(stored, "int" if stored.startswith("_STATUS") else kind(stored)),
                str(direction).strip().lower() == "desc",
            )
        )
    return order


def _special(ctx: Ctx, key: str, value: Any) -> list[Condition | Group] | None:
    """Filter keys that are not plain comparisons, or ``None`` for an ordinary key."""
    op, name = split_operator(key)
    clock = ctx.portal.clock
    if name == "TITLE":
        like = "!=%" if op in ("!", "!=") else "=%" if op in ("", "=") else op
        return [Condition(FieldRef("TITLE"), like, value, clock)]
    if name == "STATUS" and op in ("", "="):
        values = (
            list(value.values())
            if isinstance(value, Mapping)
            else value
            if isinstance(value, list)
            else [value]
        )
        return [Group([_status(ctx, php_int(v)) for v in values], "OR")]
    if name == "STATUS":
        return [Condition(FieldRef("STATUS", "int"), op, value, clock)]
    if name == "DEPENDS_ON":
        wanted = {php_int(v) for v in (value if isinstance(value, list) else [value])}
        links = ctx.portal.table("task_dependencies")
        ids = [link["TO"] for link in links if link["FROM"] in wanted] or [0]
        return [Condition(FieldRef("ID", "int"), "@", ids, clock)]
    if name == "ONLY_ROOT_TASKS":
        root = str(value).upper() == "Y"
        return [Condition(FieldRef("PARENT_ID", "int"), "" if root else "!", "", clock)]
    if name.startswith("::"):
        return []
    return None


def _status(ctx: Ctx, value: int) -> Condition | Group:
    """``STATUS`` (sub-status) values: the real status, or -1 overdue, -2 unviewed, -3 almost overdue."""
    clock = ctx.portal.clock
    status = FieldRef("STATUS", "int")
    deadline = FieldRef("DEADLINE", "datetime")
    open_ = Condition(status, "@", [PENDING, IN_PROGRESS], clock)
    now = clock.now()
    if value == -1:
        return Group([open_, Condition(deadline, "<", now.isoformat(), clock)], "AND")
    if value == -3:
        soon = (now + timedelta(days=1)).isoformat()
        return Group(
            [open_, Condition(deadline, ">=", now.isoformat(), clock), Condition(deadline, "<", soon, clock)],
            "AND",
        )
    if value == -2:
        return Condition(FieldRef("NOT_VIEWED", "flag"), "", "Y", clock)
    return Condition(status, "", value, clock)


def _visible_to(ctx: Ctx) -> Group:
    user = ctx.caller.user_id
    clock = ctx.portal.clock
    return Group(
        [
            Condition(FieldRef(name, "int"), "", user, clock)
            for name in ("CREATED_BY", "RESPONSIBLE_ID", "ACCOMPLICES", "AUDITORS")
        ],
        "OR",
    )


@method("tasks.task.list", scope="task")
def task_list(ctx: Ctx, p: Params) -> Listing:
    plain: dict[str, Any] = {}
    conditions: list[Condition | Group] = []
    for key, value in p.mapping("filter").items():
        special = _special(ctx, str(key).upper(), value)
        if special is None:
            plain[str(key).upper()] = value
        else:
            conditions.extend(special)
    compiled = compile_query(plain, {}, _resolve, ctx.portal.clock)
    conditions = compiled.conditions + conditions
    if not ctx.portal.is_admin(ctx.caller.user_id):
        conditions.append(_visible_to(ctx))
    query = Query(conditions, _order(p.mapping("order")))
    page = paginate(ctx.portal.table("tasks"), query, p.get("start"), ctx.portal.cache)
    select = p.items_list("select")
    rows = [render(ctx, row, select, full=False) for row in page.rows]
    return Listing({"tasks": rows}, page.total, page.next)


# -- dependencies ---------------------------------------------------------------------------


def _link_ends(ctx: Ctx, p: Params, verb: str) -> tuple[int, int]:
    tasks = ctx.portal.table("tasks")
    source, target = php_int(p.get("taskidfrom")), php_int(p.get("taskidto"))
    rows = [tasks.get(source) if source > 0 else None, tasks.get(target) if target > 0 else None]
    if source == target or any(r is None or not records.can_edit(ctx, r) for r in rows):
        raise RestError(400, "ACTION_NOT_ALLOWED", f"Unable to {verb} a link between tasks")
    return source, target


def _find_link(ctx: Ctx, source: int, target: int) -> int | None:
    links = ctx.portal.table("task_dependencies")
    return next(
        (rid for rid, link in links.rows.items() if (link["FROM"], link["TO"]) == (source, target)), None
    )


@method("task.dependence.add", scope="task")
def dependence_add(ctx: Ctx, p: Params) -> list[Any]:
    """``taskIdTo`` depends on ``taskIdFrom``; ``linkType`` 0 start-start .. 3 finish-finish."""
    source, target = _link_ends(ctx, p, "add")
    link_type = p.get("linktype")
    if str(link_type).strip() not in ("0", "1", "2", "3"):
        raise RestError(400, "ACTION_NOT_ALLOWED", "Unable to add a link between tasks")
    if _find_link(ctx, source, target) is not None or _find_link(ctx, target, source) is not None:
        raise RestError(400, "ILLEGAL_NEW_LINK", "A link between tasks already exists")
    ctx.portal.table("task_dependencies").insert({"FROM": source, "TO": target, "TYPE": php_int(link_type)})
    return []


@method("task.dependence.delete", scope="task")
def dependence_delete(ctx: Ctx, p: Params) -> list[Any]:
    source, target = _link_ends(ctx, p, "delete")
    link_id = _find_link(ctx, source, target)
    if link_id is None:
        raise RestError(400, "ILLEGAL_NEW_LINK", "The dependency between tasks does not exist")
    ctx.portal.table("task_dependencies").delete(link_id)
    return []
