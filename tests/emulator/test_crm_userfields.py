"""crm.<entity>.userfield.*: naming, enumerations, labels, errors, and values stored on records."""

from __future__ import annotations

from typing import Any

import pytest

from b24kit.testing.emulator import RunningEmulator

from .rest import call, ok

COLOR = {
    "FIELD_NAME": "COLOR",
    "USER_TYPE_ID": "enumeration",
    "LABEL": "Color",
    "MULTIPLE": "N",
    "SETTINGS": {"DISPLAY": "LIST", "LIST_HEIGHT": 1},
    "LIST": [
        {"VALUE": "Red", "SORT": 10, "DEF": "Y", "XML_ID": "red"},
        {"VALUE": "", "SORT": 15},
        {"VALUE": "Blue", "SORT": 20, "DEF": "Y"},
    ],
}


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("MANAGER_NOTE", "UF_CRM_MANAGER_NOTE"),
        ("UF_MANAGER_NOTE", "UF_CRM_MANAGER_NOTE"),
        ("UF_CRM_MANAGER_NOTE", "UF_CRM_MANAGER_NOTE"),
        ("manager_note", "UF_CRM_MANAGER_NOTE"),
    ],
)
def test_field_names_get_the_uf_crm_prefix(b24_emulator: RunningEmulator, given: str, stored: str) -> None:
    uf_id = ok(
        b24_emulator, "crm.deal.userfield.add", {"fields": {"FIELD_NAME": given, "USER_TYPE_ID": "string"}}
    )
    assert isinstance(uf_id, int)
    assert ok(b24_emulator, "crm.deal.userfield.get", {"id": uf_id})["FIELD_NAME"] == stored


def test_add_errors(b24_emulator: RunningEmulator) -> None:
    def error(fields: dict[str, Any]) -> tuple[int, Any]:
        return call(b24_emulator, "crm.deal.userfield.add", {"fields": fields})

    assert error({"USER_TYPE_ID": "string"}) == (
        400,
        {"error": "", "error_description": "The 'FIELD_NAME' field is not found."},
    )
    assert error({"FIELD_NAME": "X"}) == (
        400,
        {"error": "", "error_description": "The 'USER_TYPE_ID' field is not found."},
    )
    assert error({"FIELD_NAME": "X", "USER_TYPE_ID": "nope"}) == (
        400,
        {"error": "ERROR_CORE", "error_description": "Incorrect custom type specified."},
    )
    assert error({"FIELD_NAME": "X" * 44, "USER_TYPE_ID": "string"}) == (
        400,
        {"error": "ERROR_CORE", "error_description": "Field name is too long (more than 50 characters)."},
    )
    assert ok(
        b24_emulator, "crm.deal.userfield.add", {"fields": {"FIELD_NAME": "X" * 43, "USER_TYPE_ID": "string"}}
    )
    assert error({"FIELD_NAME": "BAD-NAME", "USER_TYPE_ID": "string"}) == (
        400,
        {
            "error": "ERROR_CORE",
            "error_description": (
                "Field name contains invalid characters. Allowed characters are: A-Z, 0-9 and _."
            ),
        },
    )
    duplicate = {**COLOR, "LIST": [{"VALUE": "A", "XML_ID": "x"}, {"VALUE": "B", "XML_ID": "x"}]}
    assert error(duplicate) == (
        400,
        {"error": "ERROR_CORE", "error_description": "List item with value XML_ID=x already exists."},
    )
    assert ok(b24_emulator, "crm.deal.userfield.list", {}) == [
        ok(b24_emulator, "crm.deal.userfield.list", {})[0]
    ]


