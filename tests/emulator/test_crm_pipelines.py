"""crm.category.* and crm.status.*: pipelines, stages with their prefixes and caps, reference lists."""

from __future__ import annotations

from typing import Any

from b24kit.testing.emulator import RunningEmulator

from .rest import call, ok, statuses


# -- pipelines ----------------------------------------------------------------------------------
def test_deal_pipelines_list_add_get_update_delete(b24_emulator: RunningEmulator) -> None:
    status, body = call(b24_emulator, "crm.category.list", {"entityTypeId": 2})
    assert status == 200 and body["total"] == 1
    assert body["result"] == {
        "categories": [{"id": 0, "name": "General", "sort": 300, "entityTypeId": 2, "isDefault": "Y"}]
    }
    added = ok(
        b24_emulator,
        "crm.category.add",
        {"entityTypeId": 2, "fields": {"name": "Claims", "sort": 200, "isDefault": "Y"}},
    )
    category = added["category"]
    assert category == {
        "id": category["id"],
        "name": "Claims",
        "sort": 200,
        "entityTypeId": 2,
        "isDefault": "N",
        "originId": "",
        "originatorId": "",
    }
    listed = ok(b24_emulator, "crm.category.list", {"entityTypeId": 2})["categories"]
    assert [c["id"] for c in listed] == [category["id"], 0]  # by sort
    stages = statuses(b24_emulator, f"DEAL_STAGE_{category['id']}")
    assert [s["STATUS_ID"] for s in stages][:2] == [
        f"C{category['id']}:NEW",
        f"C{category['id']}:PREPARATION",
    ]
    assert {s["CATEGORY_ID"] for s in stages} == {str(category["id"])}
    updated = ok(
        b24_emulator,
        "crm.category.update",
        {"entityTypeId": 2, "id": category["id"], "fields": {"name": "Claims 2", "sort": -5}},
    )
    assert (updated["category"]["name"], updated["category"]["sort"]) == ("Claims 2", 0)
    assert (
        ok(b24_emulator, "crm.category.get", {"entityTypeId": 2, "id": category["id"]})["category"]["name"]
        == "Claims 2"
    )
    deal_id = ok(b24_emulator, "crm.deal.add", {"fields": {"CATEGORY_ID": category["id"]}})
    assert call(b24_emulator, "crm.category.delete", {"entityTypeId": 2, "id": category["id"]}) == (
        400,
        {"error": "0", "error_description": "Deals related to the funnel Claims 2 found"},
    )
    assert call(b24_emulator, "crm.category.delete", {"entityTypeId": 2, "id": 0}) == (
        400,
        {"error": "0", "error_description": "Default deal category cannot be deleted"},
    )
    ok(b24_emulator, "crm.deal.delete", {"id": deal_id})
    assert ok(b24_emulator, "crm.category.delete", {"entityTypeId": 2, "id": category["id"]}) is None
    assert statuses(b24_emulator, f"DEAL_STAGE_{category['id']}") == []
    assert call(b24_emulator, "crm.category.get", {"entityTypeId": 2, "id": category["id"]}) == (
        400,
        {"error": "NOT_FOUND", "error_description": "Element not found"},
    )


def test_pipeline_errors(b24_emulator: RunningEmulator) -> None:
    assert call(b24_emulator, "crm.category.list", {"entityTypeId": 999}) == (
        400,
        {"error": "NOT_FOUND", "error_description": "Smart process not found"},
    )
    assert call(b24_emulator, "crm.category.list", {"entityTypeId": 3}) == (
        400,
        {"error": "ENTITY_TYPE_NOT_SUPPORTED", "error_description": "Entity type CONTACT is not supported"},
    )


