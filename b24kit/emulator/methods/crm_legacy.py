"""The legacy CRM methods: ``crm.{deal,contact,company,lead}.*`` and their user fields."""

from __future__ import annotations

from functools import partial
from typing import Any

from ..crm import records, render, userfields
from ..crm.entities import BY_LEGACY, EntityType
from ..errors import legacy_error
from ..query import compile_query, paginate, php_int
from ..registry import Ctx, Listing, Params, add_method


def _add(entity: EntityType, ctx: Ctx, p: Params) -> int:
    fields = p.mapping("fields")
    if "fields" not in p:
        raise legacy_error("Parameter 'fields' must be array.")
    return records.create(ctx, entity, fields, camel=False)


def _get(entity: EntityType, ctx: Ctx, p: Params) -> dict[str, Any]:
    row = records.require_row(ctx.portal, entity, p.get("id"), legacy=True)
    return render.legacy_row(ctx.portal, entity, row, None)


def _update(entity: EntityType, ctx: Ctx, p: Params) -> bool:
    records.require_row(ctx.portal, entity, p.get("id"), legacy=True)
    records.update(ctx, entity, p.get("id"), p.mapping("fields"), camel=False)
    return True


def _delete(entity: EntityType, ctx: Ctx, p: Params) -> bool:
    records.delete(ctx, entity, p.get("id"), legacy=True)
    return True


def _list(entity: EntityType, ctx: Ctx, p: Params) -> Listing:
    portal = ctx.portal
    query = compile_query(
        p.mapping("filter"), p.mapping("order"), render.legacy_resolver(portal, entity), portal.clock
    )
    page = paginate(portal.table(entity.table), query, p.get("start"), portal.cache)
    select = p.items_list("select")
    rows = [render.legacy_row(portal, entity, row, select) for row in page.rows]
    return Listing(rows, page.total, page.next)


def _fields(entity: EntityType, ctx: Ctx, p: Params) -> dict[str, Any]:
    return render.describe_fields(ctx.portal, entity, item=False)


def _uf_add(entity: EntityType, ctx: Ctx, p: Params) -> int:
    return userfields.add_userfield(ctx.portal, entity, p.mapping("fields"))


def _uf_list(entity: EntityType, ctx: Ctx, p: Params) -> Listing:
    rows = userfields.uf_rows(ctx.portal, entity)
    wanted = p.mapping("filter")
    if wanted:
        rows = [
            r for r in rows
            if all(str(r.get(str(k).upper().lstrip("=")) or "") == str(v) for k, v in wanted.items())
        ]
    rendered = [userfields.render_userfield(int(r["ID"]), r) for r in rows]
    return Listing(rendered, len(rendered))


def _uf_get(entity: EntityType, ctx: Ctx, p: Params) -> dict[str, Any]:
    row = userfields.require_uf(ctx.portal, entity, p.get("id"))
    return userfields.render_userfield(int(row["ID"]), row)


def _uf_update(entity: EntityType, ctx: Ctx, p: Params) -> bool:
    userfields.update_userfield(ctx.portal, entity, php_int(p.get("id")), p.mapping("fields"))
    return True


def _uf_delete(entity: EntityType, ctx: Ctx, p: Params) -> bool:
    row = userfields.require_uf(ctx.portal, entity, p.get("id"))
    ctx.portal.table("userfields").delete(int(row["ID"]))
    return True


for _legacy, _entity in BY_LEGACY.items():
    for _verb, _handler in {
        "add": _add, "get": _get, "update": _update, "delete": _delete, "list": _list,
        "fields": _fields, "userfield.add": _uf_add, "userfield.list": _uf_list,
        "userfield.get": _uf_get, "userfield.update": _uf_update, "userfield.delete": _uf_delete,
    }.items():
        add_method(f"crm.{_legacy}.{_verb}", partial(_handler, _entity), scope="crm")
