"""crm.item.* and crm.type.*: camelCase and native numbers for deals, contacts, SPAs and invoices."""

from __future__ import annotations

from typing import Any

import pytest

from b24kit.testing.emulator import RunningEmulator

from .rest import call, ok


def spa(emu: RunningEmulator, entity_type_id: int = 1038, title: str = "Production") -> dict[str, Any]:
    return dict(ok(emu, "crm.type.add", {"fields": {"title": title, "entityTypeId": entity_type_id}})["type"])


def test_deal_through_crm_item_has_native_types(b24_emulator: RunningEmulator) -> None:
    item = ok(
        b24_emulator, "crm.item.add", {"entityTypeId": 2, "fields": {"title": "Native", "opportunity": 999.9}}
    )["item"]
    assert isinstance(item["id"], int) and item["entityTypeId"] == 2
    assert (item["title"], item["opportunity"], item["categoryId"], item["stageId"]) == (
        "Native",
        999.9,
        0,
        "NEW",
    )
    assert (item["opened"], item["isManualOpportunity"], item["closed"]) == ("Y", "N", "N")
    assert (item["createdBy"], item["assignedById"], item["companyId"], item["contactId"]) == (1, 1, 0, 0)
    assert item["contactIds"] == [] and item["observers"] == []
    assert item["begindate"].endswith("T03:00:00+03:00") and item["createdTime"].endswith("+03:00")
    assert "TITLE" not in item and "fm" not in item  # deals have no multifields
    whole = ok(
        b24_emulator,
        "crm.item.update",
        {"entityTypeId": 2, "id": item["id"], "fields": {"opportunity": "19000"}},
    )
    assert whole["item"]["opportunity"] == 19000 and whole["item"]["title"] == "Native"
    assert ok(b24_emulator, "crm.deal.get", {"id": item["id"]})["OPPORTUNITY"] == "19000.00"


def test_contact_fm_and_flat_aliases(b24_emulator: RunningEmulator) -> None:
    fm = {
        "n0": {"typeId": "PHONE", "valueType": "WORK", "value": "+6111111111"},
        "n1": {"typeId": "EMAIL", "valueType": "WORK", "value": "a@b.io"},
    }
    item = ok(b24_emulator, "crm.item.add", {"entityTypeId": 3, "fields": {"name": "Ann", "fm": fm}})["item"]
    phone, email = item["fm"]
    assert phone == {"id": phone["id"], "valueType": "WORK", "value": "+6111111111", "typeId": "PHONE"}
    assert isinstance(phone["id"], int) and email["typeId"] == "EMAIL"
    assert (item["phone"], item["phoneWork"], item["phoneMobile"], item["email"], item["emailWork"]) == (
        "+6111111111",
        "+6111111111",
        "",
        "a@b.io",
        "a@b.io",
    )
    assert (item["skype"], item["imol"], item["hasPhone"], item["hasEmail"]) == (None, "", "Y", "Y")
    edits = {
        str(phone["id"]): {"typeId": "PHONE", "valueType": "MOBILE", "value": "+7000"},
        str(email["id"]): {"typeId": "EMAIL", "value": ""},
    }
    after = ok(
        b24_emulator, "crm.item.update", {"entityTypeId": 3, "id": item["id"], "fields": {"fm": edits}}
    )["item"]
    assert after["fm"] == [{"id": phone["id"], "valueType": "MOBILE", "value": "+7000", "typeId": "PHONE"}]
    assert (after["phoneMobile"], after["email"], after["hasEmail"]) == ("+7000", "", "N")
    legacy = ok(b24_emulator, "crm.contact.get", {"id": item["id"]})
    assert legacy["PHONE"] == [
        {"ID": str(phone["id"]), "VALUE_TYPE": "MOBILE", "VALUE": "+7000", "TYPE_ID": "PHONE"}
    ]


