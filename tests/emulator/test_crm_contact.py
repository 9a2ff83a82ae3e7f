"""crm.contact/company/lead.*: multifields and their write rules, bindings, defaults and errors."""

from __future__ import annotations

from b24kit.testing.emulator import RunningEmulator

from .rest import call, ok


def phones(emu: RunningEmulator, contact_id: int) -> list[dict[str, str]]:
    return list(ok(emu, "crm.contact.get", {"id": contact_id}).get("PHONE", []))


def test_multifields_come_back_with_string_ids(b24_emulator: RunningEmulator) -> None:
    contact_id = ok(
        b24_emulator,
        "crm.contact.add",
        {
            "fields": {
                "NAME": "John",
                "PHONE": [
                    {"VALUE": "+13333333555", "VALUE_TYPE": "WORK"},
                    {"VALUE": "+15599888666", "VALUE_TYPE": "HOME"},
                ],
                "EMAIL": [{"VALUE": "john@example.com", "VALUE_TYPE": "WORK"}],
            }
        },
    )
    contact = ok(b24_emulator, "crm.contact.get", {"id": contact_id})
    first, second = contact["PHONE"]
    assert set(first) == {"ID", "VALUE_TYPE", "VALUE", "TYPE_ID"}
    assert isinstance(first["ID"], str) and first["ID"].isdigit()
    assert (first["VALUE"], first["VALUE_TYPE"], first["TYPE_ID"]) == ("+13333333555", "WORK", "PHONE")
    assert (second["VALUE"], second["VALUE_TYPE"]) == ("+15599888666", "HOME")
    assert contact["EMAIL"][0]["TYPE_ID"] == "EMAIL"
    assert "WEB" not in contact and "IM" not in contact  # empty multifields are left out
    assert (contact["HAS_PHONE"], contact["HAS_EMAIL"], contact["HAS_IMOL"]) == ("Y", "Y", "N")


def test_multifield_update_rules_from_the_docs(b24_emulator: RunningEmulator) -> None:
    numbers = ["111111", "222222", "333333", "44444"]
    contact_id = ok(
        b24_emulator,
        "crm.contact.add",
        {"fields": {"NAME": "X", "PHONE": [{"VALUE": n, "VALUE_TYPE": "WORK"} for n in numbers]}},
    )
    ids = [int(p["ID"]) for p in phones(b24_emulator, contact_id)]
    ok(
        b24_emulator,
        "crm.contact.update",
        {"id": contact_id, "fields": {"PHONE": [{"ID": ids[1], "VALUE": "444444", "VALUE_TYPE": "MOBILE"}]}},
    )
    changed = phones(b24_emulator, contact_id)
    assert [p["VALUE"] for p in changed] == ["111111", "444444", "333333", "44444"]
    assert changed[1] == {"ID": str(ids[1]), "VALUE_TYPE": "MOBILE", "VALUE": "444444", "TYPE_ID": "PHONE"}
    deletes = [{"ID": ids[0], "DELETE": "Y"}, {"ID": ids[1], "VALUE": ""}, {"ID": ids[2]}]
    ok(b24_emulator, "crm.contact.update", {"id": contact_id, "fields": {"PHONE": deletes}})
    assert phones(b24_emulator, contact_id) == [
        {"ID": str(ids[3]), "VALUE_TYPE": "WORK", "VALUE": "44444", "TYPE_ID": "PHONE"}
    ]
    ok(
        b24_emulator,
        "crm.contact.update",
        {"id": contact_id, "fields": {"PHONE": [{"VALUE": "55555", "VALUE_TYPE": "WORK"}]}},
    )
    assert [p["VALUE"] for p in phones(b24_emulator, contact_id)] == ["44444", "55555"]
    ok(
        b24_emulator,
        "crm.contact.update",
        {"id": contact_id, "fields": {"PHONE": [{"VALUE": "55555", "VALUE_TYPE": "WORK"}]}},
    )
    after = phones(b24_emulator, contact_id)
    assert [p["VALUE"] for p in after] == ["44444", "55555", "55555"]  # no ID: a duplicate, as documented
    assert len({p["ID"] for p in after}) == 3
    ok(b24_emulator, "crm.contact.update", {"id": contact_id, "fields": {"NAME": "Y"}})
    assert phones(b24_emulator, contact_id) == after  # not mentioned: kept


