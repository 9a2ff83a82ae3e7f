"""Records and field descriptions as the legacy and the universal CRM methods show them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..query import FieldRef
from .entities import EntityType
from .fields import FieldDef
from .records import field_map, parent_field, resolve
from .userfields import uf_rows
from .values import render_item, render_legacy

if TYPE_CHECKING:
    from ..portal import Portal


def legacy_resolver(portal: Portal, entity: EntityType) -> Any:
    def find(name: str) -> FieldRef | None:
        fdef = resolve(portal, entity, name, camel=False)
        if fdef is None:
            return None
        key = "CONTACT_IDS" if fdef.name == "CONTACT_ID" and "CONTACT_IDS" in entity.by_name else fdef.name
        if fdef.name == "COMPANY_ID" and "COMPANY_IDS" in entity.by_name:
            key = "COMPANY_IDS"
        return FieldRef(key, fdef.kind)

    return find


def item_resolver(portal: Portal, entity: EntityType) -> Any:
    def find(name: str) -> FieldRef | None:
        fdef = resolve(portal, entity, name, camel=True)
        if fdef is None:
            fdef = resolve(portal, entity, name, camel=False)
        return None if fdef is None else FieldRef(fdef.name, fdef.kind)

    return find


def legacy_row(
    portal: Portal, entity: EntityType, row: dict[str, Any], select: list[Any] | None
) -> dict[str, Any]:
    """A legacy record; ``select=None`` (a ``get``) returns every field with multifields."""
    fields = field_map(portal, entity)
    chosen = _legacy_selection(fields, row, select)
    result = {f.name: render_legacy(f, row.get(f.name)) for f in chosen}
    for fdef in chosen:
        if fdef.type == "crm_multifield" and not result[fdef.name]:
            del result[fdef.name]  # the portal omits empty multifields
    return result


def _legacy_selection(
    fields: dict[str, FieldDef], row: dict[str, Any], select: list[Any] | None
) -> list[FieldDef]:
    standard = [f for f in fields.values() if f.legacy and not f.user_field and f.type != "crm_multifield"]
    user = [f for f in fields.values() if f.user_field]
    parents = [FieldDef(k, "crm_entity") for k in row if k.startswith("PARENT_ID_")]
    if select is None:
        multi = [f for f in fields.values() if f.type == "crm_multifield"]
        return [*standard, *parents, *user, *multi]
    names = [str(s).upper() for s in select if s not in (None, "")]
    if not names:
        return [*standard, *parents, *user]
    chosen: dict[str, FieldDef] = {}
    for name in names:
        if name == "*":
            chosen.update({f.name: f for f in [*standard, *parents]})
        elif name == "UF_*":
            chosen.update({f.name: f for f in user})
        elif name in fields and (fields[name].legacy or fields[name].user_field):
            chosen[name] = fields[name]
        elif name.startswith("PARENT_ID_"):
            chosen[name] = FieldDef(name, "crm_entity")
    chosen.setdefault("ID", fields["ID"])
    return list(chosen.values())


def item_row(
    portal: Portal,
    entity: EntityType,
    row: dict[str, Any],
    select: list[Any] | None,
    *,
    original_uf_names: bool = False,
) -> dict[str, Any]:
    fields = field_map(portal, entity)
    everything = not select or "*" in [str(s) for s in select]
    wanted = None if everything else {str(s) for s in select or []}
    result: dict[str, Any] = {}
    for fdef in fields.values():
        if not fdef.item and not fdef.user_field:
            continue
        name = fdef.name if (fdef.user_field and original_uf_names) else fdef.camel_name
        if wanted is not None and name not in wanted and fdef.name not in wanted and name != "id":
            continue
        result[name] = render_item(fdef, row.get(fdef.name))
    for key, value in row.items():
        if key.startswith("PARENT_ID_"):
            fdef = parent_field(portal, key)
            if fdef is not None and (wanted is None or fdef.camel_name in wanted):
                result[fdef.camel_name] = value
    result["entityTypeId"] = entity.entity_type_id
    if everything and any(f.type == "crm_multifield" for f in fields.values()):
        result["fm"] = [
            {"id": v["ID"], "valueType": v["VALUE_TYPE"], "value": v["VALUE"], "typeId": v["TYPE_ID"]}
            for name in ("PHONE", "EMAIL", "WEB", "IM", "LINK")
            for v in row.get(name) or []
        ]
    return result


def describe_fields(portal: Portal, entity: EntityType, *, item: bool) -> dict[str, Any]:
    """``crm.<entity>.fields`` (UPPER names) or ``crm.item.fields`` (camel names + upperName)."""
    uf_by_name = {r["FIELD_NAME"]: r for r in uf_rows(portal, entity)}
    result: dict[str, Any] = {}
    for fdef in field_map(portal, entity).values():
        if (item and not fdef.item and not fdef.user_field) or (not item and not fdef.legacy and not fdef.user_field):
            continue
        info: dict[str, Any] = {
            "type": fdef.type,
            "isRequired": fdef.required,
            "isReadOnly": fdef.read_only,
            "isImmutable": fdef.immutable,
            "isMultiple": fdef.multiple,
            "isDynamic": fdef.user_field,
            "title": fdef.title,
        }
        if fdef.status_type:
            info["statusType"] = fdef.status_type
        if fdef.deprecated:
            info["isDeprecated"] = True
        uf = uf_by_name.get(fdef.name)
        if uf is not None:
            info.update(
                listLabel=uf["LIST_COLUMN_LABEL"],
                formLabel=uf["EDIT_FORM_LABEL"],
                filterLabel=uf["LIST_FILTER_LABEL"],
                settings=uf["SETTINGS"] or [],
            )
            if uf["USER_TYPE_ID"] == "enumeration":
                info["items"] = [{"ID": str(i["ID"]), "VALUE": i["VALUE"]} for i in uf["LIST"]]
        if item:
            info["upperName"] = fdef.name
            result[fdef.camel_name] = info
        else:
            result[fdef.name] = info
    return result
