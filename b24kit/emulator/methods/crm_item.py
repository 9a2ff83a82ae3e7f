"""The universal CRM methods: ``crm.item.*`` and ``crm.type.*`` (smart processes)."""

from __future__ import annotations

from typing import Any

from b24kit.emulator import events
from b24kit.emulator.crm import records, render, stages, ufconfig
from b24kit.emulator.crm.entities import EntityType, entity_by_type_id
from b24kit.emulator.errors import RestError
from b24kit.emulator.query import FieldRef, compile_query, flag, paginate, php_int
from b24kit.emulator.registry import Ctx, Listing, Params, method


def _entity(ctx: Ctx, p: Params) -> EntityType:
    return entity_by_type_id(ctx.portal, p.get("entitytypeid"))


def _original(p: Params) -> bool:
    return flag(p.get("useoriginalufnames", "N")) == "Y"


def _item(ctx: Ctx, entity: EntityType, row: dict[str, Any], p: Params) -> dict[str, Any]:
    return {"item": render.item_row(ctx.portal, entity, row, None, original_uf_names=_original(p))}


@method("crm.item.add", scope="crm")
def item_add(ctx: Ctx, p: Params) -> dict[str, Any]:
    entity = _entity(ctx, p)
    row_id = records.create(ctx, entity, p.mapping("fields"), camel=True)
    return _item(ctx, entity, ctx.portal.table(entity.table).rows[row_id], p)


@method("crm.item.get", scope="crm")
def item_get(ctx: Ctx, p: Params) -> dict[str, Any]:
    entity = _entity(ctx, p)
    return _item(ctx, entity, records.require_row(ctx.portal, entity, p.get("id"), legacy=False), p)


@method("crm.item.update", scope="crm")
def item_update(ctx: Ctx, p: Params) -> dict[str, Any]:
    entity = _entity(ctx, p)
    return _item(ctx, entity, records.update(ctx, entity, p.get("id"), p.mapping("fields"), camel=True), p)


@method("crm.item.delete", scope="crm")
def item_delete(ctx: Ctx, p: Params) -> list[Any]:
    records.delete(ctx, _entity(ctx, p), p.get("id"), legacy=False)
    return []


@method("crm.item.list", scope="crm")
def item_list(ctx: Ctx, p: Params) -> Listing:
    portal = ctx.portal
    entity = _entity(ctx, p)
    query = compile_query(
        p.mapping("filter"),
        p.mapping("order"),
        render.item_resolver(portal, entity),
        portal.clock,
        strict=True,
        groups=True,
    )
    page = paginate(portal.table(entity.table), query, p.get("start"), portal.cache)
    plan = render.item_plan(portal, entity, p.items_list("select"), original_uf_names=_original(p))
    return Listing({"items": [plan.apply(r) for r in page.rows]}, page.total, page.next)


@method("crm.item.fields", scope="crm")
def item_fields(ctx: Ctx, p: Params) -> dict[str, Any]:
    entity = _entity(ctx, p)
    return {"fields": render.describe_fields(ctx.portal, entity, item=True, original_uf_names=_original(p))}


# -- smart process types ------------------------------------------------------------------
_TYPE_FLAGS = (
    "isCategoriesEnabled",
    "isStagesEnabled",
    "isBeginCloseDatesEnabled",
    "isClientEnabled",
    "isUseInUserfieldEnabled",
    "isLinkWithProductsEnabled",
    "isMycompanyEnabled",
    "isDocumentsEnabled",
    "isSourceEnabled",
    "isObserversEnabled",
    "isRecyclebinEnabled",
    "isAutomationEnabled",
    "isBizProcEnabled",
    "isSetOpenPermissions",
    "isPaymentsEnabled",
    "isCountersEnabled",
)
_TYPE_KINDS = {
    "id": "int",
    "entityTypeId": "int",
    "title": "str",
    "code": "str",
    "createdBy": "int",
    "updatedBy": "int",
    "createdTime": "datetime",
    "updatedTime": "datetime",
    "customSectionId": "int",
    **dict.fromkeys(_TYPE_FLAGS, "flag"),
}


def _render_type(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if not k.startswith("_")}


def _valid_entity_type_id(etid: int) -> bool:
    return 128 <= etid <= 192 or (etid >= 1030 and etid % 2 == 0)