def test_list_select_filter_order_and_paging(b24_emulator: RunningEmulator) -> None:
    for index in range(55):
        ok(
            b24_emulator,
            "crm.item.add",
            {"entityTypeId": 2, "fields": {"title": f"Deal {index:02d}", "opportunity": index}},
        )
    status, body = call(
        b24_emulator, "crm.item.list", {"entityTypeId": 2, "select": ["id", "title"], "order": {"id": "DESC"}}
    )
    assert status == 200 and (body["total"], body["next"]) == (55, 50)
    items = body["result"]["items"]
    assert len(items) == 50 and items[0] == {"id": 55, "title": "Deal 54"}
    rest = ok(
        b24_emulator,
        "crm.item.list",
        {"entityTypeId": 2, "select": ["title"], "order": {"id": "DESC"}, "start": 50},
    )
    assert [i["id"] for i in rest["items"]] == [5, 4, 3, 2, 1]
    nested = {"0": {"logic": "OR", "0": {"=title": "Deal 03"}, "1": {">opportunity": 52}}, "<id": 55}
    found = ok(
        b24_emulator,
        "crm.item.list",
        {"entityTypeId": 2, "filter": nested, "select": ["id"], "order": {"id": "ASC"}},
    )
    assert [i["id"] for i in found["items"]] == [4, 54]
    liked = ok(
        b24_emulator,
        "crm.item.list",
        {"entityTypeId": 2, "filter": {"%title": "Deal 1", "!%=title": "%9"}, "select": ["id"]},
    )
    assert len(liked["items"]) == 9
    window = call(
        b24_emulator,
        "crm.item.list",
        {"entityTypeId": 2, "filter": {">id": 50}, "order": {"id": "ASC"}, "start": -1},
    )[1]
    assert ([i["id"] for i in window["result"]["items"]], window["total"], "next" in window) == (
        [51, 52, 53, 54, 55],
        0,
        False,
    )


def test_list_errors(b24_emulator: RunningEmulator) -> None:
    assert call(b24_emulator, "crm.item.list", {"entityTypeId": 2, "filter": {"NOPE": 1}}) == (
        400,
        {
            "error": "INVALID_ARG_VALUE",
            "error_description": "Invalid filter: field 'NOPE' is not allowed in filter",
        },
    )
    assert (
        call(b24_emulator, "crm.item.list", {"entityTypeId": 2, "order": {"nope": "ASC"}})[1]["error"]
        == "INVALID_ARG_VALUE"
    )
    assert call(b24_emulator, "crm.item.list", {"entityTypeId": 4242}) == (
        400,
        {"error": "NOT_FOUND", "error_description": "SPA not found"},
    )
    assert (
        call(b24_emulator, "crm.item.get", {"entityTypeId": 5, "id": 1})[1]["error"]
        == "ENTITY_TYPE_NOT_SUPPORTED"
    )
    assert call(b24_emulator, "crm.item.get", {"entityTypeId": 2, "id": 9}) == (
        400,
        {"error": "NOT_FOUND", "error_description": "Element not found"},
    )
    assert call(b24_emulator, "crm.item.add", {"entityTypeId": 2, "fields": {"contactIds": 5}}) == (
        400,
        {
            "error": "100",
            "error_description": "Expected iterable value for multiple field, but got integer instead",
        },
    )


def test_delete_answers_an_empty_array(b24_emulator: RunningEmulator) -> None:
    item = ok(b24_emulator, "crm.item.add", {"entityTypeId": 3, "fields": {"name": "Gone"}})["item"]
    assert ok(b24_emulator, "crm.item.delete", {"entityTypeId": 3, "id": item["id"]}) == []
    assert (
        call(b24_emulator, "crm.item.get", {"entityTypeId": 3, "id": item["id"]})[1]["error"] == "NOT_FOUND"
    )


def test_unknown_fields_are_ignored_and_read_only_fields_kept(b24_emulator: RunningEmulator) -> None:
    item = ok(
        b24_emulator,
        "crm.item.add",
        {"entityTypeId": 2, "fields": {"title": "T", "nope": 1, "createdBy": 99, "id": 77}},
    )["item"]
    assert item["createdBy"] == 1 and item["id"] != 77 and "nope" not in item


def test_types_add_list_get(b24_emulator: RunningEmulator) -> None:
    created = spa(b24_emulator)
    assert (
        created["title"],
        created["entityTypeId"],
        created["isCategoriesEnabled"],
        created["isStagesEnabled"],
    ) == ("Production", 1038, "N", "N")
    assert isinstance(created["id"], int) and created["createdBy"] == 1
    generated = ok(b24_emulator, "crm.type.add", {"fields": {"title": "Auto"}})["type"]
    assert generated["entityTypeId"] >= 1030 and generated["entityTypeId"] % 2 == 0
    status, body = call(b24_emulator, "crm.type.list", {"order": {"id": "ASC"}})
    assert status == 200 and body["total"] == 2
    assert [t["title"] for t in body["result"]["types"]] == ["Production", "Auto"]
    assert ok(b24_emulator, "crm.type.get", {"id": created["id"]})["type"]["entityTypeId"] == 1038
    assert (
        ok(b24_emulator, "crm.type.getByEntityTypeId", {"entityTypeId": 1038})["type"]["id"] == created["id"]
    )
    assert call(b24_emulator, "crm.type.add", {"fields": {"title": "Bad", "entityTypeId": 1031}}) == (
        400,
        {"error": "INVALID_ARG_VALUE", "error_description": "entityTypeId is out of allowed range"},
    )
    assert call(b24_emulator, "crm.type.add", {})[1]["error"] == "100"
    assert call(b24_emulator, "crm.type.get", {"id": 999})[1]["error"] == "NOT_FOUND"


