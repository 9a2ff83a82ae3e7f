"""Pipelines, stages, product rows, contact bindings, timeline comments and stage history."""

from __future__ import annotations

from functools import partial
from typing import Any

from b24kit.emulator import events
from b24kit.emulator.crm import lifecycle, products, records, stages, statuses
from b24kit.emulator.crm.entities import BY_LEGACY, DEAL, LEAD, SMART_INVOICE, EntityType, entity_by_type_id
from b24kit.emulator.errors import RestError, legacy_error
from b24kit.emulator.query import Condition, FieldRef, compile_query, flag, matching_ids, paginate, php_int
from b24kit.emulator.registry import Ctx, Listing, Params, add_method, method

_SMART_PROCESS_MISSING = "Smart process not found"


# -- pipelines --------------------------------------------------------------------------------
def _category_out(row: dict[str, Any]) -> dict[str, Any]:
    result = {k: row[k] for k in ("id", "name", "sort", "entityTypeId", "isDefault")}
    if row["entityTypeId"] == DEAL and row["id"] != 0:
        result.update(originId=row.get("originId", ""), originatorId=row.get("originatorId", ""))
    return result


def _pipelines(ctx: Ctx, p: Params) -> EntityType:
    entity = entity_by_type_id(ctx.portal, p.get("entitytypeid"), missing=_SMART_PROCESS_MISSING)
    if not entity.categories:
        raise RestError(400, "ENTITY_TYPE_NOT_SUPPORTED", f"Entity type {entity.name} is not supported")
    return entity


def _category(ctx: Ctx, p: Params) -> tuple[EntityType, dict[str, Any]]:
    entity = _pipelines(ctx, p)
    row = stages.category_table(ctx.portal, entity).get(php_int(p.get("id")))
    if row is None or row["entityTypeId"] != entity.entity_type_id:
        raise RestError(400, "NOT_FOUND", "Element not found")
    return entity, row


@method("crm.category.list", scope="crm")
def category_list(ctx: Ctx, p: Params) -> Listing:
    rows = [_category_out(r) for r in stages.categories(ctx.portal, _pipelines(ctx, p))]
    return Listing({"categories": rows}, len(rows))


@method("crm.category.add", scope="crm")
def category_add(ctx: Ctx, p: Params) -> dict[str, Any]:
    entity = _pipelines(ctx, p)
    fields = p.mapping("fields")
    name = str(fields.get("name") or "").strip() or "-"
    row = stages.create_category(
        ctx.portal,
        entity,
        name[:255],
        sort=max(php_int(fields.get("sort", 500)), 0),
        is_default=entity.entity_type_id != DEAL and flag(fields.get("isDefault", "N")) == "Y",
    )
    return {"category": _category_out(row)}


@method("crm.category.get", scope="crm")
def category_get(ctx: Ctx, p: Params) -> dict[str, Any]:
    return {"category": _category_out(_category(ctx, p)[1])}


@method("crm.category.update", scope="crm")
def category_update(ctx: Ctx, p: Params) -> dict[str, Any]:
    entity, row = _category(ctx, p)
    fields = p.mapping("fields")
    row = dict(row)
    if str(fields.get("name") or "").strip():
        row["name"] = str(fields["name"]).strip()[:255]
    if "sort" in fields:
        row["sort"] = max(php_int(fields["sort"]), 0)
    table = stages.category_table(ctx.portal, entity)
    if (
        entity.entity_type_id != DEAL
        and flag(fields.get("isDefault", "N")) == "Y"
        and row["isDefault"] != "Y"
    ):
        for rid, other in list(table.rows.items()):
            if other["entityTypeId"] == entity.entity_type_id and other["isDefault"] == "Y":
                table.save(rid, {**other, "isDefault": "N"})
        row["isDefault"] = "Y"
    table.save(int(row["id"]), row)
    return {"category": _category_out(row)}


