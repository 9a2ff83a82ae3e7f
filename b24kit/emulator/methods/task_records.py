"""Tasks as stored (UPPER names, native types) and as ``tasks.task.*`` shows them (camelCase strings).

Also the write rules shared by add, update and the status actions: validation with the portal's
``ERROR_CORE`` texts (joined by ``<br>`` as the portal joins them), access checks, and the
``ONTASK*`` events with the documented ``FIELDS_BEFORE``/``FIELDS_AFTER`` payloads.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from b24kit.emulator import events
from b24kit.emulator.errors import RestError, error_core
from b24kit.emulator.methods.task_fields import STANDARD
from b24kit.emulator.query import flag, php_int
from b24kit.emulator.registry import Ctx

Row = dict[str, Any]
PENDING, IN_PROGRESS, AWAITING_CONTROL, COMPLETED, DEFERRED = 2, 3, 4, 5, 6
_TEXT = ("TITLE", "DESCRIPTION", "XML_ID", "SITE_ID", "DURATION_TYPE")
_PLAIN_INT = ("TIME_ESTIMATE", "DURATION_PLAN", "STAGE_ID", "FLOW_ID")
_USER_LISTS = ("ACCOMPLICES", "AUDITORS")
_EDITABLE_FLAGS = (
    "ALLOW_CHANGE_DEADLINE",
    "TASK_CONTROL",
    "ALLOW_TIME_TRACKING",
    "ADD_IN_REPORT",
    "MATCH_WORK_TIME",
    "DESCRIPTION_IN_BBCODE",
    "REPLICATE",
)


def not_allowed(code: str = "0", suffix: str = "") -> RestError:
    return RestError(400, code, "Action on the task is not allowed" + suffix)


def task_id(raw: Any) -> int:
    """``taskId`` as the task methods check it: missing -> ``100``, not a positive int -> ``0``."""
    if raw is None:
        raise RestError(
            400,
            "100",
            "CTaskItem All parameters in the constructor must have real class type (internal error)",
        )
    text = str(raw).strip() if isinstance(raw, int | str) and not isinstance(raw, bool) else ""
    if not (text.isascii() and text.isdecimal()) or int(text) <= 0:
        raise RestError(400, "0", "wrong task id")
    return int(text)


# -- access ---------------------------------------------------------------------------------


def members(row: Mapping[str, Any]) -> set[int]:
    return {row["CREATED_BY"], row["RESPONSIBLE_ID"], *row.get("ACCOMPLICES", []), *row.get("AUDITORS", [])}


def can_read(ctx: Ctx, row: Mapping[str, Any]) -> bool:
    return ctx.portal.is_admin(ctx.caller.user_id) or ctx.caller.user_id in members(row)


def can_edit(ctx: Ctx, row: Mapping[str, Any]) -> bool:
    user = ctx.caller.user_id
    return ctx.portal.is_admin(user) or user in (row["CREATED_BY"], row["RESPONSIBLE_ID"])


def can_act(ctx: Ctx, row: Mapping[str, Any]) -> bool:
    """Start, pause, complete, defer, renew: admin, creator, responsible person, participants."""
    return can_edit(ctx, row) or ctx.caller.user_id in row.get("ACCOMPLICES", [])


def is_director(ctx: Ctx, row: Mapping[str, Any]) -> bool:
    return ctx.portal.is_admin(ctx.caller.user_id) or ctx.caller.user_id == row["CREATED_BY"]


# -- writing --------------------------------------------------------------------------------


def _ids(raw: Any) -> list[int]:
    items = list(raw.values()) if isinstance(raw, Mapping) else raw if isinstance(raw, list) else [raw]
    return [php_int(v) for v in items if v not in (None, "") and php_int(v) > 0]


def _strings(raw: Any) -> list[str]:
    if isinstance(raw, str):
        return [t.strip() for t in raw.split(",") if t.strip()]
    items = list(raw.values()) if isinstance(raw, Mapping) else raw if isinstance(raw, list) else [raw]
    return [str(v).strip() for v in items if v not in (None, "") and not isinstance(v, dict | list)]


def _user_exists(ctx: Ctx, user_id: int) -> bool:
    return user_id > 0 and ctx.portal.table("users").get(user_id) is not None


def prepare(ctx: Ctx, fields: Mapping[str, Any], current: Row | None) -> Row:
    """Validated values of ``fields`` (exact UPPER names; other keys are ignored, as CTasks does)."""
    values: Row = {}
    errors: list[str] = []
    for name, raw in fields.items():
        if name in _TEXT:
            values[name] = "" if raw is None else raw if isinstance(raw, str) else _scalar_text(name, raw)
        elif name in ("CREATED_BY", "RESPONSIBLE_ID", "PARENT_ID", "GROUP_ID", *_PLAIN_INT):
            values[name] = php_int(raw) if not isinstance(raw, dict | list) else 0
        elif name == "PRIORITY":
            values[name] = php_int(raw) if str(raw).strip() in ("0", "1", "2") else 1
        elif name in _USER_LISTS:
            values[name] = list(dict.fromkeys(_ids(raw)))
        elif name in ("TAGS", "UF_CRM_TASK"):
            values[name] = _strings(raw)
        elif name == "UF_TASK_WEBDAV_FILES":
            values[name] = [php_int(s.lstrip("nN")) for s in _strings(raw)]
        elif name in _EDITABLE_FLAGS:
            values[name] = flag(raw)
        elif name in ("DEADLINE", "START_DATE_PLAN", "END_DATE_PLAN"):
            values[name] = _date(ctx, name, raw, errors)
        elif name == "STATUS":
            status = php_int(raw) if not isinstance(raw, dict | list) else 0
            if status not in (1, PENDING, IN_PROGRESS, AWAITING_CONTROL, COMPLETED, DEFERRED):
                errors.append("Incorrect status")
            values[name] = max(status, PENDING)
        elif name == "MARK":
            values[name] = raw if raw in ("N", "P") else None
        elif name == "SE_PARAMETER":
            values[name] = raw if isinstance(raw, list) else []
    merged = {**(current or {}), **values}
    errors[:0] = _check(ctx, merged, current)
    if errors:
        raise error_core("".join(f"{e}<br>" for e in errors))
    return values


def _scalar_text(name: str, raw: Any) -> str:
    if isinstance(raw, dict | list):
        raise error_core(f'Field "{name}" must be a string<br>')
    return str(raw)


def _date(ctx: Ctx, name: str, raw: Any, errors: list[str]) -> str | None:
    if raw in (None, ""):
        return None
    value = ctx.portal.clock.to_portal_iso(raw) if not isinstance(raw, dict | list) else None
    if value is None:
        errors.append(f'Incorrect value of the "{name}" field')
    return value


def _check(ctx: Ctx, merged: Row, current: Row | None) -> list[str]:
    errors: list[str] = []
    if not str(merged.get("TITLE") or "").strip():
        errors.append("Task title is not specified")
    responsible = merged.get("RESPONSIBLE_ID")
    if not responsible:
        errors.append("Responsible person not specified")
    elif not _user_exists(ctx, int(responsible)):
        errors.append('User specified in the "Responsible" field not found')
    if merged.get("CREATED_BY") and not _user_exists(ctx, int(merged["CREATED_BY"])):
        errors.append('User specified in the "Creator" field not found')
    errors.extend(_check_parent(ctx, merged, current))
    clock = ctx.portal.clock
    start, end = clock.parse(merged.get("START_DATE_PLAN")), clock.parse(merged.get("END_DATE_PLAN"))
    if start is not None and end is not None and end < start:
        errors.append("The end date in scheduling is earlier than the start date")
    return errors


def _check_parent(ctx: Ctx, merged: Row, current: Row | None) -> list[str]:
    parent = merged.get("PARENT_ID")
    if not parent:
        return []
    tasks = ctx.portal.table("tasks")
    if tasks.get(int(parent)) is None:
        return ['Task specified in the "Parent Task" field not found']
    if current is None:
        return []
    if int(parent) == current["ID"]:
        return ["Cannot bind the node to itself"]
    node: Any = parent
    while node:
        if node == current["ID"]:
            return ["Creating cyclic links in tasks is prohibited"]
        node = (tasks.get(int(node)) or {}).get("PARENT_ID")
    return []


def _defaults(ctx: Ctx) -> Row:
    now = ctx.portal.clock.iso()
    row: Row = dict.fromkeys(STANDARD)
    row.update(
        TITLE="",
        DESCRIPTION="",
        PRIORITY=1,
        MULTITASK="N",
        NOT_VIEWED="N",
        REPLICATE="N",
        STAGE_ID=0,
        CREATED_BY=ctx.caller.user_id,
        CREATED_DATE=now,
        CHANGED_BY=ctx.caller.user_id,
        CHANGED_DATE=now,
        ACTIVITY_DATE=now,
        GUID="{" + str(uuid.uuid4()) + "}",
        ALLOW_CHANGE_DEADLINE="N",
        ALLOW_TIME_TRACKING="N",
        TASK_CONTROL="N",
        ADD_IN_REPORT="N",
        TIME_ESTIMATE=0,
        MATCH_WORK_TIME="N",
        SITE_ID="s1",
        OUTLOOK_VERSION=1,
        IS_MUTED="N",
        IS_PINNED="N",
        IS_PINNED_IN_GROUP="N",
        DESCRIPTION_IN_BBCODE="Y",
        STATUS=PENDING,
        STATUS_CHANGED_DATE=now,
        DURATION_TYPE="days",
        FAVORITE="N",
        GROUP_ID=0,
        AUDITORS=[],
        ACCOMPLICES=[],
        TAGS=[],
        UF_CRM_TASK=[],
        UF_TASK_WEBDAV_FILES=[],
        UF_MAIL_MESSAGE=None,
    )
    return row


def _derive(ctx: Ctx, row: Row) -> None:
    """Helper columns for the sort keys that need a join on a real portal."""
    users = ctx.portal.table("users")
    for column, key in (
        ("_CREATED_BY_LAST_NAME", "CREATED_BY"),
        ("_RESPONSIBLE_LAST_NAME", "RESPONSIBLE_ID"),
    ):
        row[column] = (users.get(int(row[key] or 0)) or {}).get("LAST_NAME", "")
    row["_STATUS_COMPLETE"] = 2 if row["STATUS"] == COMPLETED else 1


def create(ctx: Ctx, fields: Mapping[str, Any]) -> Row:
    values = prepare(ctx, fields, None)
    row = _defaults(ctx)
    row.update(values)
    row["STATUS"] = values.get("STATUS", PENDING)
    _derive(ctx, row)
    table = ctx.portal.table("tasks")
    row_id = table.insert(row)
    row["ID"] = row_id
    table.save(row_id, row)
    _touch_parent(ctx, row)
    emit(ctx, "ONTASKADD", row_id)
    return row


def save(ctx: Ctx, row: Row, values: Mapping[str, Any]) -> Row:
    """Apply validated ``values`` to ``row``, stamp the change and fire ``ONTASKUPDATE``."""
    new = {**row, **values}
    now = ctx.portal.clock.iso()
    new.update(CHANGED_BY=ctx.caller.user_id, CHANGED_DATE=now, ACTIVITY_DATE=now)
    if new["STATUS"] != row["STATUS"]:
        new.update(STATUS_CHANGED_BY=ctx.caller.user_id, STATUS_CHANGED_DATE=now)
        closed = new["STATUS"] == COMPLETED
        new.update(CLOSED_BY=ctx.caller.user_id if closed else 0, CLOSED_DATE=now if closed else None)
        if new["STATUS"] == IN_PROGRESS and not new.get("DATE_START"):
            new["DATE_START"] = now
    _derive(ctx, new)
    ctx.portal.table("tasks").save(int(row["ID"]), new)
    _touch_parent(ctx, new)
    emit(ctx, "ONTASKUPDATE", int(row["ID"]))
    return new


def _touch_parent(ctx: Ctx, row: Row) -> None:
    parent = ctx.portal.table("tasks").get(int(row.get("PARENT_ID") or 0))
    if parent is not None and parent["MULTITASK"] != "Y":
        parent["MULTITASK"] = "Y"
        ctx.portal.table("tasks").save(int(parent["ID"]), parent)


def delete(ctx: Ctx, row: Row) -> None:
    task = int(row["ID"])
    ctx.portal.table("tasks").delete(task)
    links = ctx.portal.table("task_dependencies")
    for link_id in [rid for rid, link in links.rows.items() if task in (link["FROM"], link["TO"])]:
        links.delete(link_id)
    emit(ctx, "ONTASKDELETE", task)


def emit(ctx: Ctx, name: str, task: int) -> None:
    """The documented payloads: a missing side is the literal string ``"undefined"``."""
    fields = {"ID": task}
    data = {
        "ONTASKADD": {
            "FIELDS_BEFORE": "undefined",
            "FIELDS_AFTER": fields,
            "IS_ACCESSIBLE_BEFORE": "N",
            "IS_ACCESSIBLE_AFTER": "undefined",
        },
        "ONTASKUPDATE": {
            "FIELDS_BEFORE": fields,
            "FIELDS_AFTER": fields,
            "IS_ACCESSIBLE_BEFORE": "undefined",
            "IS_ACCESSIBLE_AFTER": "undefined",
        },
        "ONTASKDELETE": {
            "FIELDS_BEFORE": fields,
            "FIELDS_AFTER": "undefined",
            "IS_ACCESSIBLE_BEFORE": "undefined",
            "IS_ACCESSIBLE_AFTER": "N",
        },
    }[name]
    events.emit(ctx, name, data, object_key=f"TASK_{task}")
