"""Records and field descriptions as the legacy and the universal CRM methods show them.

A list renders many rows with one ``select``, so each method family compiles a plan once per
(entity, select, user-field version) and applies it to every row.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from b24kit.emulator.query import FieldRef

from . import stages
from .entities import EntityType
from .fields import FieldDef
from .multifields import aliases, fm_view
from .records import field_map, parent_field, resolve
from .ufschema import label
from .userfields import uf_rows
from .values import MONEY_FIELDS, render_date, render_item, render_legacy

if TYPE_CHECKING:
    from b24kit.emulator.clock import Clock
    from b24kit.emulator.portal import Portal

Render = Callable[[Any], Any]


def legacy_resolver(portal: Portal, entity: EntityType) -> Callable[[str], FieldRef | None]:
    """Filter and order fields of ``crm.<entity>.list`` (``CONTACT_IDS`` is not supported there)."""

    def find(name: str) -> FieldRef | None:
        fdef = resolve(portal, entity, name.upper(), camel=False)
        if fdef is None or not (fdef.legacy_row or fdef.user_field):
            return None
        return FieldRef(fdef.name, fdef.kind, fdef.exact)

    return find


def item_resolver(portal: Portal, entity: EntityType) -> Callable[[str], FieldRef | None]:
    def find(name: str) -> FieldRef | None:
        fdef = resolve(portal, entity, name, camel=True)
        if fdef is None and (name.isupper() or name.startswith("UF_")):
            fdef = resolve(portal, entity, name, camel=False)
        if fdef is None or not (fdef.item or fdef.user_field):
            return None
        return FieldRef(fdef.name, fdef.kind, fdef.exact)

    return find


def _plain(value: Any) -> Any:
    return None if value is None else str(value)


# How a legacy plan renders a field: as stored (strings, flags, datetimes), str() of a number, or
# with its own function.
AS_STORED, AS_TEXT, CUSTOM = 0, 1, 2
_STORED_AS_TEXT = {"str", "flag", "datetime"}


def _legacy_render(fdef: FieldDef, clock: Clock) -> tuple[int, Render]:
    if fdef.user_field or fdef.multiple or fdef.type == "crm_multifield":
        return CUSTOM, lambda v: render_legacy(fdef, v, clock)
    if fdef.kind == "float":
        if fdef.name in MONEY_FIELDS:
            return CUSTOM, lambda v: None if v is None else f"{float(v):.2f}"
        return CUSTOM, lambda v: render_legacy(fdef, v, clock)
    if fdef.kind == "date":
        return CUSTOM, lambda v: None if v is None else render_date(v, clock)
    if fdef.kind in _STORED_AS_TEXT:
        return AS_STORED, _plain
    return AS_TEXT, _plain


@dataclass
class LegacyPlan:
    fields: list[tuple[str, int, Render]]
    parents: bool
    multi: list[tuple[str, Render]]

    def apply(self, row: dict[str, Any]) -> dict[str, Any]:
        get = row.get
        result = {
            name: get(name)
            if how == AS_STORED
            else (
                (None if (value := get(name)) is None else str(value))
                if how == AS_TEXT
                else render(get(name))
            )
            for name, how, render in self.fields
        }
        if self.parents:
            for key, value in row.items():
                if key.startswith("PARENT_ID_"):
                    result[key] = _plain(value)
        for name, render in self.multi:
            if row.get(name):
                result[name] = render(row[name])  # the portal omits empty multifields
        return result


def legacy_plan(portal: Portal, entity: EntityType, select: list[Any] | None) -> LegacyPlan:
    """``select=None`` (a ``get``): every field with multifields; ``[]``: ``*`` plus ``UF_*``."""
    names = None if select is None else [str(s).strip().upper() for s in select if str(s).strip()]
    version = (portal.table("userfields").version, portal.table("crm_types").version)
    key = (entity.entity_type_id, entity.type_id, version, None if names is None else tuple(names))
    cache: dict[Any, LegacyPlan] = portal.memo.setdefault("render_plans", {})
    plan = cache.get(key)
    if plan is None:
        if len(cache) > 256:
            cache.clear()
        plan = cache[key] = _legacy_plan(portal, entity, names)
    return plan


def _legacy_plan(portal: Portal, entity: EntityType, names: list[str] | None) -> LegacyPlan:
    fields = field_map(portal, entity)
    clock = portal.clock
    standard = [
        f for f in fields.values() if f.legacy_row and not f.user_field and f.type != "crm_multifield"
    ]
    user = [f for f in fields.values() if f.user_field]
    multi = [f for f in fields.values() if f.type == "crm_multifield"]
    wanted: set[str] = set()
    parents = names is None or not names or "*" in names
    if names is None:
        wanted = {f.name for f in [*standard, *user, *multi]}
    elif not names:
        wanted = {f.name for f in [*standard, *user]}
    else:
        for name in names:
            if name == "*":
                wanted.update(f.name for f in standard)
            elif name == "UF_*":
                wanted.update(f.name for f in user)
            elif name in fields and (fields[name].legacy_row or fields[name].user_field):
                wanted.add(name)
        wanted.add("ID")
    chosen = [(f.name, *_legacy_render(f, clock)) for f in [*standard, *user] if f.name in wanted]
    extra = [n for n in (names or []) if n.startswith("PARENT_ID_") and parent_field(portal, n)]
    chosen += [(n, AS_TEXT, _plain) for n in extra]
    multi_plan = [(f.name, _legacy_render(f, clock)[1]) for f in multi if f.name in wanted]
    return LegacyPlan(chosen, parents, multi_plan)


def legacy_row(
    portal: Portal, entity: EntityType, row: dict[str, Any], select: list[Any] | None
) -> dict[str, Any]:
    return legacy_plan(portal, entity, select).apply(row)


@dataclass
class ItemPlan:
    fields: list[tuple[str, str, FieldDef]]
    parents: set[str] | None  # None: every parent link present
    fm: bool
    entity_type_id: int | None
    clock: Clock

    def apply(self, row: dict[str, Any]) -> dict[str, Any]:
        clock = self.clock
        result = {out: render_item(fdef, row.get(key), clock) for out, key, fdef in self.fields}
        for key, value in row.items():
            if key.startswith("PARENT_ID_"):
                camel = "parentId" + key[len("PARENT_ID_") :]
                if self.parents is None or camel in self.parents or key in self.parents:
                    result[camel] = value
        if self.fm:
            result.update(aliases(row))
            result["fm"] = fm_view(row)
        if self.entity_type_id is not None:
            result["entityTypeId"] = self.entity_type_id
        return result


def item_plan(
    portal: Portal, entity: EntityType, select: list[Any] | None, *, original_uf_names: bool = False
) -> ItemPlan:
    names = None if select is None else [str(s).strip() for s in select if str(s).strip()]
    everything = not names or "*" in names
    fields = field_map(portal, entity)
    chosen: list[tuple[str, str, FieldDef]] = []
    for fdef in fields.values():
        if not (fdef.item or fdef.user_field):
            continue
        out = fdef.name if (fdef.user_field and original_uf_names) else fdef.camel_name
        if everything or out in names or fdef.name in names or fdef.name == "ID":  # type: ignore[operator]
            chosen.append((out, fdef.name, fdef))
    has_fm = everything and "PHONE" in entity.by_name
    etid = entity.entity_type_id if everything or "entityTypeId" in (names or []) else None
    parents = None if everything else set(names or [])
    return ItemPlan(chosen, parents, has_fm, etid, portal.clock)


def item_row(
    portal: Portal,
    entity: EntityType,
    row: dict[str, Any],
    select: list[Any] | None,
    *,
    original_uf_names: bool = False,
) -> dict[str, Any]:
    return item_plan(portal, entity, select, original_uf_names=original_uf_names).apply(row)


def describe_fields(
    portal: Portal, entity: EntityType, *, item: bool, original_uf_names: bool = False
) -> dict[str, Any]:
    """``crm.<entity>.fields`` (UPPER names) or ``crm.item.fields`` (camel names + upperName)."""
    uf_by_name = {r["FIELD_NAME"]: r for r in uf_rows(portal, entity)}
    language = portal.settings.language
    result: dict[str, Any] = {}
    for fdef in field_map(portal, entity).values():
        shown = (fdef.item if item else fdef.legacy) or fdef.user_field
        if not shown:
            continue
        info: dict[str, Any] = {
            "type": "boolean" if item and fdef.type == "char" else fdef.type,
            "isRequired": fdef.required,
            "isReadOnly": fdef.read_only,
            "isImmutable": fdef.immutable,
            "isMultiple": fdef.multiple,
            "isDynamic": fdef.user_field,
        }
        status_type = _status_type(portal, entity, fdef, item=item)
        if status_type:
            info["statusType"] = status_type
        if fdef.deprecated:
            info["isDeprecated"] = True
        uf = uf_by_name.get(fdef.name)
        if uf is not None:
            _describe_uf(info, uf, language, item=item)
        else:
            info["title"] = fdef.title
            if fdef.parent_type is not None:
                info["settings"] = {"parentEntityTypeId": fdef.parent_type}
        if item:
            info["upperName"] = fdef.name
            out = fdef.name if (fdef.user_field and original_uf_names) else fdef.camel_name
            result[out] = info
        else:
            result[fdef.name] = info
    return result


def _status_type(portal: Portal, entity: EntityType, fdef: FieldDef, *, item: bool) -> str | None:
    if fdef.name == "STAGE_ID" and entity.is_dynamic:
        return entity.stage_entity(stages.default_category(portal, entity))
    return fdef.status_type


def _describe_uf(info: dict[str, Any], uf: dict[str, Any], language: str, *, item: bool) -> None:
    if uf["USER_TYPE_ID"] == "enumeration":
        info["items"] = [{"ID": str(i["ID"]), "VALUE": i["VALUE"]} for i in uf["LIST"]]
    form = label(uf, "EDIT_FORM_LABEL", language)
    info["title"] = (form or uf["FIELD_NAME"]) if item else uf["FIELD_NAME"]
    info["listLabel"] = label(uf, "LIST_COLUMN_LABEL", language)
    info["formLabel"] = form
    info["filterLabel"] = label(uf, "LIST_FILTER_LABEL", language)
    info["settings"] = uf["SETTINGS"] or []
