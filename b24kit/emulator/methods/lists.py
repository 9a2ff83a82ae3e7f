"""``lists.add`` and ``lists.get``: universal lists (iblocks); see :mod:`.list_fields`, :mod:`.list_elements`.

Tables: ``lists`` (one row per list), ``list_fields`` (custom properties ``PROPERTY_{ID}`` and the
system fields a list was given). Property ids, list-item (enum) ids and value-row ids are drawn
from portal-wide sequences, as iblock tables number them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from b24kit.emulator.errors import RestError
from b24kit.emulator.methods.locale import locale_datetime
from b24kit.emulator.query import FieldRef, compile_query, flag, paginate, php_int
from b24kit.emulator.registry import Ctx, Listing, Params, method

IBLOCK_TYPES = ("lists", "bitrix_processes", "lists_socnet")
MESSAGES = {
    "ELEMENTS_NAME": "Elements",
    "ELEMENT_NAME": "Element",
    "ELEMENT_ADD": "Add element",
    "ELEMENT_EDIT": "Edit element",
    "ELEMENT_DELETE": "Delete element",
    "SECTIONS_NAME": "Sections",
    "SECTION_NAME": "Section",
    "SECTION_ADD": "Add section",
    "SECTION_EDIT": "Edit section",
    "SECTION_DELETE": "Delete section",
}


def missing(name: str) -> RestError:
    return RestError(400, "ERROR_REQUIRED_PARAMETERS_MISSING", f"Required parameter `{name}` is missing")


def next_id(ctx: Ctx, sequence: str) -> int:
    """A fresh id from a portal-wide sequence (property, list-item and value-row ids)."""
    table = ctx.portal.table(f"seq_{sequence}")
    new_id = table.insert({})
    table.delete(new_id)
    return new_id


def text_of(raw: Any) -> str:
    return "" if raw is None or isinstance(raw, dict | list) else str(raw).strip()


def iblock_type(p: Params) -> str:
    value = text_of(p.get("iblock_type_id"))
    if not value:
        raise missing("IBLOCK_TYPE_ID")
    return value


def find_list(ctx: Ctx, p: Params) -> dict[str, Any]:
    """The list named by ``IBLOCK_ID`` or ``IBLOCK_CODE`` within ``IBLOCK_TYPE_ID``."""
    kind = iblock_type(p)
    list_id, code = php_int(p.get("iblock_id")), text_of(p.get("iblock_code"))
    if list_id <= 0 and not code:
        raise missing("IBLOCK_ID")
    table = ctx.portal.table("lists")
    row = table.get(list_id) if list_id > 0 else next((r for r in table if r["CODE"] == code), None)
    if row is None or row["IBLOCK_TYPE_ID"] != kind:
        raise RestError(400, "ERROR_IBLOCK_NOT_FOUND", "Iblock not found")
    if kind == "lists_socnet" and php_int(p.get("socnet_group_id")) != row.get("SOCNET_GROUP_ID"):
        raise RestError(400, "ACCESS_DENIED", "Access denied")
    return row


# -- lists ----------------------------------------------------------------------------------


@method("lists.add", scope="lists")
def lists_add(ctx: Ctx, p: Params) -> int:
    if not ctx.portal.is_admin(ctx.caller.user_id):
        raise RestError(400, "ACCESS_DENIED", "Access denied")
    kind = iblock_type(p)
    code = text_of(p.get("iblock_code"))
    if not code:
        raise missing("IBLOCK_CODE")
    fields = p.mapping("fields")
    if "fields" not in p:
        raise missing("FIELDS")
    name = text_of(fields.get("NAME"))
    if not name:
        raise missing("NAME")
    if kind not in IBLOCK_TYPES:
        raise RestError(400, "ERROR_ADD_IBLOCK", f"Unknown iblock type {kind[:40]!r}")
    table = ctx.portal.table("lists")
    if any(r["CODE"] == code for r in table):
        raise RestError(400, "ERROR_IBLOCK_ALREADY_EXISTS", "Iblock already exists")
    messages = p.mapping("messages")
    row: dict[str, Any] = {
        "IBLOCK_TYPE_ID": kind,
        "CODE": code,
        "NAME": name,
        "DESCRIPTION": text_of(fields.get("DESCRIPTION")),
        "SORT": php_int(fields.get("SORT")) or 500,
        "BIZPROC": flag(fields.get("BIZPROC", "N")),
        "SOCNET_GROUP_ID": php_int(p.get("socnet_group_id")) or None,
        "TIMESTAMP_X": ctx.portal.clock.iso(),
        "MESSAGES": {k: text_of(messages.get(k)) or v for k, v in MESSAGES.items()},
        "RIGHTS": p.mapping("rights") or {f"U{ctx.caller.user_id}": "X"},
    }
    list_id = table.insert(row)
    row["ID"] = list_id
    table.save(list_id, row)
    return list_id


def render_list(ctx: Ctx, row: Mapping[str, Any]) -> dict[str, Any]:
    messages = row.get("MESSAGES") or MESSAGES
    return {
        "ID": str(row["ID"]),
        "TIMESTAMP_X": locale_datetime(ctx.portal, row["TIMESTAMP_X"]),
        "IBLOCK_TYPE_ID": row["IBLOCK_TYPE_ID"],
        "LID": "s1",
        "CODE": row["CODE"] or None,
        "API_CODE": None,
        "NAME": row["NAME"],
        "ACTIVE": "Y",
        "SORT": str(row["SORT"]),
        "LIST_PAGE_URL": None,
        "DETAIL_PAGE_URL": None,
        "SECTION_PAGE_URL": None,
        "CANONICAL_PAGE_URL": None,
        "PICTURE": None,
        "DESCRIPTION": row["DESCRIPTION"],
        "DESCRIPTION_TYPE": "text",
        "RSS_TTL": "24",
        "RSS_ACTIVE": "Y",
        "RSS_FILE_ACTIVE": "N",
        "RSS_FILE_LIMIT": None,
        "RSS_FILE_DAYS": None,
        "RSS_YANDEX_ACTIVE": "N",
        "XML_ID": None,
        "TMP_ID": None,
        "INDEX_ELEMENT": "Y",
        "INDEX_SECTION": "N",
        "WORKFLOW": "N",
        "BIZPROC": row["BIZPROC"],
        "SECTION_CHOOSER": "L",
        "LIST_MODE": None,
        "RIGHTS_MODE": "E",
        "SECTION_PROPERTY": None,
        "PROPERTY_INDEX": None,
        "VERSION": "1",
        "LAST_CONV_ELEMENT": "0",
        "SOCNET_GROUP_ID": None if row.get("SOCNET_GROUP_ID") is None else str(row["SOCNET_GROUP_ID"]),
        "EDIT_FILE_BEFORE": None,
        "EDIT_FILE_AFTER": None,
        **{
            k: messages.get(k, "") for k in ("SECTIONS_NAME", "SECTION_NAME", "ELEMENTS_NAME", "ELEMENT_NAME")
        },
        "REST_ON": "N",
        "FULLTEXT_INDEX": "N",
        "EXTERNAL_ID": None,
        "LANG_DIR": "/",
        "SERVER_NAME": None,
    }


_LIST_KINDS = {
    "ID": "int",
    "IBLOCK_TYPE": "str",
    "NAME": "str",
    "CODE": "str",
    "SORT": "int",
    "TIMESTAMP_X": "datetime",
}


@method("lists.get", scope="lists")
def lists_get(ctx: Ctx, p: Params) -> Listing:
    kind = iblock_type(p)
    if p.get("iblock_id") not in (None, "") or p.get("iblock_code") not in (None, ""):
        row = find_list(ctx, p)
        return Listing([render_list(ctx, row)], 1)
    filter_: dict[str, Any] = {"IBLOCK_TYPE_ID": kind}
    if kind == "lists_socnet":
        filter_["SOCNET_GROUP_ID"] = php_int(p.get("socnet_group_id"))

    def resolve(name: str) -> FieldRef | None:
        if name == "SOCNET_GROUP_ID":
            return FieldRef(name, "int")
        if name in ("IBLOCK_TYPE", "IBLOCK_TYPE_ID"):
            return FieldRef("IBLOCK_TYPE_ID")
        return FieldRef(name, _LIST_KINDS[name]) if name in _LIST_KINDS else None

    order = {str(k).upper(): v for k, v in p.mapping("iblock_order").items()} or {"ID": "DESC"}
    query = compile_query(filter_, order, resolve, ctx.portal.clock)
    page = paginate(ctx.portal.table("lists"), query, p.get("start"), ctx.portal.cache)
    return Listing([render_list(ctx, row) for row in page.rows], page.total, page.next)


from b24kit.emulator.methods import list_elements as _list_elements  # noqa: E402, F401 - registers lists.element.*
from b24kit.emulator.methods import list_fields as _list_fields  # noqa: E402, F401 - registers lists.field.*
