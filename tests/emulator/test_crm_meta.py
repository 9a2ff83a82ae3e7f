"""Product rows (mixed wire types), timeline comments and stage history."""

from __future__ import annotations

from typing import Any

import pytest

from b24kit.testing.emulator import RunningEmulator

from .rest import call, ok


# -- product rows -------------------------------------------------------------------------------
def test_product_rows_replace_and_set_the_amount(b24_emulator: RunningEmulator) -> None:
    deal_id = ok(b24_emulator, "crm.deal.add", {"fields": {"OPPORTUNITY": 5}})
    rows = [
        {
            "PRODUCT_ID": 450,
            "PRODUCT_NAME": "Product #2",
            "PRICE": 899.1,
            "QUANTITY": 1,
            "DISCOUNT_TYPE_ID": 2,
            "DISCOUNT_RATE": 10,
            "MEASURE_CODE": 796,
            "MEASURE_NAME": "pcs",
            "SORT": 10,
            "TAX_INCLUDED": "Y",
        },
        {"PRODUCT_NAME": "Service", "PRICE": "100", "QUANTITY": 2, "SORT": 20},
    ]
    assert ok(b24_emulator, "crm.deal.productrows.set", {"id": deal_id, "rows": rows}) is True
    first, second = ok(b24_emulator, "crm.deal.productrows.get", {"id": deal_id})
    assert (first["ID"], first["OWNER_ID"], first["OWNER_TYPE"]) == (first["ID"], str(deal_id), "D")
    assert isinstance(first["ID"], str) and first["PRODUCT_ID"] == 450
    assert (first["PRICE"], first["PRICE_ACCOUNT"], first["PRICE_NETTO"], first["DISCOUNT_SUM"]) == (
        899.1,
        "899.10",
        999,
        99.9,
    )
    assert (first["QUANTITY"], first["DISCOUNT_RATE"], first["DISCOUNT_TYPE_ID"], first["TAX_RATE"]) == (
        1,
        10,
        2,
        None,
    )
    assert (second["PRICE"], second["QUANTITY"], second["MEASURE_CODE"], second["MEASURE_NAME"]) == (
        100,
        2,
        0,
        "",
    )
    assert ok(b24_emulator, "crm.deal.get", {"id": deal_id})["OPPORTUNITY"] == "1099.10"
    ok(b24_emulator, "crm.deal.productrows.set", {"id": deal_id, "rows": [{"PRICE": 7}]})
    only = ok(b24_emulator, "crm.deal.productrows.get", {"id": deal_id})
    assert [r["PRICE"] for r in only] == [7] and only[0]["PRODUCT_NAME"] == f"[{only[0]['ID']}]"
    assert ok(b24_emulator, "crm.deal.get", {"id": deal_id})["OPPORTUNITY"] == "7.00"
    manual = ok(b24_emulator, "crm.deal.add", {"fields": {"OPPORTUNITY": 5, "IS_MANUAL_OPPORTUNITY": "Y"}})
    ok(b24_emulator, "crm.deal.productrows.set", {"id": manual, "rows": [{"PRICE": 7}]})
    assert ok(b24_emulator, "crm.deal.get", {"id": manual})["OPPORTUNITY"] == "5.00"


@pytest.mark.parametrize(
    ("row", "text"),
    [
        ({"PRICE": 1, "DISCOUNT_TYPE_ID": 2}, "Discount Rate (DISCOUNT_RATE) is required"),
        (
            {"PRICE": 1, "DISCOUNT_TYPE_ID": 2, "DISCOUNT_RATE": 100},
            "Discount Sum (DISCOUNT_SUM) is required if Percentage",
        ),
        ({"PRICE": 1, "DISCOUNT_TYPE_ID": 1}, "Discount Sum (DISCOUNT_SUM) is required if Monetary"),
    ],
)
def test_product_row_discount_errors(b24_emulator: RunningEmulator, row: dict[str, Any], text: str) -> None:
    deal_id = ok(b24_emulator, "crm.deal.add", {"fields": {}})
    ok(b24_emulator, "crm.deal.productrows.set", {"id": deal_id, "rows": [{"PRICE": 3}]})
    status, body = call(
        b24_emulator, "crm.deal.productrows.set", {"id": deal_id, "rows": [{"PRICE": 9}, row]}
    )
    assert (status, body["error"]) == (400, "ERROR_CORE") and body["error_description"].startswith(text)
    assert [r["PRICE"] for r in ok(b24_emulator, "crm.deal.productrows.get", {"id": deal_id})] == [
        3
    ]  # unchanged


def test_product_rows_of_missing_deals(b24_emulator: RunningEmulator) -> None:
    assert call(b24_emulator, "crm.deal.productrows.get", {"id": 404}) == (
        400,
        {"error": "", "error_description": "Not found"},
    )
    assert call(b24_emulator, "crm.deal.productrows.set", {"id": 0, "rows": []})[0] == 400


