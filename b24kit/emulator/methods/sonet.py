"""``sonet_group.*``: workgroups and projects; errors carry an empty code, as the docs show.

Rows in ``sonet_groups`` keep int ids and ``Y``/``N`` flags; ``sonet_group.get`` sends every
value as a string (``"ID": "77"``, ``"NUMBER_OF_MEMBERS": "12"``), ``null`` where unset.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from b24kit.emulator.errors import legacy_error
from b24kit.emulator.query import (
    Condition,
    FieldRef,
    Group,
    Query,
    compile_query,
    flag,
    paginate,
    php_int,
)
from b24kit.emulator.registry import Ctx, Listing, Params, method

_KINDS = {
    "ID": "int",
    "NAME": "str",
    "OWNER_ID": "int",
    "ACTIVE": "flag",
    "VISIBLE": "flag",
    "OPENED": "flag",
    "CLOSED": "flag",
    "DATE_CREATE": "datetime",
    "DATE_UPDATE": "datetime",
    "DATE_ACTIVITY": "datetime",
    "IS_EXTRANET": "flag",
    "PROJECT": "flag",
    "SUBJECT_ID": "int",
}
_SHOWN = (
    "ID",
    "SITE_ID",
    "NAME",
    "DESCRIPTION",
    "DATE_CREATE",
    "DATE_UPDATE",
    "ACTIVE",
    "VISIBLE",
    "OPENED",
    "CLOSED",
    "SUBJECT_ID",
    "OWNER_ID",
    "KEYWORDS",
    "NUMBER_OF_MEMBERS",
    "DATE_ACTIVITY",
    "SUBJECT_NAME",
    "PROJECT",
    "IS_EXTRANET",
)
_TEXT = ("NAME", "DESCRIPTION", "KEYWORDS")
_FLAGS = ("VISIBLE", "OPENED", "CLOSED", "PROJECT")
_DATES = ("PROJECT_DATE_START", "PROJECT_DATE_FINISH")
SUBJECT_NAME = "Workgroups"


def render(row: Mapping[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for name in _SHOWN:
        if name == "NUMBER_OF_MEMBERS":
            value: Any = len(row.get("MEMBERS") or [])
        elif name == "SUBJECT_NAME":
            value = SUBJECT_NAME
        else:
            value = row.get(name)
        result[name] = None if value is None else str(value)
    return result


def _values(ctx: Ctx, p: Params) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name in (*_TEXT, *_FLAGS, *_DATES, "INITIATE_PERMS", "OWNER_ID", "SCRUM_MASTER_ID", "SUBJECT_ID"):
        if name.lower() not in p:
            continue
        raw = p.get(name.lower())
        if isinstance(raw, dict | list):
            raise legacy_error("Incorrect input data")
        if name in _TEXT:
            values[name] = str(raw) if raw not in (None, "") else None
        elif name in _FLAGS:
            values[name] = flag(raw)
        elif name in _DATES:
            values[name] = ctx.portal.clock.to_portal_iso(raw)
        elif name == "INITIATE_PERMS":
            values[name] = str(raw).upper() if str(raw).upper() in ("A", "E", "K") else "K"
        else:
            values[name] = php_int(raw) or None
    return values


@method("sonet_group.create", scope="sonet_group")
def group_create(ctx: Ctx, p: Params) -> int:
    portal = ctx.portal
    caller = ctx.caller.user_id
    user = portal.table("users").get(caller) or {}
    if user.get("USER_TYPE") == "extranet":
        raise legacy_error("You have no permissions to create a group")
    values = _values(ctx, p)
    if not (values.get("NAME") or "").strip():
        raise legacy_error("Cannot create group")
    requested = values.pop("OWNER_ID", None)
    owner = requested if portal.is_admin(caller) else None  # docs: only administrators choose the owner
    if owner is not None and portal.table("users").get(owner) is None:
        raise legacy_error("Cannot create group")
    owner = owner or caller
    now = portal.clock.iso()
    row: dict[str, Any] = {
        "SITE_ID": "s1",
        "NAME": "",
        "DESCRIPTION": None,
        "DATE_CREATE": now,
        "DATE_UPDATE": now,
        "ACTIVE": "Y",
        "VISIBLE": "Y",
        "OPENED": "N",
        "CLOSED": "N",
        "SUBJECT_ID": 1,
        "KEYWORDS": None,
        "DATE_ACTIVITY": now,
        "PROJECT": "N",
        "IS_EXTRANET": "N",
        "INITIATE_PERMS": "K",
        "PROJECT_DATE_START": None,
        "PROJECT_DATE_FINISH": None,
        "SCRUM_MASTER_ID": None,
    }
    row.update(values)
    row.update(OWNER_ID=owner, MEMBERS=[owner])
    table = portal.table("sonet_groups")
    group_id = table.insert(row)
    row["ID"] = group_id
    table.save(group_id, row)
    return group_id


def _special(key: str, value: Any, clock: Any) -> list[Condition | Group] | None:
    """``><`` (between) and ``!><`` (outside), and ``?`` (string search) are sonet-only operators."""
    upper = key.upper()
    for prefix in ("!><", "><", "?"):
        if upper.startswith(prefix):
            name = upper[len(prefix) :]
            if name not in _KINDS:
                return []
            field = FieldRef(name, _KINDS[name])
            if prefix == "?":
                return [Condition(field, "%", value, clock)]
            bounds = list(value.values()) if isinstance(value, Mapping) else value
            if not isinstance(bounds, list) or len(bounds) != 2:
                return []
            if prefix == "><":
                return [Condition(field, ">=", bounds[0], clock), Condition(field, "<=", bounds[1], clock)]
            return [
                Group(
                    [Condition(field, "<", bounds[0], clock), Condition(field, ">", bounds[1], clock)], "OR"
                )
            ]
    return None


@method("sonet_group.get", scope="sonet_group")
def group_get(ctx: Ctx, p: Params) -> Listing:
    portal = ctx.portal
    clock = portal.clock
    plain: dict[str, Any] = {}
    extra: list[Condition | Group] = []
    for key, value in p.mapping("filter").items():
        special = _special(str(key), value, clock)
        if special is None:
            plain[str(key).upper()] = value
        else:
            extra.extend(special)
    if p.get("group_id") not in (None, ""):
        plain["ID"] = p.get("group_id")
    order = {str(k).upper(): v for k, v in p.mapping("order").items()} or {"ID": "DESC"}

    def resolve(name: str) -> FieldRef | None:
        return FieldRef(name, _KINDS[name]) if name in _KINDS else None

    query = compile_query(plain, order, resolve, clock)
    conditions = query.conditions + extra
    if not portal.is_admin(ctx.caller.user_id):
        user = ctx.caller.user_id
        conditions.append(
            Group(
                [
                    Condition(FieldRef("VISIBLE", "flag"), "", "Y", clock),
                    Condition(FieldRef("MEMBERS", "int"), "", user, clock),
                ],
                "OR",
            )
        )
    page = paginate(
        portal.table("sonet_groups"), Query(conditions, query.order), p.get("start"), portal.cache
    )
    return Listing([render(row) for row in page.rows], page.total, page.next)


def _group(ctx: Ctx, p: Params, verb: str) -> dict[str, Any]:
    raw = p.get("group_id")
    group_id = php_int(raw) if not isinstance(raw, dict | list) else 0
    if group_id <= 0:
        raise legacy_error("Wrong group ID")
    row = ctx.portal.table("sonet_groups").get(group_id)
    if row is None:
        raise legacy_error("Wrong group ID" if verb == "update" else "Socialnetwork group not found")
    if not ctx.portal.is_admin(ctx.caller.user_id) and row["OWNER_ID"] != ctx.caller.user_id:
        raise legacy_error(f"User has no permissions to {verb} group")
    return row


@method("sonet_group.update", scope="sonet_group")
def group_update(ctx: Ctx, p: Params) -> int:
    row = dict(_group(ctx, p, "update"))
    values = _values(ctx, p)
    if "NAME" in values and not (values["NAME"] or "").strip():
        raise legacy_error("Cannot update group")
    owner = values.pop("OWNER_ID", None)
    if owner is not None:
        if ctx.portal.table("users").get(owner) is None:
            raise legacy_error("Cannot update group")
        row["OWNER_ID"] = owner
        row["MEMBERS"] = sorted({*row.get("MEMBERS", []), owner})
    row.update(values)
    row["DATE_UPDATE"] = ctx.portal.clock.iso()
    ctx.portal.table("sonet_groups").save(int(row["ID"]), row)
    return int(row["ID"])


@method("sonet_group.delete", scope="sonet_group")
def group_delete(ctx: Ctx, p: Params) -> bool:
    row = _group(ctx, p, "delete")
    ctx.portal.table("sonet_groups").delete(int(row["ID"]))
    return True