def test_multifield_ids_of_another_record_are_ignored(b24_emulator: RunningEmulator) -> None:
    one = ok(b24_emulator, "crm.contact.add", {"fields": {"NAME": "A", "PHONE": [{"VALUE": "1"}]}})
    two = ok(b24_emulator, "crm.contact.add", {"fields": {"NAME": "B", "PHONE": [{"VALUE": "2"}]}})
    foreign = int(phones(b24_emulator, one)[0]["ID"])
    ok(b24_emulator, "crm.contact.update", {"id": two, "fields": {"PHONE": [{"ID": foreign, "DELETE": "Y"}]}})
    assert [p["VALUE"] for p in phones(b24_emulator, one)] == ["1"]
    assert [p["VALUE"] for p in phones(b24_emulator, two)] == ["2"]


def test_list_filters_multifields_by_exact_value_and_selects_them_explicitly(
    b24_emulator: RunningEmulator,
) -> None:
    ok(b24_emulator, "crm.contact.add", {"fields": {"NAME": "A", "EMAIL": [{"VALUE": "a@x.io"}]}})
    ok(b24_emulator, "crm.contact.add", {"fields": {"NAME": "B", "EMAIL": [{"VALUE": "b@x.io"}]}})
    found = ok(
        b24_emulator, "crm.contact.list", {"filter": {"EMAIL": "b@x.io"}, "select": ["ID", "NAME", "EMAIL"]}
    )
    assert [(c["NAME"], c["EMAIL"][0]["VALUE"]) for c in found] == [("B", "b@x.io")]
    assert ok(b24_emulator, "crm.contact.list", {"filter": {"%EMAIL": "x.io"}}) == []
    assert "EMAIL" in ok(b24_emulator, "crm.contact.get", {"id": found[0]["ID"]})
    default = ok(b24_emulator, "crm.contact.list", {})
    assert all("EMAIL" not in c and "PHONE" not in c for c in default)  # '*' leaves multifields out
    starred = ok(b24_emulator, "crm.contact.list", {"select": ["*", "EMAIL"]})
    assert [c["EMAIL"][0]["VALUE"] for c in starred] == ["a@x.io", "b@x.io"]


def test_contact_defaults_and_company_bindings(b24_emulator: RunningEmulator) -> None:
    companies = [ok(b24_emulator, "crm.company.add", {"fields": {"TITLE": t}}) for t in ("A", "B")]
    contact_id = ok(b24_emulator, "crm.contact.add", {"fields": {"NAME": "N", "COMPANY_IDS": companies}})
    contact = ok(b24_emulator, "crm.contact.get", {"id": contact_id})
    first = {
        e: ok(b24_emulator, "crm.status.list", {"filter": {"ENTITY_ID": e}})[0]["STATUS_ID"]
        for e in ("CONTACT_TYPE", "SOURCE", "HONORIFIC")
    }
    assert (contact["TYPE_ID"], contact["SOURCE_ID"], contact["HONORIFIC"]) == (
        first["CONTACT_TYPE"],
        first["SOURCE"],
        first["HONORIFIC"],
    )
    assert (contact["EXPORT"], contact["OPENED"], contact["COMPANY_ID"]) == ("Y", "Y", str(companies[0]))
    assert "COMPANY_IDS" not in contact
    ok(b24_emulator, "crm.company.delete", {"id": companies[0]})
    item = ok(b24_emulator, "crm.item.get", {"entityTypeId": 3, "id": contact_id})["item"]
    assert (item["companyId"], item["companyIds"]) == (companies[1], [companies[1]])


