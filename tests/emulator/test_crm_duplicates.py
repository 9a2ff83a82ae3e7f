"""``crm.duplicate.findbycomm``: ids of leads, contacts and companies by phone or e-mail, over HTTP."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

from b24kit.emulator.methods.crm_duplicates import email_code, phone_code

NO_VALUES = "Communication values is not defined"


def add(emulator, entity: str, **fields):
    multi = {
        name: [{"VALUE": v, "VALUE_TYPE": "WORK"} for v in fields.pop(name)]
        for name in ("PHONE", "EMAIL")
        if name in fields
    }
    body = emulator.rest(f"crm.{entity}.add", {"fields": {**fields, **multi}})
    assert "result" in body, body
    return int(body["result"])


def find(emulator, **params):
    return emulator.rest("crm.duplicate.findbycomm", params)


def test_phones_written_differently_find_each_other(b24_emulator):
    ann = add(b24_emulator, "contact", NAME="Ann", PHONE=["+7 916 123-45-67"])
    add(b24_emulator, "contact", NAME="Bob", PHONE=["+7 916 000-00-02"])
    for typed in ("89161234567", "8 (916) 1234567", "+7 (916) 123-45-67", "7-916-123-45-67"):
        body = find(b24_emulator, type="PHONE", values=[typed], entity_type="CONTACT")
        assert body["result"] == {"CONTACT": [ann]}, typed


def test_the_extension_is_ignored_but_another_form_of_the_number_is_not_a_duplicate(b24_emulator):
    ann = add(b24_emulator, "contact", NAME="Ann", PHONE=["+7 916 123-45-67"])
    assert find(b24_emulator, type="PHONE", values=["+79161234567#204"])["result"] == {"CONTACT": [ann]}
    assert find(b24_emulator, type="PHONE", values=["+79161234567;204"])["result"] == {"CONTACT": [ann]}
    # the tutorial: "Records with a number in a different format are not considered duplicates"
    assert find(b24_emulator, type="PHONE", values=["(916) 123-45-67"])["result"] == []
    assert find(b24_emulator, type="PHONE", values=["123-45-67"])["result"] == []


def test_emails_compare_trimmed_and_without_case(b24_emulator):
    ann = add(b24_emulator, "contact", NAME="Ann", EMAIL=["Ann.Lee@Example.com"])
    body = find(b24_emulator, type="email", values=["  ann.lee@example.COM "])
    assert body["result"] == {"CONTACT": [ann]}
    assert find(b24_emulator, type="EMAIL", values=["ann.lee@example.org"])["result"] == []


def test_all_three_types_by_default_leads_first(b24_emulator):
    company = add(b24_emulator, "company", TITLE="Romashka", EMAIL=["info@romashka.ru"])
    contact = add(b24_emulator, "contact", NAME="Ann", EMAIL=["info@romashka.ru"])
    lead = add(b24_emulator, "lead", TITLE="Lead", EMAIL=["info@romashka.ru"])
    add(b24_emulator, "deal", TITLE="A deal is never searched")
    body = find(b24_emulator, type="EMAIL", values=["info@romashka.ru"])
    assert body["result"] == {"LEAD": [lead], "CONTACT": [contact], "COMPANY": [company]}
    assert list(body["result"]) == ["LEAD", "CONTACT", "COMPANY"]
    only = find(b24_emulator, type="EMAIL", values=["info@romashka.ru"], entity_type="company")
    assert only["result"] == {"COMPANY": [company]}
    # an unknown entity_type searches all three, as the docs say
    unknown = find(b24_emulator, type="EMAIL", values=["info@romashka.ru"], entity_type="INVOICE")
    assert set(unknown["result"]) == {"LEAD", "CONTACT", "COMPANY"}


def test_ids_are_integers_in_ascending_order_without_repeats(b24_emulator):
    first = add(b24_emulator, "contact", NAME="A", PHONE=["+79160000001", "8 916 000 00 01"])
    second = add(b24_emulator, "contact", NAME="B", PHONE=["+79160000001"], EMAIL=["b@x.ru"])
    body = find(b24_emulator, type="PHONE", values=["+79160000001", "89160000001", "+7 916 000-00-01"])
    assert body["result"] == {"CONTACT": [first, second]}
    assert all(isinstance(i, int) for i in body["result"]["CONTACT"])


def test_twenty_records_per_value_so_twenty_leads_hide_the_contacts(b24_emulator):
    leads = [add(b24_emulator, "lead", TITLE=f"L{i}", PHONE=["+79161112233"]) for i in range(20)]
    add(b24_emulator, "contact", NAME="Hidden", PHONE=["+79161112233"])
    body = find(b24_emulator, type="PHONE", values=["+79161112233"])
    assert body["result"] == {"LEAD": leads}
    contact = find(b24_emulator, type="PHONE", values=["+79161112233"], entity_type="CONTACT")
    assert list(contact["result"]) == ["CONTACT"]


def test_at_most_twenty_values_are_read(b24_emulator):
    last = add(b24_emulator, "contact", NAME="Last", EMAIL=["v20@x.ru"])
    values = [f"v{i}@x.ru" for i in range(20)]
    assert find(b24_emulator, type="EMAIL", values=values)["result"] == []
    assert find(b24_emulator, type="EMAIL", values=[*values, "v20@x.ru"])["result"] == []  # the 21st
    assert find(b24_emulator, type="EMAIL", values=["v20@x.ru"])["result"] == {"CONTACT": [last]}
    # the same phone given twice counts once, so a 21st distinct number is still read
    twice = ["+79160000000", "89160000000", *[f"+7916000{i:04d}" for i in range(1, 20)]]
    phone = add(b24_emulator, "contact", NAME="P", PHONE=["+79160000019"])
    assert find(b24_emulator, type="PHONE", values=twice)["result"] == {"CONTACT": [phone]}


def test_changes_and_deletes_are_seen_at_once(b24_emulator):
    ann = add(b24_emulator, "contact", NAME="Ann", PHONE=["+79161234567"])
    assert find(b24_emulator, type="PHONE", values=["89161234567"])["result"] == {"CONTACT": [ann]}
    item = b24_emulator.rest("crm.contact.get", {"id": ann})["result"]["PHONE"][0]
    changed = {"PHONE": [{"ID": item["ID"], "VALUE": "+7 916 765-43-21"}]}
    assert b24_emulator.rest("crm.contact.update", {"id": ann, "fields": changed})["result"] is True
    assert find(b24_emulator, type="PHONE", values=["89161234567"])["result"] == []
    assert find(b24_emulator, type="PHONE", values=["89167654321"])["result"] == {"CONTACT": [ann]}
    assert b24_emulator.rest("crm.contact.delete", {"id": ann})["result"] is True
    assert find(b24_emulator, type="PHONE", values=["89167654321"])["result"] == []


def test_a_reset_portal_forgets_the_index(b24_emulator):
    add(b24_emulator, "contact", NAME="Ann", EMAIL=["ann@x.ru"])
    assert find(b24_emulator, type="EMAIL", values=["ann@x.ru"])["result"] != []
    b24_emulator.reset()
    assert find(b24_emulator, type="EMAIL", values=["ann@x.ru"])["result"] == []


def test_form_encoded_values_and_inside_a_batch(b24_emulator):
    ann = add(b24_emulator, "contact", NAME="Ann", PHONE=["+7 916 123-45-67"], EMAIL=["ann@x.ru"])
    query = urlencode({"type": "PHONE", "values[]": "8 916 123 45 67", "entity_type": "CONTACT"})
    response = b24_emulator.http.post(f"{b24_emulator.webhook_url}crm.duplicate.findbycomm?{query}")
    assert response.json()["result"] == {"CONTACT": [ann]}
    cmd = {
        "p": "crm.duplicate.findbycomm?" + urlencode({"type": "PHONE", "values[0]": "89161234567"}),
        "e": "crm.duplicate.findbycomm?" + urlencode({"type": "EMAIL", "values[0]": "nobody@x.ru"}),
    }
    result = b24_emulator.rest("batch", {"halt": 0, "cmd": cmd})["result"]
    assert result["result"] == {"p": {"CONTACT": [ann]}, "e": []}
    assert result["result_error"] == []


@pytest.mark.parametrize(
    ("params", "error", "description"),
    [
        ({"values": ["a@x.ru"]}, "Communication type is not defined", "Parameter 'type' is required."),
        (
            {"type": "SKYPE", "values": ["a"]},
            "Communication type 'SKYPE' is not supported in current context",
            "Communication type 'SKYPE' is not supported in current context",
        ),
        ({"type": "EMAIL"}, NO_VALUES, "Parameter 'values' is required."),
        ({"type": "EMAIL", "values": []}, NO_VALUES, "Parameter 'values' is required."),
        (
            {"type": "EMAIL", "values": "a@x.ru"},  # a string, not an array (the tutorial's pitfall)
            NO_VALUES,
            "Parameter 'values' is required.",
        ),
        (
            {"type": "EMAIL", "values": ["a@x.ru"], "entity_type": "DEAL"},
            "Deal is not supported in current context.",
            "Deal is not supported in current context.",
        ),
    ],
)
def test_bad_input_is_400_with_the_documented_errors(b24_emulator, params, error, description):
    response = b24_emulator.http.post(f"{b24_emulator.webhook_url}crm.duplicate.findbycomm", json=params)
    assert response.status_code == 400
    assert response.json() == {"error": error, "error_description": description}


def test_values_that_are_not_text_are_skipped(b24_emulator):
    add(b24_emulator, "contact", NAME="Ann", PHONE=["+79161234567"])
    assert find(b24_emulator, type="PHONE", values=[79161234567, "", None])["result"] == []


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("+7 (916) 123-45-67", "79161234567"),
        ("8 (916) 123-45-67", "79161234567"),
        ("+81 3 1234 5678", "81312345678"),  # +8 reads as 008, then the 00 prefix goes
        ("0049 30 1234567", "49301234567"),
        ("011 1 212 555 0100", "12125550100"),
        ("030 1234 5678", "3012345678"),  # a leading trunk 0 is dropped
        ("8 800 555-35-35", "78005553535"),
        ("80 12 345 67 89", "80123456789"),  # 80, 81, 82 are kept
        ("916 123", "916123"),  # short numbers keep their digits
        ("+7 916 123-45-67 #12", "79161234567"),
        ("", ""),
    ],
)
def test_phone_codes_follow_the_portal(typed, code):
    assert phone_code(typed) == code


def test_email_code_is_trimmed_lower_case():
    assert email_code(" Ann@Example.COM\t") == "ann@example.com"