@method("crm.category.delete", scope="crm")
def category_delete(ctx: Ctx, p: Params) -> None:
    entity, row = _category(ctx, p)
    deal = entity.entity_type_id == DEAL
    if row["isDefault"] == "Y":
        if deal:
            raise RestError(400, "0", "Default deal category cannot be deleted")
        raise RestError(400, "BX_ERROR", "This funnel is the default funnel")
    if any(r.get("CATEGORY_ID") == row["id"] for r in ctx.portal.table(entity.table)):
        if deal:
            raise RestError(400, "0", f"Deals related to the funnel {row['name']} found")
        raise RestError(400, "BX_ERROR", "Elements related to the funnel found")
    stages.category_table(ctx.portal, entity).delete(int(row["id"]))
    statuses_table = ctx.portal.table("crm_statuses")
    wanted = entity.stage_entity(int(row["id"]))
    for rid in [rid for rid, s in statuses_table.rows.items() if s["ENTITY_ID"] == wanted]:
        statuses_table.delete(rid)


# -- stages and reference lists ---------------------------------------------------------------
_STATUS_FIELDS = {
    "ID": "int",
    "ENTITY_ID": "str",
    "STATUS_ID": "str",
    "NAME": "str",
    "SORT": "int",
    "SYSTEM": "flag",
    "CATEGORY_ID": "int",
    "SEMANTICS": "str",
    "COLOR": "str",
}


def _status_field(name: str) -> FieldRef | None:
    kind = _STATUS_FIELDS.get(name.upper())
    return None if kind is None else FieldRef(name.upper(), kind)


@method("crm.status.list", scope="crm")
def status_list(ctx: Ctx, p: Params) -> Listing:
    portal = ctx.portal
    order = p.mapping("order") or {"SORT": "ASC"}
    query = compile_query(p.mapping("filter"), order, _status_field, portal.clock)
    table = portal.table("crm_statuses")
    ids = matching_ids(table, query, portal.cache)
    return Listing([statuses.render_status(table.rows[i], extra=True) for i in ids], len(ids))


@method("crm.status.add", scope="crm")
def status_add(ctx: Ctx, p: Params) -> int:
    return statuses.add_status(ctx.portal, p.mapping("fields"))


@method("crm.status.get", scope="crm")
def status_get(ctx: Ctx, p: Params) -> dict[str, Any]:
    return statuses.render_status(statuses.require_status(ctx.portal, p.get("id")), extra=False)


@method("crm.status.update", scope="crm")
def status_update(ctx: Ctx, p: Params) -> bool:
    row = dict(statuses.require_status(ctx.portal, p.get("id")))
    fields = p.mapping("fields")
    for key in ("NAME", "SORT", "COLOR"):
        if key in fields:
            row[key] = php_int(fields[key]) if key == "SORT" else str(fields[key])
    ctx.portal.table("crm_statuses").save(int(row["ID"]), row)
    return True


@method("crm.status.delete", scope="crm")
def status_delete(ctx: Ctx, p: Params) -> bool:
    row = statuses.require_status(ctx.portal, p.get("id"))
    if row["SYSTEM"] == "Y" and flag(p.mapping("params").get("FORCED", "N")) != "Y":
        raise legacy_error("Can't delete system status")
    ctx.portal.table("crm_statuses").delete(int(row["ID"]))
    return True


@method("crm.status.entity.types", scope="crm")
def status_entity_types(ctx: Ctx, p: Params) -> list[dict[str, Any]]:
    return statuses.entity_types(ctx.portal)


@method("crm.status.entity.items", scope="crm")
def status_entity_items(ctx: Ctx, p: Params) -> list[dict[str, Any]]:
    wanted = str(p.get("entityid") or "")
    rows = [r for r in ctx.portal.table("crm_statuses") if r["ENTITY_ID"] == wanted]
    rows.sort(key=lambda r: (r["SORT"], r["ID"]))
    return [{"NAME": r["NAME"], "SORT": r["SORT"], "STATUS_ID": r["STATUS_ID"]} for r in rows]