# -- timeline and stage history -----------------------------------------------------------------
def test_timeline_comment_add(b24_emulator: RunningEmulator) -> None:
    deal_id = ok(b24_emulator, "crm.deal.add", {"fields": {}})
    comment_id = ok(
        b24_emulator,
        "crm.timeline.comment.add",
        {"fields": {"ENTITY_ID": deal_id, "ENTITY_TYPE": "deal", "COMMENT": "Called"}},
    )
    assert isinstance(comment_id, int)
    listed = ok(
        b24_emulator, "crm.timeline.comment.list", {"filter": {"ENTITY_ID": deal_id, "ENTITY_TYPE": "deal"}}
    )
    assert [(c["ID"], c["COMMENT"]) for c in listed] == [(str(comment_id), "Called")]

    def add(fields: dict[str, Any]) -> tuple[int, Any]:
        return call(b24_emulator, "crm.timeline.comment.add", {"fields": fields})

    assert add({"ENTITY_ID": deal_id, "ENTITY_TYPE": "deal", "COMMENT": " "}) == (
        400,
        {"error": "INVALID_ARG_VALUE", "error_description": "Empty comment"},
    )
    assert add({"ENTITY_ID": 999, "ENTITY_TYPE": "deal", "COMMENT": "x"}) == (
        400,
        {"error": "OWNER_NOT_FOUND", "error_description": "Owner of the item not found"},
    )
    assert add({"COMMENT": "x"})[1]["error"] == "100"
    assert add({"ENTITY_ID": 1, "ENTITY_TYPE": "dynamic_4242", "COMMENT": "x"})[1]["error"] == "NOT_FOUND"


def test_stage_history_types(b24_emulator: RunningEmulator) -> None:
    category = ok(b24_emulator, "crm.category.add", {"entityTypeId": 2, "fields": {"name": "Other"}})[
        "category"
    ]["id"]
    deal_id = ok(b24_emulator, "crm.deal.add", {"fields": {}})
    ok(b24_emulator, "crm.deal.update", {"id": deal_id, "fields": {"STAGE_ID": "PREPARATION"}})
    ok(b24_emulator, "crm.deal.update", {"id": deal_id, "fields": {"TITLE": "no move"}})
    ok(b24_emulator, "crm.deal.update", {"id": deal_id, "fields": {"STAGE_ID": "WON"}})
    ok(
        b24_emulator,
        "crm.item.update",
        {"entityTypeId": 2, "id": deal_id, "fields": {"categoryId": category}},
    )
    status, body = call(
        b24_emulator,
        "crm.stagehistory.list",
        {"entityTypeId": 2, "filter": {"OWNER_ID": deal_id}, "order": {"ID": "ASC"}},
    )
    assert status == 200 and body["total"] == 4
    items = body["result"]["items"]
    assert [(i["TYPE_ID"], i["STAGE_ID"], i["STAGE_SEMANTIC_ID"], i["CATEGORY_ID"]) for i in items] == [
        (1, "NEW", "P", 0),
        (2, "PREPARATION", "P", 0),
        (3, "WON", "S", 0),
        (5, f"C{category}:NEW", "P", category),
    ]
    assert set(items[0]) == {
        "ID",
        "TYPE_ID",
        "OWNER_ID",
        "CREATED_TIME",
        "CATEGORY_ID",
        "STAGE_SEMANTIC_ID",
        "STAGE_ID",
    }
    assert isinstance(items[0]["ID"], int) and items[0]["OWNER_ID"] == deal_id
    selected = ok(
        b24_emulator,
        "crm.stagehistory.list",
        {"entityTypeId": 2, "select": ["STAGE_ID"], "filter": {"TYPE_ID": 3}},
    )
    assert selected["items"] == [{"STAGE_ID": "WON"}]
    lead_id = ok(b24_emulator, "crm.lead.add", {"fields": {}})
    ok(b24_emulator, "crm.lead.update", {"id": lead_id, "fields": {"STATUS_ID": "JUNK"}})
    leads = ok(b24_emulator, "crm.stagehistory.list", {"entityTypeId": 1})["items"]
    assert [(i["TYPE_ID"], i["STATUS_ID"], i["STATUS_SEMANTIC_ID"]) for i in leads] == [
        (1, "NEW", "P"),
        (3, "JUNK", "F"),
    ]
    assert "CATEGORY_ID" not in leads[0]
    assert (
        call(b24_emulator, "crm.stagehistory.list", {"entityTypeId": 2, "filter": {"NOPE": 1}})[1]["error"]
        == "INVALID_ARG_VALUE"
    )
    assert call(b24_emulator, "crm.stagehistory.list", {"entityTypeId": 3})[1] == {
        "error": "ENTITY_TYPE_NOT_SUPPORTED",
        "error_description": "Entity type CONTACT is not supported",
    }