def test_smart_process_default_pipeline_moves(b24_emulator: RunningEmulator) -> None:
    spa = ok(
        b24_emulator,
        "crm.type.add",
        {"fields": {"title": "Production", "entityTypeId": 1038, "isCategoriesEnabled": "Y"}},
    )
    first = ok(b24_emulator, "crm.category.list", {"entityTypeId": 1038})["categories"]
    assert [c["isDefault"] for c in first] == ["Y"] and "originId" not in first[0]
    new = ok(
        b24_emulator, "crm.category.add", {"entityTypeId": 1038, "fields": {"name": "Rush", "isDefault": "Y"}}
    )["category"]
    defaults = {
        c["id"]: c["isDefault"]
        for c in ok(b24_emulator, "crm.category.list", {"entityTypeId": 1038})["categories"]
    }
    assert defaults == {first[0]["id"]: "N", new["id"]: "Y"}
    assert call(b24_emulator, "crm.category.delete", {"entityTypeId": 1038, "id": new["id"]}) == (
        400,
        {"error": "BX_ERROR", "error_description": "This funnel is the default funnel"},
    )
    stage_ids = [s["STATUS_ID"] for s in statuses(b24_emulator, f"DYNAMIC_1038_STAGE_{new['id']}")]
    assert stage_ids == [
        f"DT1038_{new['id']}:{c}" for c in ("NEW", "PREPARATION", "CLIENT", "SUCCESS", "FAIL")
    ]
    assert spa["type"]["entityTypeId"] == 1038


# -- statuses -----------------------------------------------------------------------------------
def test_default_deal_stages_as_documented(b24_emulator: RunningEmulator) -> None:
    stages = statuses(b24_emulator, "DEAL_STAGE")
    assert [s["STATUS_ID"] for s in stages] == [
        "NEW",
        "PREPARATION",
        "PREPAYMENT_INVOICE",
        "EXECUTING",
        "FINAL_INVOICE",
        "WON",
        "LOSE",
        "APOLOGY",
    ]
    new = stages[0]
    assert new == {
        "ID": new["ID"],
        "ENTITY_ID": "DEAL_STAGE",
        "STATUS_ID": "NEW",
        "NAME": "New",
        "NAME_INIT": "New",
        "SORT": "10",
        "SYSTEM": "Y",
        "CATEGORY_ID": None,
        "COLOR": "#39A8EF",
        "SEMANTICS": None,
        "EXTRA": {"SEMANTICS": "process", "COLOR": "#39A8EF"},
    }
    assert [s["EXTRA"]["SEMANTICS"] for s in stages[5:]] == ["success", "failure", "apology"]
    assert (stages[1]["SYSTEM"], stages[1]["NAME_INIT"]) == ("N", "")
    got = ok(b24_emulator, "crm.status.get", {"id": new["ID"]})
    assert "EXTRA" not in got and got["STATUS_ID"] == "NEW"
    assert "EXTRA" not in statuses(b24_emulator, "SOURCE")[0]


def test_lead_statuses_and_smart_invoice_stages(b24_emulator: RunningEmulator) -> None:
    lead = statuses(b24_emulator, "STATUS")
    assert [(s["STATUS_ID"], s["SEMANTICS"]) for s in lead] == [
        ("NEW", None),
        ("IN_PROCESS", None),
        ("PROCESSED", None),
        ("CONVERTED", "S"),
        ("JUNK", "F"),
    ]
    invoices = ok(b24_emulator, "crm.category.list", {"entityTypeId": 31})["categories"]
    category = invoices[0]["id"]
    stage_ids = [s["STATUS_ID"] for s in statuses(b24_emulator, f"SMART_INVOICE_STAGE_{category}")]
    assert stage_ids[0] == f"DT31_{category}:N"
    item = ok(b24_emulator, "crm.item.add", {"entityTypeId": 31, "fields": {"title": "Invoice"}})["item"]
    assert (item["categoryId"], item["stageId"]) == (category, f"DT31_{category}:N")


