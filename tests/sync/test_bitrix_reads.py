"""The bitrix connector's reads on the emulated portal: phones matched however typed, reads packed."""

from __future__ import annotations

import os
import time
from pathlib import Path

import openpyxl
import pytest

from b24kit.client import PortalConfig
from b24kit.sync.connectors.bitrix import BitrixConnector, BitrixOptions
from b24kit.sync.service import execute, open_session

PROFILE = Path(__file__).parents[2] / "profiles" / "excel-contacts.yaml"
HEADER = ["Name", "Position", "E-mail", "Phone", "Company", "INN"]


@pytest.fixture
def bitrix(b24_emulator):
    connector = BitrixConnector(BitrixOptions(webhook=b24_emulator.webhook_url))
    yield connector
    connector.close()


def contact(emulator, name: str, phone: str | None = None, email: str | None = None) -> str:
    fields: dict[str, object] = {"NAME": name}
    if phone:
        fields["PHONE"] = [{"VALUE": phone, "VALUE_TYPE": "WORK"}]
    if email:
        fields["EMAIL"] = [{"VALUE": email, "VALUE_TYPE": "WORK"}]
    return str(emulator.rest("crm.contact.add", {"fields": fields})["result"])


def requests_since(emulator, began: float) -> list[list[str]]:
    """The calls since ``began`` as requests: a batch with its commands, or one method."""
    grouped: list[list[str]] = []
    for call in emulator.admin(f"calls?since={began}"):
        if call["via"] == "batch" and grouped and grouped[-1][0] == "batch":
            grouped[-1].append(call["method"])
        else:
            grouped.append([call["method"]])
    return grouped


def run_s22(emulator, tmp_path: Path, rows: list[list[object]]):
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(HEADER)
    for row in rows:
        sheet.append(row)
    book.save(tmp_path / "contacts.xlsx")
    portal = PortalConfig.from_url(emulator.webhook_url, limits="off")
    with open_session(
        PROFILE,
        env=os.environ,
        state_url=f"sqlite:///{tmp_path}/state.db",
        input_file=tmp_path / "contacts.xlsx",
        portal=portal,
    ) as session:
        return execute(session, keep_outcomes=True)


def inn_field(emulator) -> None:
    emulator.rest("crm.company.userfield.add", {"fields": {"FIELD_NAME": "INN", "USER_TYPE_ID": "string"}})


def test_a_phone_lookup_finds_the_number_however_it_was_stored(b24_emulator, bitrix):
    stored = contact(b24_emulator, "Ann", phone="+7 916 123-45-67")
    contact(b24_emulator, "Bob", phone="+7 916 000-00-02")
    began = time.time()
    (found,) = bitrix.lookup("contact", "PHONE", ["+79161234567"])
    assert found.id == stored and found.fields["PHONE"][0]["VALUE"] == "+7 916 123-45-67"
    methods = [m for request in requests_since(b24_emulator, began) for m in request]
    assert "crm.duplicate.findbycomm" in methods
    assert methods[-1] == "crm.contact.list", "the ids found are then read"


def test_s22_matches_a_row_typed_8_916_to_a_contact_stored_as_plus_7(b24_emulator, tmp_path):
    inn_field(b24_emulator)
    stored = contact(b24_emulator, "Ann", phone="+7 916 123-45-67")
    report = run_s22(b24_emulator, tmp_path, [["Ann Lee", "CEO", None, "8 (916) 1234567", None, None]])
    (outcome,) = report.outcomes
    assert (outcome.action, outcome.target_id, outcome.reason) == ("update", stored, "matched by phone")
    contacts = b24_emulator.rest("crm.contact.list", {"select": ["ID", "NAME", "POST", "PHONE"]})["result"]
    assert len(contacts) == 1, "no second contact was created"
    assert contacts[0]["POST"] == "CEO"
    assert [p["VALUE"] for p in contacts[0]["PHONE"]] == ["+7 916 123-45-67"], "the number is not added again"


def test_without_findbycomm_the_connector_falls_back_to_a_list_filter(b24_emulator, bitrix):
    stored = contact(b24_emulator, "Ann", phone="+79161234567", email="ann@x.ru")
    b24_emulator.admin(
        "faults", {"method": "crm.duplicate.findbycomm", "error": "ERROR_METHOD_NOT_FOUND", "status": 404}
    )
    assert [r.id for r in bitrix.lookup("contact", "EMAIL", ["ann@x.ru"])] == [stored]
    began = time.time()
    assert [r.id for r in bitrix.lookup("contact", "PHONE", ["+79161234567"])] == [stored]
    methods = [m for request in requests_since(b24_emulator, began) for m in request]
    assert "crm.duplicate.findbycomm" not in methods, "a portal without the method is not asked again"


def test_a_fetch_of_many_ids_is_one_batch_request(b24_emulator, bitrix):
    ids = [contact(b24_emulator, f"C{i}") for i in range(120)]
    began = time.time()
    found = bitrix.fetch("contact", [*ids, "999999"])
    assert sorted(int(r.id or 0) for r in found) == sorted(int(i) for i in ids)
    assert requests_since(b24_emulator, began) == [["batch", *["crm.contact.list"] * 3]]


def test_a_lookup_of_many_values_packs_its_commands(b24_emulator, bitrix):
    emails = [f"u{i}@x.ru" for i in range(130)]
    ids = {contact(b24_emulator, f"U{i}", email=emails[i]) for i in range(0, 130, 2)}
    began = time.time()
    found = bitrix.lookup("contact", "EMAIL", emails)
    assert {r.id for r in found} == ids
    assert requests_since(b24_emulator, began) == [
        ["batch", *["crm.duplicate.findbycomm"] * 7],  # 20 values a command
        ["batch", *["crm.contact.list"] * 2],  # the 65 found, 50 ids a command
    ]


def test_s22_reads_in_packed_requests_and_writes_fifty_a_request(b24_emulator, tmp_path):
    inn_field(b24_emulator)
    rows: list[list[object]] = [
        [f"Person {i}", "Buyer", f"p{i}@example.com", f"+7 916 {i:03d}-00-00", f"Company {i % 3}", None]
        for i in range(120)
    ]
    began = time.time()
    report = run_s22(b24_emulator, tmp_path, rows)
    assert report.summary()["create"] == 120 and report.related["company"] == 3
    requests = [r for r in requests_since(b24_emulator, began) if r[0] == "batch"]
    kinds = [sorted(set(r[1:])) for r in requests]
    assert kinds.count(["crm.duplicate.findbycomm"]) == 2, (
        "e-mails, then phones: 6 commands each, one request"
    )
    assert kinds.count(["crm.company.list"]) == 1 and kinds.count(["crm.company.add"]) == 1
    assert [len(r) - 1 for r in requests if r[1] == "crm.contact.add"] == [50, 50, 20]
    second = run_s22(b24_emulator, tmp_path, rows)
    assert second.summary()["unchanged"] == 120 and second.writes == 0