def test_enumeration_list_items(b24_emulator: RunningEmulator) -> None:
    uf_id = ok(b24_emulator, "crm.deal.userfield.add", {"fields": COLOR})
    field = ok(b24_emulator, "crm.deal.userfield.get", {"id": uf_id})
    assert (field["ID"], field["ENTITY_ID"], field["FIELD_NAME"]) == (str(uf_id), "CRM_DEAL", "UF_CRM_COLOR")
    assert (field["SORT"], field["MULTIPLE"], field["SHOW_FILTER"], field["SHOW_IN_LIST"]) == (
        "100",
        "N",
        "N",
        "N",
    )
    assert field["SETTINGS"] == {
        "DISPLAY": "LIST",
        "LIST_HEIGHT": 1,
        "CAPTION_NO_VALUE": "",
        "SHOW_NO_VALUE": "Y",
    }
    red, blue = field["LIST"]  # the item with an empty VALUE is ignored
    assert (red["VALUE"], red["SORT"], red["DEF"], red["XML_ID"]) == ("Red", "10", "Y", "red")
    assert (blue["VALUE"], blue["DEF"]) == ("Blue", "N")  # one default in a single-value list
    assert red["ID"].isdigit() and len(blue["XML_ID"]) == 32
    assert field["EDIT_FORM_LABEL"]["en"] == field["EDIT_FORM_LABEL"]["ru"] == "Color"
    assert field["HELP_MESSAGE"]["de"] == "Color"  # LABEL fills every label not given


def test_enumeration_values_are_stored_as_item_ids(b24_emulator: RunningEmulator) -> None:
    ok(b24_emulator, "crm.deal.userfield.add", {"fields": COLOR})
    multi = {**COLOR, "FIELD_NAME": "TAGS", "MULTIPLE": "Y"}
    ok(b24_emulator, "crm.deal.userfield.add", {"fields": multi})
    fields = ok(b24_emulator, "crm.deal.fields")
    color_items = {i["VALUE"]: i["ID"] for i in fields["UF_CRM_COLOR"]["items"]}
    tag_items = {i["VALUE"]: int(i["ID"]) for i in fields["UF_CRM_TAGS"]["items"]}
    deal_id = ok(
        b24_emulator,
        "crm.deal.add",
        {
            "fields": {
                "UF_CRM_COLOR": color_items["Blue"],
                "UF_CRM_TAGS": [tag_items["Red"], tag_items["Blue"], 999999],
            }
        },
    )
    deal = ok(b24_emulator, "crm.deal.get", {"id": deal_id})
    assert deal["UF_CRM_COLOR"] == color_items["Blue"]
    assert deal["UF_CRM_TAGS"] == [str(tag_items["Red"]), str(tag_items["Blue"])]  # unknown item dropped
    item = ok(b24_emulator, "crm.item.get", {"entityTypeId": 2, "id": deal_id})["item"]
    assert item["ufCrm_COLOR"] == int(color_items["Blue"]) and item["ufCrm_TAGS"] == [
        tag_items["Red"],
        tag_items["Blue"],
    ]
    found = ok(b24_emulator, "crm.deal.list", {"filter": {"UF_CRM_TAGS": tag_items["Red"]}, "select": ["ID"]})
    assert [d["ID"] for d in found] == [str(deal_id)]
    assert ok(b24_emulator, "crm.deal.list", {"filter": {"UF_CRM_COLOR": color_items["Red"]}}) == []
    empty = ok(b24_emulator, "crm.deal.get", {"id": ok(b24_emulator, "crm.deal.add", {"fields": {}})})
    assert (empty["UF_CRM_COLOR"], empty["UF_CRM_TAGS"]) == (None, [])