@method("crm.currency.list", scope="crm")
def currency_list(ctx: Ctx, p: Params) -> list[dict[str, Any]]:
    return [dict(row) for row in ctx.portal.table("currencies")]


# -- product rows -----------------------------------------------------------------------------
def _owner(ctx: Ctx, entity: EntityType, p: Params) -> int:
    number = php_int(p.get("id"))
    if number <= 0:
        raise legacy_error("The parameter id is invalid or not defined.")
    return int(records.require_row(ctx.portal, entity, number, legacy=True)["ID"])


def _rows_set(entity: EntityType, ctx: Ctx, p: Params) -> bool:
    owner_id = _owner(ctx, entity, p)
    owner_type = products.OWNER_TYPES[entity.legacy or ""]
    raw_rows = p.items_list("rows")
    if any(not isinstance(raw, dict) for raw in raw_rows):
        raise legacy_error("Parameter 'rows' must be array of objects.")
    built = [products.build_row(owner_type, owner_id, raw) for raw in raw_rows]  # validate all first
    table = ctx.portal.table("crm_productrows")
    for old in lifecycle.product_rows(ctx.portal, owner_type, owner_id):
        table.delete(int(old["ID"]))
    for row in built:
        rid = table.insert(row)
        row["ID"] = rid
        row["PRODUCT_NAME"] = row["PRODUCT_NAME"] or f"[{rid}]"
        table.save(rid, row)
    records.update(ctx, entity, owner_id, {}, camel=False)  # the amount follows the rows
    return True


def _rows_get(entity: EntityType, ctx: Ctx, p: Params) -> list[dict[str, Any]]:
    owner_id = _owner(ctx, entity, p)
    rows = lifecycle.product_rows(ctx.portal, products.OWNER_TYPES[entity.legacy or ""], owner_id)
    return [products.render_row(r) for r in rows]


for _name in products.OWNER_TYPES:
    add_method(f"crm.{_name}.productrows.set", partial(_rows_set, BY_LEGACY[_name]), scope="crm")
    add_method(f"crm.{_name}.productrows.get", partial(_rows_get, BY_LEGACY[_name]), scope="crm")


# -- deal contacts ----------------------------------------------------------------------------
@method("crm.deal.contact.items.get", scope="crm")
def deal_contacts_get(ctx: Ctx, p: Params) -> list[dict[str, Any]]:
    deal = records.require_row(ctx.portal, BY_LEGACY["deal"], p.get("id"), legacy=True)
    return [
        {"CONTACT_ID": cid, "SORT": (i + 1) * 10, "ROLE_ID": 0, "IS_PRIMARY": "Y" if i == 0 else "N"}
        for i, cid in enumerate(deal.get("CONTACT_IDS") or [])
    ]


@method("crm.deal.contact.items.set", scope="crm")
def deal_contacts_set(ctx: Ctx, p: Params) -> bool:
    items = [i for i in p.items_list("items") if isinstance(i, dict)]
    items.sort(key=lambda i: (flag(i.get("IS_PRIMARY", "N")) != "Y", php_int(i.get("SORT", 0))))
    ids = [php_int(i.get("CONTACT_ID")) for i in items if php_int(i.get("CONTACT_ID"))]
    records.update(ctx, BY_LEGACY["deal"], p.get("id"), {"CONTACT_IDS": ids}, camel=False)
    return True


