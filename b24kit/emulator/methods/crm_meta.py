"""Pipelines, stages, product rows, contact bindings, timeline comments and stage history."""

from __future__ import annotations

from typing import Any

from .. import events
from ..crm import records, stages
from ..crm.entities import BY_LEGACY, DEAL, entity_by_type_id
from ..errors import RestError, legacy_error, legacy_not_found
from ..query import FieldRef, compile_query, flag, paginate, php_float, php_int
from ..registry import Ctx, Listing, Params, method


# -- pipelines --------------------------------------------------------------------------------
def _category_out(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"], "name": row["name"], "sort": row["sort"], "entityTypeId": row["entityTypeId"],
        "isDefault": row["isDefault"], "originId": row.get("originId", ""),
        "originatorId": row.get("originatorId", ""),
    }


@method("crm.category.list", scope="crm")
def category_list(ctx: Ctx, p: Params) -> Listing:
    entity = entity_by_type_id(ctx.portal, p.get("entitytypeid"))
    if not entity.categories:
        raise RestError(400, "NOT_FOUND", "Pipelines are not supported by this entity type")
    rows = [_category_out(r) for r in stages.categories(ctx.portal, entity)]
    return Listing({"categories": rows}, len(rows))


@method("crm.category.add", scope="crm")
def category_add(ctx: Ctx, p: Params) -> dict[str, Any]:
    entity = entity_by_type_id(ctx.portal, p.get("entitytypeid"))
    fields = p.mapping("fields")
    name = str(fields.get("name") or fields.get("NAME") or "").strip()
    if not name:
        raise RestError(400, "ERROR_CORE", "Field 'name' is required")
    row = stages.create_category(
        ctx.portal, entity, name, sort=php_int(fields.get("sort", 500)),
        is_default=flag(fields.get("isDefault", "N")) == "Y",
    )
    return {"category": _category_out(row)}


def _category(ctx: Ctx, p: Params) -> tuple[Any, dict[str, Any]]:
    entity = entity_by_type_id(ctx.portal, p.get("entitytypeid"))
    row = ctx.portal.table("crm_categories").get(php_int(p.get("id")))
    if row is None or row["entityTypeId"] != entity.entity_type_id:
        raise RestError(400, "NOT_FOUND", "Pipeline not found")
    return entity, row


@method("crm.category.get", scope="crm")
def category_get(ctx: Ctx, p: Params) -> dict[str, Any]:
    return {"category": _category_out(_category(ctx, p)[1])}


@method("crm.category.update", scope="crm")
def category_update(ctx: Ctx, p: Params) -> dict[str, Any]:
    _, row = _category(ctx, p)
    fields = p.mapping("fields")
    if "name" in fields:
        row["name"] = str(fields["name"])
    if "sort" in fields:
        row["sort"] = php_int(fields["sort"])
    ctx.portal.table("crm_categories").save(int(row["id"]), row)
    return {"category": _category_out(row)}


@method("crm.category.delete", scope="crm")
def category_delete(ctx: Ctx, p: Params) -> list[Any]:
    entity, row = _category(ctx, p)
    if row["isDefault"] == "Y":
        raise RestError(400, "ERROR_CORE", "The default pipeline cannot be deleted")
    if any(r.get("CATEGORY_ID") == row["id"] for r in ctx.portal.table(entity.table)):
        raise RestError(400, "ERROR_CORE", "The pipeline has items")
    ctx.portal.table("crm_categories").delete(int(row["id"]))
    return []


# -- stages and reference lists ---------------------------------------------------------------
_STATUS_FIELDS = {
    "ID": "int", "ENTITY_ID": "str", "STATUS_ID": "str", "NAME": "str", "SORT": "int",
    "SYSTEM": "flag", "CATEGORY_ID": "int", "SEMANTICS": "str", "COLOR": "str",
}


def _status_out(row: dict[str, Any]) -> dict[str, Any]:
    semantics = row.get("SEMANTICS")
    return {
        "ID": str(row["ID"]), "ENTITY_ID": row["ENTITY_ID"], "STATUS_ID": row["STATUS_ID"],
        "NAME": row["NAME"], "NAME_INIT": row.get("NAME_INIT", ""), "SORT": str(row["SORT"]),
        "SYSTEM": row["SYSTEM"],
        "CATEGORY_ID": None if row.get("CATEGORY_ID") is None else str(row["CATEGORY_ID"]),
        "COLOR": row.get("COLOR", ""), "SEMANTICS": semantics,
        "EXTRA": {
            "SEMANTICS": {"S": "success", "F": "failure"}.get(semantics or "", "process"),
            "COLOR": row.get("COLOR", ""),
        },
    }