def test_fields_show_user_fields_with_labels_items_and_settings(b24_emulator: RunningEmulator) -> None:
    ok(b24_emulator, "crm.deal.userfield.add", {"fields": COLOR})
    described = ok(b24_emulator, "crm.deal.fields")["UF_CRM_COLOR"]
    assert described["type"] == "enumeration" and described["isDynamic"] is True
    assert (described["title"], described["listLabel"], described["formLabel"], described["filterLabel"]) == (
        "UF_CRM_COLOR",
        "Color",
        "Color",
        "Color",
    )
    assert [i["VALUE"] for i in described["items"]] == ["Red", "Blue"]
    assert set(described["items"][0]) == {"ID", "VALUE"} and isinstance(described["items"][0]["ID"], str)
    assert described["settings"]["DISPLAY"] == "LIST"
    item_fields = ok(b24_emulator, "crm.item.fields", {"entityTypeId": 2})["fields"]
    assert (
        item_fields["ufCrm_COLOR"]["title"] == "Color"
        and item_fields["ufCrm_COLOR"]["upperName"] == "UF_CRM_COLOR"
    )


def test_update_edits_labels_and_list_items(b24_emulator: RunningEmulator) -> None:
    uf_id = ok(b24_emulator, "crm.deal.userfield.add", {"fields": COLOR})
    red, blue = ok(b24_emulator, "crm.deal.userfield.get", {"id": uf_id})["LIST"]
    edits = [
        {"ID": red["ID"], "DEL": "Y"},
        {"ID": blue["ID"], "VALUE": "Navy"},
        {"VALUE": "Green", "XML_ID": "green"},
    ]
    assert ok(
        b24_emulator,
        "crm.deal.userfield.update",
        {"id": uf_id, "fields": {"LIST": edits, "EDIT_FORM_LABEL": {"en": "Colour"}}},
    )
    field = ok(b24_emulator, "crm.deal.userfield.get", {"id": uf_id})
    assert [(i["VALUE"], i["XML_ID"]) for i in field["LIST"]] == [
        ("Green", "green"),
        ("Navy", blue["XML_ID"]),
    ]
    assert field["EDIT_FORM_LABEL"]["en"] == "Colour" and field["EDIT_FORM_LABEL"]["ru"] == "Color"
    clash = [{"VALUE": "Other", "XML_ID": "green"}]
    assert call(b24_emulator, "crm.deal.userfield.update", {"id": uf_id, "fields": {"LIST": clash}}) == (
        400,
        {"error": "ERROR_CORE", "error_description": "List item with XML_ID='green' already exists"},
    )


def test_list_filters_orders_and_shows_labels_only_for_a_language(b24_emulator: RunningEmulator) -> None:
    ok(b24_emulator, "crm.deal.userfield.add", {"fields": {**COLOR, "SORT": 300}})
    ok(
        b24_emulator,
        "crm.deal.userfield.add",
        {"fields": {"FIELD_NAME": "NOTE", "USER_TYPE_ID": "string", "SORT": 200}},
    )
    ok(
        b24_emulator,
        "crm.contact.userfield.add",
        {"fields": {"FIELD_NAME": "NOTE", "USER_TYPE_ID": "string"}},
    )
    status, body = call(b24_emulator, "crm.deal.userfield.list", {})
    assert status == 200 and body["total"] == 2
    assert [f["FIELD_NAME"] for f in body["result"]] == ["UF_CRM_NOTE", "UF_CRM_COLOR"]
    assert "EDIT_FORM_LABEL" not in body["result"][0]
    enums = ok(
        b24_emulator, "crm.deal.userfield.list", {"filter": {"USER_TYPE_ID": "enumeration", "LANG": "en"}}
    )
    assert [(f["FIELD_NAME"], f["EDIT_FORM_LABEL"]) for f in enums] == [("UF_CRM_COLOR", "Color")]
    desc = ok(b24_emulator, "crm.deal.userfield.list", {"order": {"SORT": "DESC"}})
    assert [f["FIELD_NAME"] for f in desc] == ["UF_CRM_COLOR", "UF_CRM_NOTE"]


