"""`b24kit profile ...` and `b24kit sync ...`: output, files and exit codes (0, 1, 2)."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

from b24kit.cli import app
from b24kit.sync.connectors.memory import memory_store

runner = CliRunner()

PROFILE = """\
version: 1
name: xl-contacts
source:
  connector: excel
  entity: Contacts
  options: {columns: {E-mail: email}}
target: {connector: memory, entity: contact, options: {store: cli}}
match:
  keys: [{source: email, target: EMAIL, normalise: email}]
fields:
  NAME: {from: Name, required: true}
  EMAIL: {from: email, transform: email}
  POST: Position
"""


@pytest.fixture
def files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "contacts.yaml").write_text(PROFILE)
    book = openpyxl.Workbook()
    ws = book.active
    assert ws is not None
    ws.title = "Contacts"
    for row in (
        ["Name", "Position", "E-mail"],
        ["Ann", "CEO", "ann@x.ru"],
        ["", "CTO", "bob@x.ru"],
        ["Cid", "", "cid@"],
    ):
        ws.append(row)
    book.save(tmp_path / "contacts.xlsx")
    return tmp_path


def invoke(*args: str):
    return runner.invoke(app, list(args))


def test_validate_ok_and_errors(files: Path):
    bad = files / "bad.yaml"
    bad.write_text(PROFILE.replace("{from: Name, required: true}", "{fro: Name}"))
    ok = invoke("profile", "validate", "contacts.yaml")
    assert ok.exit_code == 0 and "ok contacts.yaml" in ok.stdout
    result = invoke("profile", "validate", "contacts.yaml", "bad.yaml")
    assert result.exit_code == 2
    assert "bad.yaml:11: fields.NAME.fro: unknown key 'fro' (did you mean 'from'?)" in result.stdout
    assert "1 valid, 1 invalid" in result.stdout


def test_validate_connect_checks_fields_against_the_systems(files: Path):
    memory_store("cli").schema["contact"] = {}
    profile = files / "contacts.yaml"
    profile.write_text(
        PROFILE.replace("POST: Position", "POST: Positon").replace(
            "options: {columns: {E-mail: email}}", "options: {columns: {E-mail: email}, path: contacts.xlsx}"
        )
    )
    result = invoke("profile", "validate", "--connect", "contacts.yaml")
    assert result.exit_code == 2
    expected = "contacts.yaml:13: fields.POST.from: source 'Contacts' has no field 'Positon'"
    assert f"{expected} (did you mean 'Position'?)" in result.stdout


def test_schema_is_json_schema(files: Path):
    result = invoke("profile", "schema")
    schema = json.loads(result.stdout)
    assert result.exit_code == 0 and schema["$schema"].endswith("2020-12/schema")
    assert schema["additionalProperties"] is False and "fields" in schema["required"]


def test_plan_writes_nothing(files: Path):
    result = invoke("sync", "plan", "contacts.yaml", "--input", "contacts.xlsx", "--state", "sqlite:///s.db")
    assert result.exit_code == 0, result.stdout
    assert "Plan for xl-contacts (nothing was written)" in result.stdout
    assert "xl-contacts: 1 created, 2 failed (plan)" in result.stdout
    assert memory_store("cli").rows("contact") == {}


def test_run_reports_every_row_and_exits_1_on_failed_rows(files: Path):
    result = invoke(
        "sync",
        "run",
        "contacts.yaml",
        "-i",
        "contacts.xlsx",
        "--report",
        "report.xlsx",
        "--state",
        "sqlite:///s.db",
    )
    assert result.exit_code == 1, result.stdout
    assert "failed row 3: NAME is required but Name is empty" in result.stdout
    assert (
        "failed row 4: EMAIL: 'cid@' is not an e-mail address; so no value to identify the record by (email)"
        in (result.stdout)
    )
    assert [r["NAME"] for r in memory_store("cli").rows("contact").values()] == ["Ann"]
    rows = list(openpyxl.load_workbook(files / "report.xlsx")["Records"].iter_rows(values_only=True))
    assert [(r[0], r[1]) for r in rows[1:]] == [
        ("row 2", "created"),
        ("row 3", "failed"),
        ("row 4", "failed"),
    ]
    again = invoke("sync", "run", "contacts.yaml", "-i", "contacts.xlsx", "--state", "sqlite:///s.db")
    assert "xl-contacts: 1 unchanged, 2 failed" in again.stdout


def test_a_clean_run_exits_0(files: Path):
    book = openpyxl.Workbook()
    ws = book.active
    assert ws is not None
    ws.title = "Contacts"
    ws.append(["Name", "Position", "E-mail"])
    ws.append(["Ann", "CEO", "ann@x.ru"])
    book.save(files / "clean.xlsx")
    result = invoke("sync", "run", "contacts.yaml", "-i", "clean.xlsx", "--state", "sqlite:///s.db")
    assert result.exit_code == 0 and "xl-contacts: 1 created" in result.stdout


@pytest.mark.parametrize(
    ("name", "content", "says"),
    [
        ("contacts.csv", b"Name,E-mail\nAnn,a@x.ru\n", "not an .xlsx workbook: a text file (CSV?)"),
        ("missing.xlsx", None, "file not found"),
    ],
)
def test_bad_input_files_exit_2(files: Path, name: str, content: bytes | None, says: str):
    if content is not None:
        (files / name).write_bytes(content)
    report = files / "report.xlsx"
    result = invoke(
        "sync", "run", "contacts.yaml", "-i", name, "--report", str(report), "--state", "sqlite:///s.db"
    )
    assert result.exit_code == 2 and says in result.output
    summary = dict(openpyxl.load_workbook(report)["Summary"].iter_rows(values_only=True))
    assert says in summary["Error"]


def test_bad_profile_exits_2_with_every_issue(files: Path):
    (files / "contacts.yaml").write_text(
        PROFILE.replace("name: xl-contacts", "name: Bad Name").replace("normalise: email", "normalise: mail")
    )
    result = invoke("sync", "run", "contacts.yaml")
    assert result.exit_code == 2
    assert (
        "contacts.yaml:2: name:" in result.output
        and "contacts.yaml:9: match.keys.0.normalise:" in result.output
    )


def test_input_of_the_wrong_kind_for_the_connector(files: Path):
    (files / "m.yaml").write_text(
        textwrap.dedent("""\
        version: 1
        name: m
        source: {connector: memory, entity: rows}
        target: {connector: memory, entity: contact}
        fields: {NAME: name}
    """)
    )
    result = invoke("sync", "run", "m.yaml", "--input", "contacts.xlsx", "--state", "sqlite:///s.db")
    assert result.exit_code == 2 and "not a memory store file" in result.output


def test_a_tripped_guard_exits_2(files: Path):
    (files / "g.yaml").write_text(
        textwrap.dedent("""\
        version: 1
        name: g
        source: {connector: memory, entity: rows, options: {store: gsrc}}
        target: {connector: memory, entity: contact, options: {store: gdst}}
        fields: {NAME: name}
        deletes: {mode: delete, guard: {max_count: 1}}
    """)
    )
    source = memory_store("gsrc")
    for i in range(3):
        source.put("rows", {"name": f"n{i}"}, id=f"s{i}")
    assert invoke("sync", "run", "g.yaml", "--state", "sqlite:///s.db").exit_code == 0
    for i in range(3):
        source.remove("rows", f"s{i}")
    result = invoke("sync", "run", "g.yaml", "--state", "sqlite:///s.db")
    assert result.exit_code == 2 and "delete guard" in result.stdout
    assert len(memory_store("gdst").rows("contact")) == 3


def test_links_export_and_import(files: Path):
    invoke("sync", "run", "contacts.yaml", "-i", "contacts.xlsx", "--state", "sqlite:///s.db")
    exported = invoke(
        "sync", "links", "export", "contacts.yaml", "--state", "sqlite:///s.db", "-o", "links.csv"
    )
    assert exported.exit_code == 0
    text = (files / "links.csv").read_text()
    assert text.splitlines()[0] == "source_id,target_id,state" and "email:ann@x.ru" in text
    imported = invoke(
        "sync", "links", "import", "contacts.yaml", "links.csv", "--state", "sqlite:///other.db"
    )
    assert imported.exit_code == 0 and "1 links imported" in imported.output
    (files / "broken.csv").write_text("source_id,target_id\na,1\nb,1\n")
    result = invoke("sync", "links", "import", "contacts.yaml", "broken.csv", "--state", "sqlite:///other.db")
    assert result.exit_code == 2 and "broken.csv:3: target_id '1' is already on line 2" in result.output
    (files / "nocols.csv").write_text("a,b\n1,2\n")
    result = invoke("sync", "links", "import", "contacts.yaml", "nocols.csv", "--state", "sqlite:///other.db")
    assert result.exit_code == 2 and "needs the columns source_id, target_id" in result.output
