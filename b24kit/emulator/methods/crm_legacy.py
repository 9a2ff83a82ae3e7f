"""The legacy CRM methods: ``crm.{deal,contact,company,lead}.*`` and their user fields."""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import Any

from b24kit.emulator.crm import records, render, ufschema, userfields
from b24kit.emulator.crm.entities import BY_LEGACY, EntityType
from b24kit.emulator.errors import legacy_error
from b24kit.emulator.query import compile_query, paginate
from b24kit.emulator.registry import Ctx, Listing, Params, add_method


def _fields(p: Params) -> dict[str, Any]:
    """``fields`` must be an object: "Parameter 'fields' must be array." otherwise (docs)."""
    value = p.get("fields")
    if not isinstance(value, Mapping) and not (isinstance(value, list) and not value):
        raise legacy_error("Parameter 'fields' must be array.")
    p.mapping("params")
    return dict(value) if isinstance(value, Mapping) else {}


def _add(entity: EntityType, ctx: Ctx, p: Params) -> int:
    return records.create(ctx, entity, _fields(p), camel=False)


def _get(entity: EntityType, ctx: Ctx, p: Params) -> dict[str, Any]:
    row = records.require_row(ctx.portal, entity, p.get("id"), legacy=True)
    return render.legacy_row(ctx.portal, entity, row, None)


def _update(entity: EntityType, ctx: Ctx, p: Params) -> bool:
    records.require_row(ctx.portal, entity, p.get("id"), legacy=True, verb="update")
    records.update(ctx, entity, p.get("id"), _fields(p), camel=False)
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
    plan = render.legacy_plan(portal, entity, p.items_list("select"))
    return Listing([plan.apply(row) for row in page.rows], page.total, page.next)


def _describe(entity: EntityType, ctx: Ctx, p: Params) -> dict[str, Any]:
    return render.describe_fields(ctx.portal, entity, item=False)


def _uf_add(entity: EntityType, ctx: Ctx, p: Params) -> int:
    return userfields.add_userfield(ctx.portal, entity, _fields(p))


def _uf_list(entity: EntityType, ctx: Ctx, p: Params) -> Listing:
    rows, lang = userfields.list_userfields(ctx.portal, entity, p.mapping("filter"), p.mapping("order"))
    rendered = [ufschema.render_userfield(row, lang) for row in rows]
    return Listing(rendered, len(rendered))


def _uf_get(entity: EntityType, ctx: Ctx, p: Params) -> dict[str, Any]:
    return ufschema.render_userfield(userfields.require_uf(ctx.portal, entity, p.get("id")))


def _uf_update(entity: EntityType, ctx: Ctx, p: Params) -> bool:
    userfields.require_uf(ctx.portal, entity, p.get("id"))
    userfields.update_userfield(ctx.portal, entity, p.get("id"), _fields(p))
    return True


def _uf_delete(entity: EntityType, ctx: Ctx, p: Params) -> bool:
    userfields.delete_userfield(ctx.portal, entity, p.get("id"))
    return True


for _legacy, _entity in BY_LEGACY.items():
    for _verb, _handler in {
        "add": _add,
        "get": _get,
        "update": _update,
        "delete": _delete,
        "list": _list,
        "fields": _describe,
        "userfield.add": _uf_add,
        "userfield.list": _uf_list,
        "userfield.get": _uf_get,
        "userfield.update": _uf_update,
        "userfield.delete": _uf_delete,
    }.items():
        add_method(f"crm.{_legacy}.{_verb}", partial(_handler, _entity), scope="crm")