@method("crm.status.list", scope="crm")
def status_list(ctx: Ctx, p: Params) -> Listing:
    portal = ctx.portal
    order = p.mapping("order") or {"SORT": "ASC"}
    query = compile_query(
        p.mapping("filter"), order,
        lambda n: FieldRef(n.upper(), _STATUS_FIELDS[n.upper()]) if n.upper() in _STATUS_FIELDS else None,
        portal.clock,
    )
    table = portal.table("crm_statuses")
    from ..query import matching_ids

    ids = matching_ids(table, query, portal.cache)
    return Listing([_status_out(table.rows[i]) for i in ids], len(ids))


@method("crm.status.add", scope="crm")
def status_add(ctx: Ctx, p: Params) -> int:
    fields = p.mapping("fields")
    entity_id = str(fields.get("ENTITY_ID") or "").strip()
    status_id = str(fields.get("STATUS_ID") or "").strip()
    name = str(fields.get("NAME") or "").strip()
    if not entity_id or not status_id or not name:
        raise legacy_error("ENTITY_ID, STATUS_ID and NAME are required.")
    category_id = None
    if entity_id.startswith("DEAL_STAGE_"):
        category_id = php_int(entity_id.rsplit("_", 1)[1])
        if ":" not in status_id:
            status_id = f"C{category_id}:{status_id}"  # docs: crm.status.add auto-prefixes
    elif entity_id == "DEAL_STAGE":
        category_id = 0
    elif "_STAGE_" in entity_id:
        category_id = php_int(entity_id.rsplit("_", 1)[1])
    table = ctx.portal.table("crm_statuses")
    if any(r["ENTITY_ID"] == entity_id and r["STATUS_ID"] == status_id[:21] for r in table):
        raise legacy_error(f"Status '{status_id}' already exists.")
    semantics = str(fields.get("SEMANTICS") or "") or None
    return stages.add_status(
        ctx.portal, entity_id, status_id, name, sort=php_int(fields.get("SORT", 10)),
        semantics=semantics if semantics in ("S", "F") else None,
        color=str(fields.get("COLOR") or ""), category_id=category_id,
    )


def _status_row(ctx: Ctx, p: Params) -> dict[str, Any]:
    row = ctx.portal.table("crm_statuses").get(php_int(p.get("id")))
    if row is None:
        raise legacy_not_found()
    return row


@method("crm.status.get", scope="crm")
def status_get(ctx: Ctx, p: Params) -> dict[str, Any]:
    return _status_out(_status_row(ctx, p))


@method("crm.status.update", scope="crm")
def status_update(ctx: Ctx, p: Params) -> bool:
    row = _status_row(ctx, p)
    fields = p.mapping("fields")
    for key in ("NAME", "SORT", "COLOR"):
        if key in fields:
            row[key] = php_int(fields[key]) if key == "SORT" else str(fields[key])
    ctx.portal.table("crm_statuses").save(int(row["ID"]), row)
    return True


@method("crm.status.delete", scope="crm")
def status_delete(ctx: Ctx, p: Params) -> bool:
    row = _status_row(ctx, p)
    if row["SYSTEM"] == "Y":
        raise legacy_error("System statuses cannot be deleted.")
    ctx.portal.table("crm_statuses").delete(int(row["ID"]))
    return True


@method("crm.currency.list", scope="crm")
def currency_list(ctx: Ctx, p: Params) -> list[dict[str, Any]]:
    return [dict(row) for row in ctx.portal.table("currencies")]


