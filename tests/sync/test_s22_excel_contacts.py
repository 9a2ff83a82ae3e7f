"""S22 end to end: contacts from a workbook into the emulated portal, linked to their companies."""

from __future__ import annotations

import time
from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

from b24kit.cli import app

PROFILE = Path(__file__).parents[2] / "profiles" / "excel-contacts.yaml"
HEADER = ["Name", "Position", "E-mail", "Phone", "Company", "INN"]
ROWS = [
    ["Ann Lee", "CEO", "ANN@example.com", "", "Romashka", "7707083893"],  # 2: existing contact by e-mail
    ["Bob Ray", "CTO", "", "+7 916 000-00-02", "", ""],  # 3: existing contact by phone
    ["Cid Moe", "Buyer", "cid@example.com", "8 (916) 000-00-03", "Vasilek", ""],  # 4: new, new company
    ["Dan Poe", "", "dan@example.com", "", "  VASILEK ", ""],  # 5: same new company, by name
    ["Eve Fox", "Lawyer", "eve@example.com", "", "Romashka LLC", "7707 083 893"],  # 6: company by INN
    [None, "Nobody", "nobody@example.com", "", "", ""],  # 7: no name
    ["Fay Kim", "", "fay@", "", "", ""],  # 8: broken e-mail
    ["Gus Orr", "", "gus@example.com", "12345", "", ""],  # 9: phone that cannot be parsed
    [None, None, None, None, None, None],  # 10: empty, skipped
    ["Cid Moe", "Buyer", "CID@example.com", "", "Vasilek", ""],  # 11: the same person again
]


@pytest.fixture
def portal(b24_emulator):
    rest = b24_emulator.rest
    rest(
        "crm.company.userfield.add",
        {"fields": {"FIELD_NAME": "INN", "USER_TYPE_ID": "string", "LABEL": "INN"}},
    )
    romashka = rest("crm.company.add", {"fields": {"TITLE": "Romashka LLC", "UF_CRM_INN": "7707083893"}})[
        "result"
    ]
    ann = rest(
        "crm.contact.add",
        {"fields": {"NAME": "Ann", "EMAIL": [{"VALUE": "ann@example.com", "VALUE_TYPE": "WORK"}]}},
    )["result"]
    bob = rest(
        "crm.contact.add",
        {"fields": {"NAME": "Bob", "PHONE": [{"VALUE": "+79160000002", "VALUE_TYPE": "WORK"}]}},
    )["result"]
    return {"emulator": b24_emulator, "romashka": str(romashka), "ann": str(ann), "bob": str(bob)}


def run(tmp_path: Path, url: str):
    return CliRunner().invoke(
        app,
        [
            "sync",
            "run",
            str(PROFILE),
            "--input",
            str(tmp_path / "contacts.xlsx"),
            "--report",
            str(tmp_path / "report.xlsx"),
            "--portal",
            url,
            "--state",
            f"sqlite:///{tmp_path}/state.db",
        ],
    )


def test_excel_contacts_into_the_portal(portal, tmp_path: Path):
    emulator = portal["emulator"]
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(HEADER)
    for row in ROWS:
        sheet.append(row)
    book.save(tmp_path / "contacts.xlsx")

    began = time.time()
    first = run(tmp_path, emulator.webhook_url)
    assert first.exit_code == 1, first.output  # three rows failed, the others went in
    methods = [c["method"] for c in emulator.admin(f"calls?since={began}")]
    assert methods.count("crm.contact.add") == 3 and methods.count("crm.company.add") == 1
    assert methods[-6:] == ["batch", *["crm.contact.update"] * 2, *["crm.contact.add"] * 3], (
        "one batch request"
    )

    contacts = {
        c["NAME"]: c
        for c in emulator.rest(
            "crm.contact.list",
            {"select": ["ID", "NAME", "POST", "COMPANY_ID", "EMAIL", "PHONE", "SOURCE_DESCRIPTION"]},
        )["result"]
    }
    assert set(contacts) == {"Ann Lee", "Bob Ray", "Cid Moe", "Dan Poe", "Eve Fox"}
    assert contacts["Ann Lee"]["ID"] == portal["ann"] and contacts["Bob Ray"]["ID"] == portal["bob"]
    assert contacts["Ann Lee"]["POST"] == "CEO" and contacts["Ann Lee"]["COMPANY_ID"] == portal["romashka"]
    assert [e["VALUE"] for e in contacts["Ann Lee"]["EMAIL"]] == ["ann@example.com"], "no duplicate e-mail"
    assert [p["VALUE"] for p in contacts["Cid Moe"]["PHONE"]] == ["+79160000003"]
    assert contacts["Eve Fox"]["COMPANY_ID"] == portal["romashka"]
    companies = emulator.rest("crm.company.list", {"select": ["ID", "TITLE", "UF_CRM_INN"]})["result"]
    assert sorted(c["TITLE"] for c in companies) == ["Romashka LLC", "Vasilek"], "Vasilek was created once"
    vasilek = next(c["ID"] for c in companies if c["TITLE"] == "Vasilek")
    assert contacts["Cid Moe"]["COMPANY_ID"] == contacts["Dan Poe"]["COMPANY_ID"] == vasilek
    assert contacts["Dan Poe"]["SOURCE_DESCRIPTION"] == "Excel import"

    report = openpyxl.load_workbook(tmp_path / "report.xlsx")
    rows = {r[0]: r for r in report["Records"].iter_rows(min_row=2, values_only=True)}
    assert {ref: rows[ref][1] for ref in rows} == {
        "row 2": "updated",
        "row 3": "updated",
        "row 4": "created",
        "row 5": "created",
        "row 6": "created",
        "row 7": "failed",
        "row 8": "failed",
        "row 9": "failed",
        "row 11": "skipped",
    }
    assert rows["row 2"][5] == "matched by email" and rows["row 3"][5] == "matched by phone"
    assert rows["row 7"][5] == "NAME is required but name is empty"
    assert rows["row 8"][5].startswith("EMAIL: 'fay@' is not an e-mail address")
    assert rows["row 9"][5] == "PHONE: '12345' is not a phone number"
    assert rows["row 11"][5] == "duplicate of row 4 (same email)"
    summary = dict(report["Summary"].iter_rows(values_only=True))
    assert (summary["Create"], summary["Update"], summary["Fail"], summary["Created company"]) == (3, 2, 3, 1)

    started = time.time()
    second = run(tmp_path, emulator.webhook_url)
    assert second.exit_code == 1 and "5 unchanged" in second.output
    writes = [
        c["method"]
        for c in emulator.admin(f"calls?since={started}")
        if c["method"].endswith((".add", ".update", ".delete"))
    ]
    assert writes == [], "a second run with nothing changed makes zero write calls"