# -- timeline and history -----------------------------------------------------------------------
@method("crm.timeline.comment.add", scope="crm")
def timeline_comment_add(ctx: Ctx, p: Params) -> int:
    fields = p.mapping("fields")
    entity_type = str(fields.get("ENTITY_TYPE") or "").strip().lower()
    if not entity_type or fields.get("ENTITY_ID") in (None, ""):
        raise RestError(400, "100", "Required fields are not provided")
    comment = str(fields.get("COMMENT") or "").strip()
    if not comment:
        raise RestError(400, "INVALID_ARG_VALUE", "Empty comment")
    owner_type = BY_LEGACY.get(entity_type)
    if owner_type is None and entity_type.startswith("dynamic_"):
        try:
            owner_type = entity_by_type_id(ctx.portal, entity_type.split("_", 1)[1])
        except RestError:
            owner_type = None
    if owner_type is None:
        raise RestError(400, "NOT_FOUND", "Not found.")
    owner_id = php_int(fields.get("ENTITY_ID"))
    if ctx.portal.table(owner_type.table).get(owner_id) is None:
        raise RestError(400, "OWNER_NOT_FOUND", "Owner of the item not found")
    row = {
        "ENTITY_TYPE": entity_type,
        "ENTITY_ID": owner_id,
        "COMMENT": comment,
        "CREATED": ctx.portal.clock.iso(),
        "AUTHOR_ID": ctx.caller.user_id,
    }
    table = ctx.portal.table("crm_timeline_comments")
    comment_id = table.insert(row)
    row["ID"] = comment_id
    table.save(comment_id, row)
    events.emit(
        ctx, "ONCRMTIMELINECOMMENTADD", {"FIELDS": {"ID": comment_id}}, object_key=f"COMMENT_{comment_id}"
    )
    return comment_id


@method("crm.timeline.comment.list", scope="crm")
def timeline_comment_list(ctx: Ctx, p: Params) -> Listing:
    wanted = p.mapping("filter")
    rows = [
        r
        for r in ctx.portal.table("crm_timeline_comments")
        if (not wanted.get("ENTITY_TYPE") or r["ENTITY_TYPE"] == str(wanted["ENTITY_TYPE"]).lower())
        and (not wanted.get("ENTITY_ID") or r["ENTITY_ID"] == php_int(wanted["ENTITY_ID"]))
    ]
    out = [
        {**r, "ID": str(r["ID"]), "ENTITY_ID": str(r["ENTITY_ID"]), "AUTHOR_ID": str(r["AUTHOR_ID"])}
        for r in rows
    ]
    return Listing(out, len(out))


_HISTORY_COMMON = {"ID": "int", "TYPE_ID": "int", "OWNER_ID": "int", "CREATED_TIME": "datetime"}
_HISTORY_STAGE = {"CATEGORY_ID": "int", "STAGE_SEMANTIC_ID": "str", "STAGE_ID": "str"}
_HISTORY_STATUS = {"STATUS_SEMANTIC_ID": "str", "STATUS_ID": "str"}


@method("crm.stagehistory.list", scope="crm")
def stagehistory_list(ctx: Ctx, p: Params) -> Listing:
    portal = ctx.portal
    entity = entity_by_type_id(portal, p.get("entitytypeid"))
    if entity.entity_type_id not in (LEAD, DEAL, SMART_INVOICE) and not entity.is_dynamic:
        raise RestError(400, "ENTITY_TYPE_NOT_SUPPORTED", f"Entity type {entity.name} is not supported")
    fields = {**_HISTORY_COMMON, **(_HISTORY_STATUS if entity.entity_type_id == LEAD else _HISTORY_STAGE)}

    def resolve(name: str) -> FieldRef | None:
        kind = fields.get(name.upper())
        return None if kind is None else FieldRef(name.upper(), kind)

    query = compile_query(
        p.mapping("filter"), p.mapping("order"), resolve, portal.clock, strict=True, groups=True
    )
    query.conditions.append(
        Condition(FieldRef("ENTITY_TYPE_ID", "int"), "=", entity.entity_type_id, portal.clock)
    )
    page = paginate(portal.table("crm_stagehistory"), query, p.get("start"), portal.cache)
    select = [str(s).upper() for s in p.items_list("select")]
    keys = [k for k in fields if not select or "*" in select or k in select]
    return Listing({"items": [{k: row.get(k) for k in keys} for row in page.rows]}, page.total, page.next)