def test_get_update_delete_errors_and_delete_drops_values(b24_emulator: RunningEmulator) -> None:
    missing = (
        400,
        {"error": "ERROR_NOT_FOUND", "error_description": "The entity with ID '999' is not found"},
    )
    assert call(b24_emulator, "crm.deal.userfield.get", {"id": 999}) == missing
    assert call(b24_emulator, "crm.deal.userfield.update", {"id": 999, "fields": {}}) == missing
    assert call(b24_emulator, "crm.deal.userfield.delete", {"id": 999}) == missing
    assert call(b24_emulator, "crm.deal.userfield.get", {"id": 0}) == (
        400,
        {"error": "", "error_description": "ID is not defined or invalid."},
    )
    contact_uf = ok(
        b24_emulator, "crm.contact.userfield.add", {"fields": {"FIELD_NAME": "N", "USER_TYPE_ID": "string"}}
    )
    assert (
        call(b24_emulator, "crm.deal.userfield.get", {"id": contact_uf})[0] == 400
    )  # another entity's field
    uf_id = ok(
        b24_emulator, "crm.deal.userfield.add", {"fields": {"FIELD_NAME": "NOTE", "USER_TYPE_ID": "string"}}
    )
    deal_id = ok(b24_emulator, "crm.deal.add", {"fields": {"UF_CRM_NOTE": "x"}})
    assert ok(b24_emulator, "crm.deal.userfield.delete", {"id": uf_id}) is True
    assert "UF_CRM_NOTE" not in ok(b24_emulator, "crm.deal.get", {"id": deal_id})
    assert "UF_CRM_NOTE" not in b24_emulator.portal.table("crm_deal").get(deal_id)  # type: ignore[operator]


@pytest.mark.parametrize(
    ("user_type", "given", "legacy", "item"),
    [
        ("integer", "42", "42", 42),
        ("double", "2.5", "2.5", 2.5),
        ("boolean", "Y", "1", "Y"),
        ("boolean", 0, "0", "N"),
        ("date", "2024-05-10", "2024-05-10T03:00:00+03:00", "2024-05-10T03:00:00+03:00"),
        ("datetime", "2024-05-10 12:30:00", "2024-05-10T12:30:00+03:00", "2024-05-10T12:30:00+03:00"),
        ("money", "100|RUB", "100|RUB", "100|RUB"),
        ("employee", 1, "1", 1),
    ],
)
def test_typed_user_field_values(
    b24_emulator: RunningEmulator, user_type: str, given: Any, legacy: Any, item: Any
) -> None:
    ok(b24_emulator, "crm.deal.userfield.add", {"fields": {"FIELD_NAME": "VALUE", "USER_TYPE_ID": user_type}})
    deal_id = ok(b24_emulator, "crm.deal.add", {"fields": {"UF_CRM_VALUE": given}})
    assert ok(b24_emulator, "crm.deal.get", {"id": deal_id})["UF_CRM_VALUE"] == legacy
    assert ok(b24_emulator, "crm.item.get", {"entityTypeId": 2, "id": deal_id})["item"]["ufCrm_VALUE"] == item


def test_boolean_user_fields_filter_with_one_and_zero(b24_emulator: RunningEmulator) -> None:
    ok(
        b24_emulator,
        "crm.deal.userfield.add",
        {"fields": {"FIELD_NAME": "VIP", "USER_TYPE_ID": "boolean", "MULTIPLE": "Y"}},
    )
    yes = ok(b24_emulator, "crm.deal.add", {"fields": {"UF_CRM_VIP": "Y"}})
    no = ok(b24_emulator, "crm.deal.add", {"fields": {"UF_CRM_VIP": "N"}})
    assert (
        ok(b24_emulator, "crm.deal.userfield.list", {})[0]["MULTIPLE"] == "N"
    )  # booleans cannot be multiple
    for value, expected in ((1, [yes]), ("0", [no])):
        items = ok(
            b24_emulator,
            "crm.item.list",
            {"entityTypeId": 2, "filter": {"ufCrm_VIP": value}, "select": ["id"]},
        )
        assert [i["id"] for i in items["items"]] == expected
