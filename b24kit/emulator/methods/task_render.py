"""How ``tasks.task.*`` shows a task: camelCase names, string values, computed extras.

``tasks.task.get`` adds what a portal computes for the viewer (``creator``, ``responsible``,
``auditorsData``, ``action``, ``checkListTree``); ``tasks.task.list`` without ``select`` sends the
stored fields only. ``ufCrmTask``, ``ufTaskWebdavFiles`` and ``ufMailMessage`` appear only when one
of them is selected, and then all three do.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from b24kit.emulator.methods.task_fields import INT_FIELDS, STANDARD, SYSTEM_UF, camel
from b24kit.emulator.methods.task_records import (
    AWAITING_CONTROL,
    COMPLETED,
    DEFERRED,
    IN_PROGRESS,
    PENDING,
    can_act,
    can_edit,
    is_director,
)
from b24kit.emulator.registry import Ctx

_ACTIONS = (
    "accept",
    "decline",
    "complete",
    "approve",
    "disapprove",
    "start",
    "pause",
    "delegate",
    "remove",
    "edit",
    "defer",
    "renew",
    "create",
    "changeDeadline",
    "checklistAddItems",
    "addFavorite",
    "deleteFavorite",
    "rate",
    "take",
    "edit.originator",
    "checklist.reorder",
    "elapsedtime.add",
    "dayplan.timer.toggle",
    "edit.plan",
    "checklist.add",
    "favorite.add",
    "favorite.delete",
)
AVATAR = "/bitrix/images/tasks/default_avatar.png"


# -- rendering --------------------------------------------------------------------------------


def person(ctx: Ctx, user_id: int) -> dict[str, Any]:
    user = ctx.portal.table("users").get(int(user_id or 0)) or {}
    name = f"{user.get('NAME', '')} {user.get('LAST_NAME', '')}".strip()
    return {
        "id": str(user_id),
        "name": name,
        "link": f"/company/personal/user/{user_id}/",
        "icon": AVATAR,
        "workPosition": user.get("WORK_POSITION", ""),
    }


def _wire(name: str, value: Any) -> Any:
    if value is None:
        return None
    if name in ("AUDITORS", "ACCOMPLICES"):
        return [str(v) for v in value]
    if name in ("UF_CRM_TASK",):
        return list(value)
    if name == "UF_TASK_WEBDAV_FILES":
        return [int(v) for v in value]
    if name in INT_FIELDS or name in ("SORTING",):
        return str(value)
    return value


def _people(ctx: Ctx, ids: list[int]) -> Any:
    return {str(u): person(ctx, u) for u in ids} if ids else []  # PHP: an empty map is []


def group(ctx: Ctx, group_id: int) -> Any:
    found = ctx.portal.table("sonet_groups").get(int(group_id or 0))
    if found is None:
        return []
    return {
        "id": str(found["ID"]),
        "name": found["NAME"],
        "opened": found.get("OPENED") == "Y",
        "membersCount": len(found.get("MEMBERS", [])) or 1,
        "image": "",
        "additionalData": [],
    }


def actions(ctx: Ctx, row: Mapping[str, Any]) -> dict[str, bool]:
    status = row["STATUS"]
    act = can_act(ctx, row)
    edit = can_edit(ctx, row)
    director = is_director(ctx, row)
    allowed = {
        "complete": act and status in (PENDING, IN_PROGRESS, DEFERRED),
        "approve": director and status == AWAITING_CONTROL,
        "disapprove": director and status == AWAITING_CONTROL,
        "start": act and status in (PENDING, DEFERRED),
        "pause": act and status == IN_PROGRESS,
        "delegate": edit,
        "remove": director,
        "edit": edit,
        "defer": act and status in (PENDING, IN_PROGRESS),
        "renew": act and status in (AWAITING_CONTROL, COMPLETED, DEFERRED),
        "create": True,
        "changeDeadline": edit,
        "checklistAddItems": edit,
        "addFavorite": row.get("FAVORITE") != "Y",
        "deleteFavorite": row.get("FAVORITE") == "Y",
        "rate": director,
        "edit.originator": False,
        "checklist.reorder": edit,
        "elapsedtime.add": act,
        "edit.plan": edit,
        "checklist.add": edit,
        "favorite.add": row.get("FAVORITE") != "Y",
        "favorite.delete": row.get("FAVORITE") == "Y",
    }
    return {name: bool(allowed.get(name, False)) for name in _ACTIONS}


def _checklist_tree(ctx: Ctx) -> dict[str, Any]:
    return {
        "nodeId": 0,
        "fields": {
            "id": None,
            "copiedId": None,
            "entityId": None,
            "userId": ctx.caller.user_id,
            "createdBy": None,
            "parentId": None,
            "title": "",
            "sortIndex": None,
            "displaySortIndex": "",
            "isComplete": False,
            "isImportant": False,
            "completedCount": 0,
            "members": [],
            "attachments": [],
        },
        "action": [],
        "descendants": [],
    }


def selection(select: list[Any] | None) -> tuple[list[str], bool]:
    """(standard fields to show, whether the three system UFs are shown)."""
    if not select:
        return list(STANDARD), False
    wanted = {str(s).strip().upper() for s in select}
    fields = list(STANDARD) if "*" in wanted else [n for n in STANDARD if n in wanted]
    if "ID" not in fields and "*" not in wanted and wanted & set(STANDARD):
        fields.insert(0, "ID")
    return fields, bool(wanted & set(SYSTEM_UF))


def render(
    ctx: Ctx, row: Mapping[str, Any], select: list[Any] | None = None, *, full: bool = True
) -> dict[str, Any]:
    """A task in camelCase with string values; ``full`` adds what ``tasks.task.get`` computes."""
    fields, with_uf = selection(select)
    result: dict[str, Any] = {}
    for name in fields:
        value = row.get(name)
        if name == "SUBORDINATE":
            value = "Y" if ctx.portal.is_admin(ctx.caller.user_id) else "N"
        result[camel(name)] = _wire(name, value)
    if "TAGS" in {str(s).upper() for s in select or []}:
        result["tags"] = tags(ctx, row.get("TAGS") or [])
    if with_uf:
        for name in SYSTEM_UF:
            value = row.get(name)
            result[camel(name)] = _wire(name, value) if value is not None else None
    chosen = set(fields)
    derived = full or bool(select)  # a list without select sends the stored fields only
    if full:
        result["checklist"] = []
    if derived:
        result["group"] = group(ctx, row.get("GROUP_ID") or 0)
        for base, key, value in (
            ("CREATED_BY", "creator", lambda: person(ctx, row["CREATED_BY"])),
            ("RESPONSIBLE_ID", "responsible", lambda: person(ctx, row["RESPONSIBLE_ID"])),
            ("ACCOMPLICES", "accomplicesData", lambda: _people(ctx, row.get("ACCOMPLICES") or [])),
            ("AUDITORS", "auditorsData", lambda: _people(ctx, row.get("AUDITORS") or [])),
        ):
            if base in chosen:
                result[key] = value()
    if full:
        result.update(
            newCommentsCount=0,
            action=actions(ctx, row),
            checkListTree=_checklist_tree(ctx),
            checkListCanAdd=True,
        )
    elif select and "STATUS" in chosen:
        result["subStatus"] = str(sub_status(ctx, row))
    return result


def tags(ctx: Ctx, titles: list[str]) -> Any:
    table = ctx.portal.table("task_tags")
    found: dict[str, Any] = {}
    for title in titles:
        hit = table.lookup("title", title)
        tag_id = hit[0] if hit is not None else table.insert({"title": title})
        found[str(tag_id)] = {"id": tag_id, "title": title}
    return found or []


def sub_status(ctx: Ctx, row: Mapping[str, Any]) -> int:
    """``subStatus``: -1 overdue, -3 almost overdue (a day left), else the real status."""
    status = int(row["STATUS"])
    deadline = ctx.portal.clock.parse(row.get("DEADLINE"))
    if deadline is not None and status in (PENDING, IN_PROGRESS):
        left = (deadline - ctx.portal.clock.now()).total_seconds()
        if left < 0:
            return -1
        if left < 86400:
            return -3
    return status