@method("crm.type.add", scope="crm")
def type_add(ctx: Ctx, p: Params) -> dict[str, Any]:
    portal = ctx.portal
    if "fields" not in p:
        raise RestError(400, "100", "Could not find value for parameter {fields}")
    fields = p.mapping("fields")
    title = str(fields.get("title") or "").strip()
    if not title:
        raise RestError(400, "ERROR_CORE", "Field 'title' is required")
    table = portal.table("crm_types")
    wanted = fields.get("entityTypeId")
    if wanted not in (None, ""):
        etid = php_int(wanted)
        if not _valid_entity_type_id(etid):
            raise RestError(400, "INVALID_ARG_VALUE", "entityTypeId is out of allowed range")
        if table.lookup("entityTypeId", etid) is not None:
            raise RestError(400, "INVALID_ARG_VALUE", f"entityTypeId {etid} is already in use")
    else:
        taken = {r["entityTypeId"] for r in table}
        etid = next(n for n in range(1030, 10**6, 2) if n not in taken)
    now = portal.clock.iso()
    row: dict[str, Any] = {
        "title": title,
        "code": str(fields.get("code") or ""),
        "createdBy": ctx.caller.user_id,
        "entityTypeId": etid,
        "customSectionId": None,
        **{name: flag(fields.get(name, "N")) for name in _TYPE_FLAGS},
        "createdTime": now,
        "updatedTime": now,
        "updatedBy": ctx.caller.user_id,
        "relations": fields.get("relations") if isinstance(fields.get("relations"), dict) else [],
        "linkedUserFields": fields.get("linkedUserFields") or [],
        "customSections": [],
    }
    type_id = table.insert(row)
    row["id"] = type_id
    table.save(type_id, row)
    stages.create_category(portal, entity_by_type_id(portal, etid), "General", sort=500, is_default=True)
    events.emit(ctx, "ONCRMTYPEADD", {"FIELDS": {"ID": type_id}}, object_key=f"TYPE_{type_id}")
    return {"type": _render_type(row)}


@method("crm.type.list", scope="crm")
def type_list(ctx: Ctx, p: Params) -> Listing:
    portal = ctx.portal

    def resolve(name: str) -> FieldRef | None:
        kind = _TYPE_KINDS.get(name)
        return None if kind is None else FieldRef(name, kind)

    query = compile_query(
        p.mapping("filter"), p.mapping("order"), resolve, portal.clock, strict=True, groups=True, id_key="id"
    )
    page = paginate(portal.table("crm_types"), query, p.get("start"), portal.cache)
    return Listing({"types": [_render_type(r) for r in page.rows]}, page.total, page.next)


def _type_row(ctx: Ctx, p: Params, *, by_entity_type: bool = False) -> tuple[int, dict[str, Any]]:
    table = ctx.portal.table("crm_types")
    if by_entity_type:
        found = table.lookup("entityTypeId", php_int(p.get("entitytypeid")))
    else:
        row = table.get(php_int(p.get("id")))
        found = (int(row["id"]), row) if row is not None else None
    if found is None:
        raise RestError(400, "NOT_FOUND", "Smart process not found")
    return found


@method("crm.type.get", scope="crm")
def type_get(ctx: Ctx, p: Params) -> dict[str, Any]:
    return {"type": _render_type(_type_row(ctx, p)[1])}


@method("crm.type.getbyentitytypeid", scope="crm")
def type_get_by_entity_type(ctx: Ctx, p: Params) -> dict[str, Any]:
    return {"type": _render_type(_type_row(ctx, p, by_entity_type=True)[1])}


@method("crm.type.update", scope="crm")
def type_update(ctx: Ctx, p: Params) -> dict[str, Any]:
    type_id, row = _type_row(ctx, p)
    fields = p.mapping("fields")
    row = dict(row)
    if str(fields.get("title") or "").strip():
        row["title"] = str(fields["title"]).strip()
    for name in _TYPE_FLAGS:
        if name in fields:
            row[name] = flag(fields[name])
    row["updatedTime"] = ctx.portal.clock.iso()
    row["updatedBy"] = ctx.caller.user_id
    ctx.portal.table("crm_types").save(type_id, row)
    return {"type": _render_type(row)}


@method("crm.type.delete", scope="crm")
def type_delete(ctx: Ctx, p: Params) -> list[Any]:
    type_id, row = _type_row(ctx, p)
    entity = entity_by_type_id(ctx.portal, row["entityTypeId"])
    if len(ctx.portal.table(entity.table)):
        raise RestError(400, "ERROR_CORE", "Cannot delete a smart process type that has items")
    ctx.portal.table("crm_types").delete(type_id)
    return []


# -- user fields of smart processes (userfieldconfig.*, module "crm") -------------------------------
@method("userfieldconfig.add", scope="userfieldconfig")
def ufconfig_add(ctx: Ctx, p: Params) -> dict[str, Any]:
    ufconfig.require_crm_module(p.get("moduleid"))
    return {"field": ufconfig.add(ctx.portal, p.mapping("field"))}


@method("userfieldconfig.get", scope="userfieldconfig")
def ufconfig_get(ctx: Ctx, p: Params) -> dict[str, Any]:
    ufconfig.require_crm_module(p.get("moduleid"))
    return {"field": ufconfig.render(ufconfig.find(ctx.portal, p.get("id"))[1])}


@method("userfieldconfig.list", scope="userfieldconfig")
def ufconfig_list(ctx: Ctx, p: Params) -> Listing:
    ufconfig.require_crm_module(p.get("moduleid"))
    fields = ufconfig.listed(ctx.portal, p.mapping("filter").get("entityId"))
    return Listing({"fields": fields}, len(fields))


@method("userfieldconfig.delete", scope="userfieldconfig")
def ufconfig_delete(ctx: Ctx, p: Params) -> None:
    ufconfig.require_crm_module(p.get("moduleid"))
    ufconfig.remove(ctx.portal, p.get("id"))