# -- product rows -----------------------------------------------------------------------------
def _row_out(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "ID": str(row["ID"]), "OWNER_ID": str(row["OWNER_ID"]), "OWNER_TYPE": row["OWNER_TYPE"],
        "PRODUCT_ID": row["PRODUCT_ID"], "PRODUCT_NAME": row["PRODUCT_NAME"],
        "ORIGINAL_PRODUCT_NAME": row["PRODUCT_NAME"], "PRODUCT_DESCRIPTION": "",
        "PRICE": row["PRICE"], "PRICE_EXCLUSIVE": row["PRICE_EXCLUSIVE"],
        "PRICE_NETTO": row["PRICE_NETTO"], "PRICE_BRUTTO": row["PRICE_BRUTTO"],
        "PRICE_ACCOUNT": f"{row['PRICE']:.2f}", "QUANTITY": row["QUANTITY"],
        "DISCOUNT_TYPE_ID": row["DISCOUNT_TYPE_ID"], "DISCOUNT_RATE": row["DISCOUNT_RATE"],
        "DISCOUNT_SUM": row["DISCOUNT_SUM"], "TAX_RATE": row["TAX_RATE"],
        "TAX_INCLUDED": row["TAX_INCLUDED"], "CUSTOMIZED": "Y",
        "MEASURE_CODE": row["MEASURE_CODE"], "MEASURE_NAME": row["MEASURE_NAME"], "SORT": row["SORT"],
    }


def _product_row(owner_id: int, raw: dict[str, Any], index: int) -> dict[str, Any]:
    price = php_float(raw.get("PRICE", 0))
    quantity = php_float(raw.get("QUANTITY", 1)) if raw.get("QUANTITY") not in (None, "") else 1.0
    discount_type = php_int(raw.get("DISCOUNT_TYPE_ID", 2)) or 2
    rate = php_float(raw.get("DISCOUNT_RATE", 0))
    exclusive = php_float(raw.get("PRICE_EXCLUSIVE", 0)) or price
    if raw.get("DISCOUNT_SUM") not in (None, ""):
        discount_sum = php_float(raw["DISCOUNT_SUM"])
    elif discount_type == 2:
        discount_sum = round(exclusive * rate / (100 - rate), 2) if rate and rate < 100 else 0.0
    else:
        discount_sum = rate
    tax_rate = raw.get("TAX_RATE")
    return {
        "OWNER_ID": owner_id, "OWNER_TYPE": "D", "PRODUCT_ID": php_int(raw.get("PRODUCT_ID", 0)),
        "PRODUCT_NAME": str(raw.get("PRODUCT_NAME") or ""), "PRICE": price,
        "PRICE_EXCLUSIVE": exclusive, "PRICE_NETTO": php_float(raw.get("PRICE_NETTO", 0)) or price + discount_sum,
        "PRICE_BRUTTO": php_float(raw.get("PRICE_BRUTTO", 0)) or price, "QUANTITY": quantity,
        "DISCOUNT_TYPE_ID": discount_type, "DISCOUNT_RATE": rate, "DISCOUNT_SUM": discount_sum,
        "TAX_RATE": None if tax_rate in (None, "") else php_float(tax_rate),
        "TAX_INCLUDED": flag(raw.get("TAX_INCLUDED", "N")),
        "MEASURE_CODE": php_int(raw.get("MEASURE_CODE", 796)) or 796,
        "MEASURE_NAME": str(raw.get("MEASURE_NAME") or "pcs"), "SORT": php_int(raw.get("SORT", (index + 1) * 10)),
    }


@method("crm.deal.productrows.set", scope="crm")
def productrows_set(ctx: Ctx, p: Params) -> bool:
    entity = BY_LEGACY["deal"]
    deal = records.require_row(ctx.portal, entity, p.get("id"), legacy=True)
    owner_id = int(deal["ID"])
    table = ctx.portal.table("crm_productrows")
    for rid in [rid for rid, r in table.rows.items() if r["OWNER_ID"] == owner_id and r["OWNER_TYPE"] == "D"]:
        table.delete(rid)
    total = 0.0
    for index, raw in enumerate(p.items_list("rows")):
        if not isinstance(raw, dict):
            raise legacy_error("Parameter 'rows' must be array of objects.")
        row = _product_row(owner_id, raw, index)
        rid = table.insert(row)
        row["ID"] = rid
        table.save(rid, row)
        total += row["PRICE"] * row["QUANTITY"]
    if deal.get("IS_MANUAL_OPPORTUNITY") != "Y":
        records.update(ctx, entity, owner_id, {"OPPORTUNITY": round(total, 2)}, camel=False)
    return True


@method("crm.deal.productrows.get", scope="crm")
def productrows_get(ctx: Ctx, p: Params) -> list[dict[str, Any]]:
    deal = records.require_row(ctx.portal, BY_LEGACY["deal"], p.get("id"), legacy=True)
    owner_id = int(deal["ID"])
    rows = [r for r in ctx.portal.table("crm_productrows") if r["OWNER_ID"] == owner_id and r["OWNER_TYPE"] == "D"]
    return [_row_out(r) for r in sorted(rows, key=lambda r: (r["SORT"], r["ID"]))]


