"""crm.deal.*: wire types, defaults on add, update rules, errors and the fields description."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from b24kit.testing.emulator import RunningEmulator

from .rest import call, ok

NOT_FOUND = {"error": "", "error_description": "Not found"}
BAD_ID = {"error": "", "error_description": "ID is not defined or invalid."}


def today(emu: RunningEmulator) -> date:
    return datetime.fromisoformat(ok(emu, "server.time")).date()


def test_add_answers_an_int_and_get_answers_strings(b24_emulator: RunningEmulator) -> None:
    company = ok(b24_emulator, "crm.company.add", {"fields": {"TITLE": "Acme"}})
    deal_id = ok(
        b24_emulator,
        "crm.deal.add",
        {"fields": {"TITLE": "Big", "OPPORTUNITY": 1000, "PROBABILITY": "30", "COMPANY_ID": company}},
    )
    assert isinstance(deal_id, int) and isinstance(company, int)
    deal = ok(b24_emulator, "crm.deal.get", {"id": deal_id})
    assert deal["ID"] == str(deal_id)
    assert deal["OPPORTUNITY"] == "1000.00"
    assert deal["TAX_VALUE"] == "0.00"
    assert deal["PROBABILITY"] == "30"
    assert deal["COMPANY_ID"] == str(company)
    assert deal["CATEGORY_ID"] == "0"
    assert deal["LEAD_ID"] is None and deal["QUOTE_ID"] is None and deal["CONTACT_ID"] is None
    assert deal["ASSIGNED_BY_ID"] == deal["CREATED_BY_ID"] == deal["MODIFY_BY_ID"] == "1"
    scalars = [v for v in deal.values() if v is not None]
    assert all(isinstance(v, str) for v in scalars), deal
    assert "CONTACT_IDS" not in deal  # docs: not available in crm.deal.get


def test_defaults_on_add(b24_emulator: RunningEmulator) -> None:
    deal_id = ok(b24_emulator, "crm.deal.add", {"fields": {}})
    deal = ok(b24_emulator, "crm.deal.get", {"id": deal_id})
    first_type = ok(b24_emulator, "crm.status.list", {"filter": {"ENTITY_ID": "DEAL_TYPE"}})[0]["STATUS_ID"]
    first_source = ok(b24_emulator, "crm.status.list", {"filter": {"ENTITY_ID": "SOURCE"}})[0]["STATUS_ID"]
    base = next(c["CURRENCY"] for c in ok(b24_emulator, "crm.currency.list") if c["BASE"] == "Y")
    day = today(b24_emulator)
    assert deal["TITLE"] == f"Deal #{deal_id}"
    assert (deal["TYPE_ID"], deal["SOURCE_ID"], deal["CURRENCY_ID"]) == (first_type, first_source, base)
    assert (deal["CATEGORY_ID"], deal["STAGE_ID"], deal["STAGE_SEMANTIC_ID"]) == ("0", "NEW", "P")
    assert deal["OPPORTUNITY"] == "0.00" and deal["OPENED"] == "Y" and deal["ASSIGNED_BY_ID"] == "1"
    for flag in (
        "IS_RECURRING",
        "IS_RETURN_CUSTOMER",
        "IS_REPEATED_APPROACH",
        "IS_MANUAL_OPPORTUNITY",
        "CLOSED",
    ):
        assert deal[flag] == "N", flag
    assert deal["IS_NEW"] == "Y"
    assert deal["BEGINDATE"] == f"{day.isoformat()}T03:00:00+03:00"
    assert deal["CLOSEDATE"] == f"{(day + timedelta(days=7)).isoformat()}T03:00:00+03:00"


@pytest.mark.parametrize(
    "given",
    [
        "2024-05-10",
        "2024-05-10T15:00:00+03:00",
        "2024-05-10 10:00:00",
        "10.05.2024",
        "2024-05-10T03:00:00+03:00",
    ],
)
def test_date_only_fields_come_back_as_datetimes(b24_emulator: RunningEmulator, given: str) -> None:
    deal_id = ok(b24_emulator, "crm.deal.add", {"fields": {"CLOSEDATE": given}})
    assert ok(b24_emulator, "crm.deal.get", {"id": deal_id})["CLOSEDATE"] == "2024-05-10T03:00:00+03:00"


def test_datetimes_carry_the_portal_offset(b24_emulator: RunningEmulator) -> None:
    deal = ok(b24_emulator, "crm.deal.get", {"id": ok(b24_emulator, "crm.deal.add", {"fields": {}})})
    for name in ("DATE_CREATE", "DATE_MODIFY", "MOVED_TIME", "LAST_ACTIVITY_TIME"):
        assert deal[name].endswith("+03:00") and datetime.fromisoformat(deal[name]), name


def test_update_changes_only_given_fields(b24_emulator: RunningEmulator) -> None:
    deal_id = ok(b24_emulator, "crm.deal.add", {"fields": {"TITLE": "Old", "COMMENTS": "keep"}})
    before = ok(b24_emulator, "crm.deal.get", {"id": deal_id})
    b24_emulator.admin("clock", {"advance_seconds": 60})
    assert ok(b24_emulator, "crm.deal.update", {"id": deal_id, "fields": {"TITLE": "New"}}) is True
    after = ok(b24_emulator, "crm.deal.get", {"id": deal_id})
    assert after["TITLE"] == "New" and after["COMMENTS"] == "keep"
    assert after["DATE_MODIFY"] > before["DATE_MODIFY"] and after["DATE_CREATE"] == before["DATE_CREATE"]
    changed = {k for k in after if after[k] != before[k]}
    assert changed == {"TITLE", "DATE_MODIFY"}


def test_contact_ids_on_update_replace_the_whole_set(b24_emulator: RunningEmulator) -> None:
    contacts = [ok(b24_emulator, "crm.contact.add", {"fields": {"NAME": n}}) for n in ("A", "B", "C")]
    deal_id = ok(b24_emulator, "crm.deal.add", {"fields": {"CONTACT_IDS": contacts[:2]}})
    bound = ok(b24_emulator, "crm.deal.contact.items.get", {"id": deal_id})
    assert bound == [
        {"CONTACT_ID": contacts[0], "SORT": 10, "ROLE_ID": 0, "IS_PRIMARY": "Y"},
        {"CONTACT_ID": contacts[1], "SORT": 20, "ROLE_ID": 0, "IS_PRIMARY": "N"},
    ]
    assert ok(b24_emulator, "crm.deal.get", {"id": deal_id})["CONTACT_ID"] == str(contacts[0])
    ok(b24_emulator, "crm.deal.update", {"id": deal_id, "fields": {"CONTACT_IDS": [contacts[2]]}})
    assert [c["CONTACT_ID"] for c in ok(b24_emulator, "crm.deal.contact.items.get", {"id": deal_id})] == [
        contacts[2]
    ]
    item = ok(b24_emulator, "crm.item.get", {"entityTypeId": 2, "id": deal_id})["item"]
    assert item["contactIds"] == [contacts[2]] and item["contactId"] == contacts[2]


def test_category_id_is_immutable_in_deal_update(b24_emulator: RunningEmulator) -> None:
    category = ok(b24_emulator, "crm.category.add", {"entityTypeId": 2, "fields": {"name": "Second"}})[
        "category"
    ]
    deal_id = ok(b24_emulator, "crm.deal.add", {"fields": {}})
    assert ok(b24_emulator, "crm.deal.update", {"id": deal_id, "fields": {"CATEGORY_ID": category["id"]}})
    assert ok(b24_emulator, "crm.deal.get", {"id": deal_id})["CATEGORY_ID"] == "0"
    moved = ok(
        b24_emulator,
        "crm.item.update",
        {"entityTypeId": 2, "id": deal_id, "fields": {"categoryId": category["id"]}},
    )
    assert moved["item"]["categoryId"] == category["id"]
    assert moved["item"]["stageId"] == f"C{category['id']}:NEW"


def test_moving_to_a_final_stage_closes_the_deal(b24_emulator: RunningEmulator) -> None:
    deal_id = ok(b24_emulator, "crm.deal.add", {"fields": {"STAGE_ID": "PREPARATION"}})
    assert ok(b24_emulator, "crm.deal.get", {"id": deal_id})["IS_NEW"] == "N"
    ok(b24_emulator, "crm.deal.update", {"id": deal_id, "fields": {"STAGE_ID": "WON"}})
    deal = ok(b24_emulator, "crm.deal.get", {"id": deal_id})
    assert (deal["STAGE_SEMANTIC_ID"], deal["CLOSED"]) == ("S", "Y")
    ok(b24_emulator, "crm.deal.update", {"id": deal_id, "fields": {"STAGE_ID": "LOSE"}})
    assert ok(b24_emulator, "crm.deal.get", {"id": deal_id})["STAGE_SEMANTIC_ID"] == "F"


def test_empty_stage_or_pipeline_on_update_keeps_them(b24_emulator: RunningEmulator) -> None:
    deal_id = ok(b24_emulator, "crm.deal.add", {"fields": {"STAGE_ID": "EXECUTING"}})
    ok(b24_emulator, "crm.deal.update", {"id": deal_id, "fields": {"STAGE_ID": None, "TITLE": "t"}})
    ok(
        b24_emulator,
        "crm.item.update",
        {"entityTypeId": 2, "id": deal_id, "fields": {"categoryId": "", "stageId": ""}},
    )
    deal = ok(b24_emulator, "crm.deal.get", {"id": deal_id})
    assert (deal["STAGE_ID"], deal["CATEGORY_ID"], deal["TITLE"]) == ("EXECUTING", "0", "t")
    status, body = call(b24_emulator, "crm.deal.update", {"id": deal_id, "fields": {"STAGE_ID": "NO_SUCH"}})
    assert (status, body["error"]) == (400, "")


def test_stage_of_another_pipeline_decides_the_pipeline_on_add(b24_emulator: RunningEmulator) -> None:
    category = ok(b24_emulator, "crm.category.add", {"entityTypeId": 2, "fields": {"name": "Other"}})[
        "category"
    ]
    deal_id = ok(b24_emulator, "crm.deal.add", {"fields": {"STAGE_ID": f"C{category['id']}:EXECUTING"}})
    deal = ok(b24_emulator, "crm.deal.get", {"id": deal_id})
    assert (deal["CATEGORY_ID"], deal["STAGE_ID"]) == (str(category["id"]), f"C{category['id']}:EXECUTING")
    other = ok(b24_emulator, "crm.deal.add", {"fields": {"CATEGORY_ID": category["id"]}})
    assert ok(b24_emulator, "crm.deal.get", {"id": other})["STAGE_ID"] == f"C{category['id']}:NEW"


def test_errors_have_an_empty_code_and_status_400(b24_emulator: RunningEmulator) -> None:
    assert call(b24_emulator, "crm.deal.get", {"id": 999}) == (400, NOT_FOUND)
    assert call(b24_emulator, "crm.deal.get", {"id": 0}) == (400, BAD_ID)
    assert call(b24_emulator, "crm.deal.get", {"id": "abc"}) == (400, BAD_ID)
    assert call(b24_emulator, "crm.deal.get", {}) == (400, BAD_ID)
    assert call(b24_emulator, "crm.deal.update", {"id": 999, "fields": {"TITLE": "x"}}) == (400, NOT_FOUND)
    assert call(b24_emulator, "crm.deal.delete", {"id": 999}) == (400, NOT_FOUND)
    must_be_array = {"error": "", "error_description": "Parameter 'fields' must be array."}
    assert call(b24_emulator, "crm.deal.add", {}) == (400, must_be_array)
    assert call(b24_emulator, "crm.deal.add", {"fields": "TITLE"}) == (400, must_be_array)
    deal_id = ok(b24_emulator, "crm.deal.add", {"fields": {}})
    assert call(b24_emulator, "crm.deal.update", {"id": deal_id, "fields": 5}) == (400, must_be_array)
    assert call(b24_emulator, "crm.deal.list", {"filter": "x"}) == (
        400,
        {"error": "", "error_description": "Parameter 'filter' must be array."},
    )


def test_delete_answers_true_and_the_deal_is_gone(b24_emulator: RunningEmulator) -> None:
    deal_id = ok(b24_emulator, "crm.deal.add", {"fields": {}})
    assert ok(b24_emulator, "crm.deal.delete", {"id": deal_id}) is True
    assert call(b24_emulator, "crm.deal.get", {"id": deal_id}) == (400, NOT_FOUND)
    assert ok(b24_emulator, "crm.deal.list", {"filter": {"ID": deal_id}}) == []


def test_form_encoded_add_with_php_brackets(b24_emulator: RunningEmulator) -> None:
    body = (
        "fields[TITLE]=Form%20deal&fields[OPPORTUNITY]=12.5&fields[CONTACT_IDS][]=0"
        "&params[REGISTER_SONET_EVENT]=N"
    )
    response = b24_emulator.http.post(
        f"{b24_emulator.webhook_url}crm.deal.add",
        content=body,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 200
    deal = ok(b24_emulator, "crm.deal.get", {"id": response.json()["result"]})
    assert (deal["TITLE"], deal["OPPORTUNITY"]) == ("Form deal", "12.50")


def test_fields_describe_types_flags_and_status_lists(b24_emulator: RunningEmulator) -> None:
    fields = ok(b24_emulator, "crm.deal.fields")
    assert fields["ID"] == {
        "type": "integer",
        "isRequired": False,
        "isReadOnly": True,
        "isImmutable": False,
        "isMultiple": False,
        "isDynamic": False,
        "title": "ID",
    }
    assert fields["TYPE_ID"]["statusType"] == "DEAL_TYPE" and fields["STAGE_ID"]["statusType"] == "DEAL_STAGE"
    assert fields["CATEGORY_ID"]["isImmutable"] is True
    assert fields["CONTACT_ID"]["isDeprecated"] is True
    assert fields["CONTACT_IDS"]["isMultiple"] is True
    assert fields["COMPANY_ID"]["settings"] == {"parentEntityTypeId": 4}
    assert fields["BEGINDATE"]["type"] == "date" and fields["OPPORTUNITY"]["type"] == "double"
    assert "PHONE" not in fields and "OBSERVERS" not in fields
