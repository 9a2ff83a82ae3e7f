"""Creating, changing and deleting CRM records, shared by ``crm.<entity>.*`` and ``crm.item.*``.

Every write keeps the bookkeeping a portal keeps (see ``lifecycle``), then fires the bound events
and the robots placed on the stage the record entered.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from b24kit.emulator import bizproc, events
from b24kit.emulator.errors import RestError
from b24kit.emulator.query import php_int

from . import lifecycle, stages
from .entities import COMPANY, CONTACT, DEAL, EntityType, all_entities
from .fields import FieldDef, uf_from_camel
from .multifields import merge, merge_fm
from .userfields import uf_defs, uf_rows
from .values import coerce

if TYPE_CHECKING:
    from b24kit.emulator.portal import Portal
    from b24kit.emulator.registry import Ctx

_PARENT_RE = re.compile(r"^PARENT_ID_(\d+)$")
_PARENT_CAMEL_RE = re.compile(r"^parentId(\d+)$")
# Legacy "record is missing" answers that differ from the usual {"error": "", "Not found"} (docs)
_LEGACY_MISSING = {
    ("contact", "update"): ("", "Contact is not found"),
    ("company", "update"): ("", "Company is not found"),
    ("company", "delete"): ("", "Company is not found"),
    ("contact", "delete"): ("ERROR_CORE", "Element not found"),
}
_PHP_TYPES = {bool: "boolean", int: "integer", float: "double", str: "string"}


def field_map(portal: Portal, entity: EntityType) -> dict[str, FieldDef]:
    """Standard fields plus user fields, by UPPER name (cached until user fields change)."""
    cache: dict[Any, dict[str, FieldDef]] = portal.memo.setdefault("field_maps", {})
    key = (entity.entity_type_id, entity.type_id, portal.table("userfields").version)
    found = cache.get(key)
    if found is None:
        found = dict(entity.by_name)
        for fdef in uf_defs(portal, entity):
            found[fdef.name] = fdef
        cache[key] = found
    return found


def enum_ids(portal: Portal, entity: EntityType) -> dict[str, set[int]]:
    cache: dict[Any, dict[str, set[int]]] = portal.memo.setdefault("enum_ids", {})
    key = (entity.uf_entity, portal.table("userfields").version)
    found = cache.get(key)
    if found is None:
        found = cache[key] = {
            row["FIELD_NAME"]: {int(item["ID"]) for item in row["LIST"]}
            for row in uf_rows(portal, entity)
            if row["USER_TYPE_ID"] == "enumeration"
        }
    return found


def _entity_ids(portal: Portal) -> set[int]:
    memo: dict[str, Any] = portal.memo.setdefault("entity_ids", {})
    table = portal.table("crm_types")
    if memo.get("version") != table.version:
        memo.update(version=table.version, ids={e.entity_type_id for e in all_entities(portal)})
    ids: set[int] = memo["ids"]
    return ids


def parent_field(portal: Portal, name: str) -> FieldDef | None:
    """``PARENT_ID_{entityTypeId}``: a link to a record of another existing entity type."""
    match = _PARENT_RE.match(name)
    if match is None or int(match.group(1)) not in _entity_ids(portal):
        return None
    etid = int(match.group(1))
    return FieldDef(name, "crm_entity", f"Parent {etid}", camel=f"parentId{etid}", parent_type=etid)


def resolve(portal: Portal, entity: EntityType, name: str, *, camel: bool) -> FieldDef | None:
    """The field a caller named, in UPPER (legacy) or camelCase (crm.item) form."""
    fields = field_map(portal, entity)
    if camel:
        fdef = entity.by_camel.get(name)
        if fdef is not None:
            return fdef
        upper = uf_from_camel(name)
        if upper is None:
            match = _PARENT_CAMEL_RE.match(name)
            upper = f"PARENT_ID_{match.group(1)}" if match else name
        name = upper
    fdef = fields.get(name)
    if fdef is None and name.startswith("PARENT_ID_"):
        fdef = parent_field(portal, name)
    return fdef


def normalise_input(
    portal: Portal, entity: EntityType, fields: dict[str, Any], *, camel: bool
) -> dict[FieldDef, Any]:
    """Known, writable fields of the input; "an incorrect field in fields will be ignored"."""
    result: dict[FieldDef, Any] = {}
    for name, value in fields.items():
        fdef = resolve(portal, entity, str(name), camel=camel)
        if fdef is None and camel:
            fdef = resolve(portal, entity, str(name), camel=False)
        if fdef is None or fdef.read_only or (camel and not fdef.item and not fdef.user_field):
            continue
        if camel and fdef.multiple and value not in (None, "") and not isinstance(value, list | dict):
            kind = _PHP_TYPES.get(type(value), "string")
            raise RestError(400, "100", f"Expected iterable value for multiple field, but got {kind} instead")
        result[fdef] = value
    return result


def require_row(
    portal: Portal, entity: EntityType, row_id: Any, *, legacy: bool, verb: str = "get"
) -> dict[str, Any]:
    number = php_int(row_id)
    if legacy and number <= 0:
        raise RestError(400, "", "ID is not defined or invalid.")
    row = portal.table(entity.table).get(number) if number > 0 else None
    if row is None:
        if legacy:
            code, text = _LEGACY_MISSING.get((entity.legacy or "", verb), ("", "Not found"))
            raise RestError(400, code, text)
        raise RestError(400, "NOT_FOUND", "Element not found")
    return row


def _apply(ctx: Ctx, entity: EntityType, row: dict[str, Any], values: dict[FieldDef, Any]) -> None:
    portal = ctx.portal
    enums = enum_ids(portal, entity)

    def next_id() -> int:
        return portal.table("crm_multifield_ids").insert({})

    for fdef, raw in values.items():
        if fdef.type == "crm_multifield":
            row[fdef.name] = merge(fdef.name, row.get(fdef.name) or [], raw, next_id)
        else:
            row[fdef.name] = coerce(fdef, raw, portal.clock, enums.get(fdef.name))
    names = {f.name for f in values}
    lifecycle.sync_bindings(row, names, "CONTACT_ID", "CONTACT_IDS")
    lifecycle.sync_bindings(row, names, "COMPANY_ID", "COMPANY_IDS")


def _apply_fm(ctx: Ctx, entity: EntityType, row: dict[str, Any], fields: dict[str, Any]) -> None:
    """``crm.item`` multifield writes through ``fm``."""
    if "fm" not in fields or "PHONE" not in entity.by_name:
        return
    table = ctx.portal.table("crm_multifield_ids")
    row.update(merge_fm(row, fields["fm"], lambda: table.insert({})))


def _check_required(entity: EntityType, row: dict[str, Any], *, legacy: bool) -> None:
    if entity.entity_type_id == COMPANY and not str(row.get("TITLE") or "").strip():
        raise lifecycle.bad_value('The "Company Name" field is required.', legacy=legacy)


def create(ctx: Ctx, entity: EntityType, fields: dict[str, Any], *, camel: bool) -> int:
    portal = ctx.portal
    legacy = not camel
    values = normalise_input(portal, entity, fields, camel=camel)
    user = ctx.caller.user_id
    row = lifecycle.defaults(portal, entity, user)
    _apply(ctx, entity, row, values)
    if camel:
        _apply_fm(ctx, entity, row, fields)
    if entity.stage_field:
        lifecycle.place_new(portal, entity, row, legacy=legacy)
    _check_required(entity, row, legacy=legacy)
    now = portal.clock.iso()
    row.update({entity.created: now, entity.updated: now, entity.created_by: user, entity.updated_by: user})
    row.update(LAST_ACTIVITY_TIME=now, LAST_ACTIVITY_BY=user)
    if entity.stage_field:
        row.update({entity.moved_time: now, entity.moved_by: user})
    table = portal.table(entity.table)
    row_id = table.insert(row)
    row["ID"] = row_id
    if not row.get("TITLE"):
        row["TITLE"] = lifecycle.default_title(entity, row_id)
    if entity.is_dynamic and not row.get("ACCOUNT_NUMBER") and "ACCOUNT_NUMBER" in entity.by_name:
        row["ACCOUNT_NUMBER"] = str(row_id)
    lifecycle.derive(portal, entity, row)
    table.save(row_id, row)
    if entity.stage_field:
        lifecycle.history(portal, entity, row, 1)
    events.emit_crm(ctx, entity, "ADD", row_id)
    if entity.stage_field:
        bizproc.stage_entered(ctx, entity, row)
    return row_id


def update(
    ctx: Ctx, entity: EntityType, row_id: Any, fields: dict[str, Any], *, camel: bool
) -> dict[str, Any]:
    portal = ctx.portal
    legacy = not camel
    row = require_row(portal, entity, row_id, legacy=legacy, verb="update")
    values = normalise_input(portal, entity, fields, camel=camel)
    if legacy and entity.entity_type_id == DEAL:
        values = {f: v for f, v in values.items() if f.name != "CATEGORY_ID"}  # isImmutable
    stage_field = entity.stage_field
    required = {stage_field, "CATEGORY_ID"}
    values = {f: v for f, v in values.items() if not (f.name in required and v in (None, ""))}
    before_stage = row.get(stage_field) if stage_field else None
    before_category = row.get("CATEGORY_ID")
    new = dict(row)
    _apply(ctx, entity, new, values)
    if camel:
        _apply_fm(ctx, entity, new, fields)
    if stage_field:
        stage_given = any(f.name == stage_field for f in values)
        lifecycle.replace_stage(portal, entity, new, before_category, stage_given=stage_given, legacy=legacy)
    _check_required(entity, new, legacy=legacy)
    now = portal.clock.iso()
    new[entity.updated] = now
    new[entity.updated_by] = ctx.caller.user_id
    stage_changed = stage_field is not None and new.get(stage_field) != before_stage
    if stage_changed:
        new[entity.moved_time] = now
        new[entity.moved_by] = ctx.caller.user_id
        if "PREVIOUS_STAGE_ID" in entity.by_name:
            new["PREVIOUS_STAGE_ID"] = before_stage
    lifecycle.derive(portal, entity, new)
    portal.table(entity.table).save(int(row["ID"]), new)
    if stage_changed:
        _moved(ctx, entity, new, before_category)
    events.emit_crm(ctx, entity, "UPDATE", int(row["ID"]))
    if stage_changed:
        bizproc.stage_entered(ctx, entity, new)
    return new


def _moved(ctx: Ctx, entity: EntityType, row: dict[str, Any], before_category: Any) -> None:
    portal = ctx.portal
    moved_category = row.get("CATEGORY_ID") != before_category
    found = stages.find_stage(portal, entity, str(row[entity.stage_field or "STAGE_ID"]))
    final = stages.semantic_id(found) != "P"
    lifecycle.history(portal, entity, row, 5 if moved_category else 3 if final else 2)
    if moved_category and entity.entity_type_id == DEAL:
        events.emit(
            ctx,
            "ONCRMDEALMOVETOCATEGORY",
            {"FIELDS": {"ID": row["ID"], "CATEGORY_ID": row["CATEGORY_ID"], "STAGE_ID": row["STAGE_ID"]}},
            object_key=f"DEAL_{row['ID']}",
        )


def delete(ctx: Ctx, entity: EntityType, row_id: Any, *, legacy: bool) -> None:
    row = require_row(ctx.portal, entity, row_id, legacy=legacy, verb="delete")
    row_key = int(row["ID"])
    ctx.portal.table(entity.table).delete(row_key)
    if entity.entity_type_id in (CONTACT, COMPANY):
        _unbind(ctx, entity, row_key)
    events.emit_crm(ctx, entity, "DELETE", row_key)


_BOUND_BY = {
    CONTACT: (("crm_deal", "CONTACT_ID", "CONTACT_IDS"), ("crm_lead", "CONTACT_ID", "CONTACT_IDS")),
    COMPANY: (
        ("crm_deal", "COMPANY_ID", None),
        ("crm_lead", "COMPANY_ID", None),
        ("crm_contact", "COMPANY_ID", "COMPANY_IDS"),
    ),
}


def _unbind(ctx: Ctx, entity: EntityType, removed: int) -> None:
    """A deleted contact or company leaves the records it was bound to."""
    for table_name, single, many in _BOUND_BY[entity.entity_type_id]:
        table = ctx.portal.table(table_name)
        for rid, record in list(table.rows.items()):
            ids = record.get(many) or [] if many else []
            if record.get(single) != removed and removed not in ids:
                continue
            changed = dict(record)
            if many:
                changed[many] = [i for i in ids if i != removed]
                changed[single] = changed[many][0] if changed[many] else None
            else:
                changed[single] = None
            table.save(rid, changed)
