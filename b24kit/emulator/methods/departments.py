"""``department.*``: the company structure, one tree under a single top-level department.

Rows in ``departments`` are ``{"ID", "NAME", "SORT", "PARENT", "UF_HEAD"}`` with int ids
(``PARENT``/``UF_HEAD`` ``None`` when unset); ``department.get`` sends ``ID``, ``PARENT`` and
``UF_HEAD`` as strings and ``SORT`` as a number, as the docs' example shows.
"""

from __future__ import annotations

from typing import Any

from b24kit.emulator import seed
from b24kit.emulator.errors import error_core
from b24kit.emulator.query import FieldRef, compile_query, paginate, php_int
from b24kit.emulator.registry import Ctx, Listing, Params, method

FIELDS = {
    "ID": "ID",
    "NAME": "Department Name",
    "SORT": "Sort Order",
    "PARENT": "Parent Department",
    "UF_HEAD": "Manager",
}
_KINDS = {"ID": "int", "NAME": "str", "SORT": "int", "PARENT": "int", "UF_HEAD": "int"}
NO_NAME = "Department name not provided.<br>"
ONE_TOP = "There can only be one top-level department in the company structure"
NOT_FOUND = "Department not found"


def _resolve(name: str) -> FieldRef | None:
    upper = name.upper()
    return FieldRef(upper, _KINDS[upper]) if upper in _KINDS else None


def render(row: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = {"ID": str(row["ID"]), "NAME": row["NAME"], "SORT": int(row["SORT"])}
    if row.get("PARENT"):
        result["PARENT"] = str(row["PARENT"])
    if row.get("UF_HEAD"):
        result["UF_HEAD"] = str(row["UF_HEAD"])
    return result


@method("department.get", scope="department")
def department_get(ctx: Ctx, p: Params) -> Listing:
    """Filters are top-level keys (``ID``, ``NAME``, ``SORT``, ``PARENT``, ``UF_HEAD``).

    ``SORT`` names the sort field when it is a field name, else it filters by sort index.
    """
    filter_: dict[str, Any] = {}
    order: dict[str, str] = {}
    for key, value in p.items():
        _, name = _split(key)
        if name == "SORT" and isinstance(value, str) and value.upper() in _KINDS:
            order[value.upper()] = str(p.get("order") or "ASC")
        elif name in _KINDS:
            filter_[key.upper()] = value
    portal = ctx.portal
    query = compile_query(filter_, order or {"ID": "ASC"}, _resolve, portal.clock)
    page = paginate(portal.table("departments"), query, p.get("start"), portal.cache)
    return Listing([render(row) for row in page.rows], page.total, page.next)


def _split(key: str) -> tuple[str, str]:
    upper = key.upper()
    stripped = upper.lstrip("=!<>@%")
    return upper[: len(upper) - len(stripped)], stripped


def _require_editor(ctx: Ctx) -> None:
    if not ctx.portal.is_admin(ctx.caller.user_id):
        raise error_core("Access denied")


def _parent(ctx: Ctx, raw: Any, moving: int | None = None) -> int:
    """A valid parent id: an existing department that is not ``moving`` or below it."""
    parent = php_int(raw) if not isinstance(raw, dict | list) else 0
    table = ctx.portal.table("departments")
    if parent <= 0 or table.get(parent) is None:
        raise error_core(ONE_TOP)
    node: int | None = parent
    while node is not None and moving is not None:
        if node == moving:
            raise error_core(ONE_TOP)
        row = table.get(node)
        node = row.get("PARENT") if row else None
    return parent


def _name(raw: Any) -> str:
    if raw is None or isinstance(raw, dict | list) or not str(raw).strip():
        raise error_core(NO_NAME)
    return str(raw).strip()


def _user(raw: Any) -> int | None:
    head = php_int(raw) if raw not in (None, "") and not isinstance(raw, dict | list) else 0
    return head or None


@method("department.add", scope="department")
def department_add(ctx: Ctx, p: Params) -> int:
    _require_editor(ctx)
    name = _name(p.get("name"))
    table = ctx.portal.table("departments")
    has_top = any(not row.get("PARENT") for row in table)
    top = p.get("parent") in (None, "", 0, "0") and not has_top
    parent = None if top else _parent(ctx, p.get("parent"))
    sort = php_int(p.get("sort")) if p.get("sort") not in (None, "") else 500
    return seed.add_department(ctx.portal, name, parent, _user(p.get("uf_head")), sort=sort)


def _existing(ctx: Ctx, raw: Any) -> dict[str, Any]:
    dep_id = php_int(raw) if not isinstance(raw, dict | list) else 0
    row = ctx.portal.table("departments").get(dep_id) if dep_id > 0 else None
    if row is None:
        raise error_core(NOT_FOUND)
    return row


@method("department.update", scope="department")
def department_update(ctx: Ctx, p: Params) -> bool:
    _require_editor(ctx)
    row = dict(_existing(ctx, p.get("id")))
    if "name" in p:
        row["NAME"] = _name(p.get("name"))
    if "sort" in p:
        row["SORT"] = php_int(p.get("sort"))
    if "parent" in p and row.get("PARENT"):
        row["PARENT"] = _parent(ctx, p.get("parent"), moving=int(row["ID"]))
    elif "parent" in p and php_int(p.get("parent")) > 0:
        raise error_core(ONE_TOP)  # the top-level department cannot be moved under another
    if "uf_head" in p:
        row["UF_HEAD"] = _user(p.get("uf_head"))
    ctx.portal.table("departments").save(int(row["ID"]), row)
    return True


@method("department.delete", scope="department")
def department_delete(ctx: Ctx, p: Params) -> bool:
    """Deletes the department and, as an iblock section delete does, its sub-departments."""
    _require_editor(ctx)
    row = _existing(ctx, p.get("id"))
    table = ctx.portal.table("departments")
    doomed = [int(row["ID"])]
    for dep_id in doomed:
        doomed.extend(int(r["ID"]) for r in table if r.get("PARENT") == dep_id)
    for dep_id in doomed:
        table.delete(dep_id)
    return True


@method("department.fields", scope="department")
def department_fields(ctx: Ctx, p: Params) -> dict[str, str]:
    return dict(FIELDS)