def test_company_requires_a_title_and_fills_the_first_reference_values(b24_emulator: RunningEmulator) -> None:
    status, body = call(b24_emulator, "crm.company.add", {"fields": {"COMMENTS": "no title"}})
    assert (status, body["error"]) == (400, "")
    company_id = ok(b24_emulator, "crm.company.add", {"fields": {"TITLE": "Acme", "REVENUE": 5}})
    company = ok(b24_emulator, "crm.company.get", {"id": company_id})
    first = {
        e: ok(b24_emulator, "crm.status.list", {"filter": {"ENTITY_ID": e}})[0]["STATUS_ID"]
        for e in ("COMPANY_TYPE", "INDUSTRY", "EMPLOYEES")
    }
    assert (company["COMPANY_TYPE"], company["INDUSTRY"], company["EMPLOYEES"]) == tuple(first.values())
    assert (company["REVENUE"], company["IS_MY_COMPANY"]) == ("5.00", "N")
    assert call(b24_emulator, "crm.company.update", {"id": company_id, "fields": {"TITLE": ""}})[0] == 400


def test_documented_not_found_answers_of_contacts_companies_and_leads(b24_emulator: RunningEmulator) -> None:
    assert call(b24_emulator, "crm.contact.get", {"id": 77}) == (
        400,
        {"error": "", "error_description": "Not found"},
    )
    assert call(b24_emulator, "crm.contact.update", {"id": 77, "fields": {}}) == (
        400,
        {"error": "", "error_description": "Contact is not found"},
    )
    assert call(b24_emulator, "crm.contact.delete", {"id": 77}) == (
        400,
        {"error": "ERROR_CORE", "error_description": "Element not found"},
    )
    assert call(b24_emulator, "crm.company.update", {"id": 77, "fields": {}}) == (
        400,
        {"error": "", "error_description": "Company is not found"},
    )
    assert call(b24_emulator, "crm.company.delete", {"id": 77}) == (
        400,
        {"error": "", "error_description": "Company is not found"},
    )
    for verb in ("get", "delete"):
        assert call(b24_emulator, f"crm.lead.{verb}", {"id": 77}) == (
            400,
            {"error": "", "error_description": "Not found"},
        )


def test_lead_status_semantics_and_defaults(b24_emulator: RunningEmulator) -> None:
    lead_id = ok(b24_emulator, "crm.lead.add", {"fields": {"NAME": "Lead person", "OPPORTUNITY": "99.999"}})
    lead = ok(b24_emulator, "crm.lead.get", {"id": lead_id})
    assert (lead["TITLE"], lead["STATUS_ID"], lead["STATUS_SEMANTIC_ID"]) == (f"Lead #{lead_id}", "NEW", "P")
    assert lead["OPPORTUNITY"] == "100.00"
    ok(b24_emulator, "crm.lead.update", {"id": lead_id, "fields": {"STATUS_ID": "CONVERTED"}})
    assert ok(b24_emulator, "crm.lead.get", {"id": lead_id})["STATUS_SEMANTIC_ID"] == "S"
    item = ok(b24_emulator, "crm.item.get", {"entityTypeId": 1, "id": lead_id})["item"]
    assert (item["stageId"], item["stageSemanticId"], item["companyId"], item["contactId"]) == (
        "CONVERTED",
        "S",
        0,
        0,
    )
    assert call(b24_emulator, "crm.lead.update", {"id": lead_id, "fields": {"STATUS_ID": "NOPE"}})[0] == 400


def test_deleting_a_contact_unbinds_it_from_deals(b24_emulator: RunningEmulator) -> None:
    a = ok(b24_emulator, "crm.contact.add", {"fields": {"NAME": "A"}})
    b = ok(b24_emulator, "crm.contact.add", {"fields": {"NAME": "B"}})
    deal_id = ok(b24_emulator, "crm.deal.add", {"fields": {"CONTACT_IDS": [a, b]}})
    ok(b24_emulator, "crm.contact.delete", {"id": a})
    assert [c["CONTACT_ID"] for c in ok(b24_emulator, "crm.deal.contact.items.get", {"id": deal_id})] == [b]
    assert ok(b24_emulator, "crm.deal.get", {"id": deal_id})["CONTACT_ID"] == str(b)