# -- deal contacts ----------------------------------------------------------------------------
@method("crm.deal.contact.items.get", scope="crm")
def deal_contacts_get(ctx: Ctx, p: Params) -> list[dict[str, Any]]:
    deal = records.require_row(ctx.portal, BY_LEGACY["deal"], p.get("id"), legacy=True)
    ids = deal.get("CONTACT_IDS") or []
    return [
        {"CONTACT_ID": cid, "SORT": (i + 1) * 10, "ROLE_ID": 0, "IS_PRIMARY": "Y" if i == 0 else "N"}
        for i, cid in enumerate(ids)
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
    entity_type = str(fields.get("ENTITY_TYPE") or "").lower()
    comment = str(fields.get("COMMENT") or "").strip()
    if not comment:
        raise RestError(400, "INVALID_ARG_VALUE", "Comment text is empty")
    owner_type = None
    if entity_type in BY_LEGACY:
        owner_type = BY_LEGACY[entity_type]
    elif entity_type.startswith("dynamic_"):
        owner_type = entity_by_type_id(ctx.portal, entity_type.split("_", 1)[1])
    if owner_type is None:
        raise RestError(400, "NOT_FOUND", f"Unknown entity type '{entity_type}'")
    owner_id = php_int(fields.get("ENTITY_ID"))
    if ctx.portal.table(owner_type.table).get(owner_id) is None:
        raise RestError(400, "OWNER_NOT_FOUND", "Owner entity not found")
    row = {
        "ENTITY_TYPE": entity_type, "ENTITY_ID": owner_id, "COMMENT": comment,
        "CREATED": ctx.portal.clock.iso(), "AUTHOR_ID": ctx.caller.user_id,
    }
    table = ctx.portal.table("crm_timeline_comments")
    comment_id = table.insert(row)
    row["ID"] = comment_id
    table.save(comment_id, row)
    events.emit(ctx, "ONCRMTIMELINECOMMENTADD", {"FIELDS": {"ID": comment_id}}, object_key=f"COMMENT_{comment_id}")
    return comment_id


@method("crm.timeline.comment.list", scope="crm")
def timeline_comment_list(ctx: Ctx, p: Params) -> Listing:
    wanted = p.mapping("filter")
    rows = [
        r for r in ctx.portal.table("crm_timeline_comments")
        if (not wanted.get("ENTITY_TYPE") or r["ENTITY_TYPE"] == str(wanted["ENTITY_TYPE"]).lower())
        and (not wanted.get("ENTITY_ID") or r["ENTITY_ID"] == php_int(wanted["ENTITY_ID"]))
    ]
    out = [{**r, "ID": str(r["ID"]), "ENTITY_ID": str(r["ENTITY_ID"]), "AUTHOR_ID": str(r["AUTHOR_ID"])} for r in rows]
    return Listing(out, len(out))


_HISTORY_FIELDS = {
    "ID": "int", "TYPE_ID": "int", "OWNER_ID": "int", "CREATED_TIME": "datetime",
    "CATEGORY_ID": "int", "STAGE_SEMANTIC_ID": "str", "STAGE_ID": "str",
    "STATUS_SEMANTIC_ID": "str", "STATUS_ID": "str",
}


@method("crm.stagehistory.list", scope="crm")
def stagehistory_list(ctx: Ctx, p: Params) -> Listing:
    portal = ctx.portal
    entity = entity_by_type_id(portal, p.get("entitytypeid"))
    if entity.stage_field is None:
        raise RestError(400, "INVALID_ARG_VALUE", "Stage history is not kept for this entity type")
    conditions = dict(p.mapping("filter"))
    conditions["=ENTITY_TYPE_ID"] = entity.entity_type_id
    fields = dict(_HISTORY_FIELDS, ENTITY_TYPE_ID="int")
    query = compile_query(
        conditions, p.mapping("order"),
        lambda n: FieldRef(n.upper(), fields[n.upper()]) if n.upper() in fields else None,
        portal.clock, strict=True, groups=True,
    )
    page = paginate(portal.table("crm_stagehistory"), query, p.get("start"), portal.cache)
    select = [str(s).upper() for s in p.items_list("select")]
    items = [
        {k: v for k, v in row.items() if k != "ENTITY_TYPE_ID" and (not select or "*" in select or k in select)}
        for row in page.rows
    ]
    return Listing({"items": items}, page.total, page.next)