@pytest.mark.parametrize("original", [False, True])
def test_smart_process_items_and_user_field_names(b24_emulator: RunningEmulator, original: bool) -> None:
    created = spa(b24_emulator)
    type_id = created["id"]
    field = ok(
        b24_emulator,
        "userfieldconfig.add",
        {
            "moduleId": "crm",
            "field": {
                "entityId": f"CRM_{type_id}",
                "fieldName": f"UF_CRM_{type_id}_SIZE",
                "userTypeId": "string",
                "editFormLabel": {"en": "Size"},
            },
        },
    )["field"]
    assert (field["fieldName"], field["entityId"], field["editFormLabel"]["en"]) == (
        f"UF_CRM_{type_id}_SIZE",
        f"CRM_{type_id}",
        "Size",
    )
    camel, upper = f"ufCrm{type_id}_SIZE", f"UF_CRM_{type_id}_SIZE"
    name = upper if original else camel
    params = {"entityTypeId": 1038, "useOriginalUfNames": "Y" if original else "N"}
    item = ok(b24_emulator, "crm.item.add", {**params, "fields": {"title": "", name: "XL"}})["item"]
    assert item[name] == "XL" and (camel if original else upper) not in item
    category = ok(b24_emulator, "crm.category.list", {"entityTypeId": 1038})["categories"][0]["id"]
    assert (item["title"], item["stageId"], item["categoryId"]) == (
        f"Production #{item['id']}",
        f"DT1038_{category}:NEW",
        category,
    )
    found = ok(b24_emulator, "crm.item.list", {**params, "filter": {name: "XL"}, "select": ["id", name]})
    assert found["items"] == [{"id": item["id"], name: "XL"}]
    described = ok(b24_emulator, "crm.item.fields", params)["fields"]
    assert described[name]["upperName"] == upper and described[name]["title"] == "Size"
    assert described["stageId"]["statusType"] == f"DYNAMIC_1038_STAGE_{category}"
    moved = ok(
        b24_emulator,
        "crm.item.update",
        {**params, "id": item["id"], "fields": {"stageId": f"DT1038_{category}:SUCCESS"}},
    )
    assert (moved["item"]["stageId"], moved["item"]["previousStageId"]) == (
        f"DT1038_{category}:SUCCESS",
        f"DT1038_{category}:NEW",
    )
    history = ok(b24_emulator, "crm.stagehistory.list", {"entityTypeId": 1038})["items"]
    assert [h["TYPE_ID"] for h in history] == [1, 3]


def test_smart_invoice_linked_to_a_deal(b24_emulator: RunningEmulator) -> None:
    deal_id = ok(b24_emulator, "crm.deal.add", {"fields": {"TITLE": "Parent"}})
    first = ok(
        b24_emulator,
        "crm.item.add",
        {"entityTypeId": 31, "fields": {"title": "Pay 1", "opportunity": 500, "parentId2": deal_id}},
    )["item"]
    ok(b24_emulator, "crm.item.add", {"entityTypeId": 31, "fields": {"title": "Other"}})
    assert (first["parentId2"], first["opportunity"], first["entityTypeId"], first["accountNumber"]) == (
        deal_id,
        500,
        31,
        str(first["id"]),
    )
    linked = ok(
        b24_emulator,
        "crm.item.list",
        {"entityTypeId": 31, "filter": {"parentId2": deal_id}, "select": ["id", "parentId2"]},
    )
    assert linked["items"] == [{"id": first["id"], "parentId2": deal_id}]
    assert (
        ok(b24_emulator, "crm.item.get", {"entityTypeId": 31, "id": first["id"], "useOriginalUfNames": "Y"})[
            "item"
        ]["parentId2"]
        == deal_id
    )
    assert (
        ok(b24_emulator, "crm.item.list", {"entityTypeId": 31, "filter": {"parentId2": deal_id + 1}})["items"]
        == []
    )
    untitled = ok(b24_emulator, "crm.item.add", {"entityTypeId": 31, "fields": {}})["item"]
    assert untitled["title"] == f"Invoice #{untitled['id']}"