def test_status_add_prefixes_and_caps_stage_ids(b24_emulator: RunningEmulator) -> None:
    for _ in range(10):
        category = ok(b24_emulator, "crm.category.add", {"entityTypeId": 2, "fields": {"name": "P"}})[
            "category"
        ]["id"]
    assert category == 10
    stage_ids = [s["STATUS_ID"] for s in statuses(b24_emulator, "DEAL_STAGE_10")]
    assert "C10:PREPAYMENT_INVOIC" in stage_ids  # STATUS_ID is capped at 21 characters
    new_id = ok(
        b24_emulator,
        "crm.status.add",
        {"fields": {"ENTITY_ID": "DEAL_STAGE_10", "STATUS_ID": "DECISION", "NAME": "Decision", "SORT": 35}},
    )
    assert isinstance(new_id, int)
    added = ok(b24_emulator, "crm.status.get", {"id": new_id})
    assert (added["STATUS_ID"], added["CATEGORY_ID"], added["SYSTEM"]) == ("C10:DECISION", "10", "N")
    kept = ok(
        b24_emulator,
        "crm.status.add",
        {"fields": {"ENTITY_ID": "DEAL_STAGE_10", "STATUS_ID": "C10:REVIEW", "NAME": "R", "SORT": 36}},
    )
    assert ok(b24_emulator, "crm.status.get", {"id": kept})["STATUS_ID"] == "C10:REVIEW"
    long_id = ok(
        b24_emulator,
        "crm.status.add",
        {
            "fields": {
                "ENTITY_ID": "DEAL_STAGE_10",
                "STATUS_ID": "VERY_LONG_STAGE_NAME_X",
                "NAME": "L",
                "SORT": 37,
            }
        },
    )
    assert ok(b24_emulator, "crm.status.get", {"id": long_id})["STATUS_ID"] == "C10:VERY_LONG_STAGE_N"
    deal_id = ok(b24_emulator, "crm.deal.add", {"fields": {"STAGE_ID": "C10:DECISION"}})
    assert ok(b24_emulator, "crm.deal.get", {"id": deal_id})["CATEGORY_ID"] == "10"


def test_status_add_errors(b24_emulator: RunningEmulator) -> None:
    def add(fields: dict[str, Any]) -> tuple[int, Any]:
        return call(b24_emulator, "crm.status.add", {"fields": fields})

    assert add({"NAME": "x"}) == (
        400,
        {
            "error": "",
            "error_description": "The field ENTITY_ID is required.<br>The field STATUS_ID is required.",
        },
    )
    assert add({"ENTITY_ID": "SOURCE", "STATUS_ID": "X"}) == (
        400,
        {"error": "", "error_description": "The field Title is required."},
    )
    assert add({"ENTITY_ID": "NOPE", "STATUS_ID": "X", "NAME": "x"}) == (
        400,
        {"error": "", "error_description": "Specified entity type is not supported."},
    )
    assert add({"ENTITY_ID": "SOURCE", "STATUS_ID": "CALL", "NAME": "x"}) == (
        400,
        {"error": "ERROR_CORE", "error_description": "The specified status ID already exists."},
    )
    status, body = add({"ENTITY_ID": "DEAL_STAGE", "STATUS_ID": "LATE", "NAME": "Late", "SORT": 65})
    assert status == 400 and body["error_description"].startswith(
        "Cannot create more stages after the final stage"
    )
    source = ok(
        b24_emulator,
        "crm.status.add",
        {"fields": {"ENTITY_ID": "SOURCE", "STATUS_ID": "FAIR", "NAME": "Fair"}},
    )
    assert [s["STATUS_ID"] for s in statuses(b24_emulator, "SOURCE")].count("FAIR") == 1
    assert ok(b24_emulator, "crm.status.delete", {"id": source}) is True


def test_status_entity_types_describe_stage_lists(b24_emulator: RunningEmulator) -> None:
    category = ok(b24_emulator, "crm.category.add", {"entityTypeId": 2, "fields": {"name": "Second"}})[
        "category"
    ]["id"]
    types = {t["ID"]: t for t in ok(b24_emulator, "crm.status.entity.types")}
    assert types[f"DEAL_STAGE_{category}"]["SEMANTIC_INFO"] == {
        "START_FIELD": f"C{category}:NEW",
        "FINAL_SUCCESS_FIELD": f"C{category}:WON",
        "FINAL_UNSUCCESS_FIELD": f"C{category}:LOSE",
    }
    assert types[f"DEAL_STAGE_{category}"]["PREFIX"] == f"C{category}"
    items = ok(b24_emulator, "crm.status.entity.items", {"entityId": "DEAL_STAGE"})
    assert items[0] == {"NAME": "New", "SORT": 10, "STATUS_ID": "NEW"}
