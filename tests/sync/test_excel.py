"""The Excel connector: typed cells, header mapping, broken rows, bad files, and a million rows streamed."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest

from b24kit.errors import ConfigError
from b24kit.sync.connectors.excel import ExcelConnector, ExcelOptions
from b24kit.sync.connectors.excel_report import open_report
from b24kit.sync.engine import FieldChange, Outcome, RunReport
from b24kit.testing.connectors import connector_contract

from .xlsx import write_xlsx


def workbook(path: Path, rows: list[list], sheet: str = "Contacts", merge: str | None = None) -> Path:
    book = openpyxl.Workbook()
    ws = book.active
    assert ws is not None
    ws.title = sheet
    for row in rows:
        ws.append(row)
    if merge:
        ws.merge_cells(merge)
    book.save(path)
    return path


def read(path: Path, entity: str = "Contacts", **options) -> list:
    return list(ExcelConnector(ExcelOptions(path=str(path), **options)).read(entity))


def test_typed_cells_keep_their_types(tmp_path: Path):
    born = datetime(1990, 5, 1)
    path = workbook(
        tmp_path / "t.xlsx",
        [
            ["Name", "Born", "Salary", "Staff", "Active", "Note"],
            ["  Ann  ", born, 1234.5, 12, True, None],
            [None, None, None, None, None, None],
            ["Bob", "01.02.1985", "1 000", 0, False, "x"],
        ],
    )
    ann, bob = read(path)
    assert ann.fields == {
        "Name": "Ann",
        "Born": born,
        "Salary": 1234.5,
        "Staff": 12,
        "Active": True,
        "Note": None,
    }
    assert (ann.ref, bob.ref) == ("row 2", "row 4"), (
        "empty rows are skipped, numbering stays true to the sheet"
    )
    assert bob.fields["Born"] == "01.02.1985" and bob.fields["Active"] is False
    assert ann.id is None and ann.problem is None


def test_headers_map_to_field_names_and_ids_come_from_a_column(tmp_path: Path):
    path = workbook(tmp_path / "t.xlsx", [["Код", "Электронная почта"], [17.0, "a@x.ru"], ["A-2", "b@x.ru"]])
    rows = read(path, columns={"Электронная почта": "email"}, id_column="Код")
    assert [(r.id, r.fields["email"]) for r in rows] == [("17", "a@x.ru"), ("A-2", "b@x.ru")]


def test_cell_errors_make_the_row_a_failed_record(tmp_path: Path):
    path = workbook(tmp_path / "t.xlsx", [["Name", "Total"], ["Ann", "#N/A"], ["Bob", 5]])
    ann, bob = read(path)
    assert ann.problem == "cell B2 holds #N/A" and ann.fields["Total"] is None
    assert bob.problem is None


def test_header_on_a_later_row(tmp_path: Path):
    path = workbook(
        tmp_path / "t.xlsx",
        [["Contacts 2024", None], ["Name", "Phone"], ["Ann", "+79161234567"]],
        merge="A1:B1",
    )
    (ann,) = read(path, header_row=2)
    assert ann.fields == {"Name": "Ann", "Phone": "+79161234567"} and ann.ref == "row 3"


def test_merged_header_is_reported_with_the_cells(tmp_path: Path):
    path = workbook(
        tmp_path / "t.xlsx", [["Contact", None, "Company"], ["Ann", "a@x.ru", "X"]], merge="A1:B1"
    )
    with pytest.raises(ConfigError) as caught:
        read(path)
    error = caught.value
    assert "header row 1 has merged cells (A1:B1)" in error.message
    assert error.source == "t.xlsx, sheet 'Contacts', cell B1"
    assert error.suggestion is not None and "options.header_row" in error.suggestion


def test_a_column_without_a_name(tmp_path: Path):
    path = workbook(tmp_path / "t.xlsx", [["Name", None, "Phone"], ["Ann", "x", "1"]])
    with pytest.raises(ConfigError, match="column B has no name in header row 1"):
        read(path)


def test_repeated_header_names(tmp_path: Path):
    path = workbook(tmp_path / "t.xlsx", [["Phone", "Name", "Phone"], ["1", "Ann", "2"]])
    with pytest.raises(ConfigError, match="columns A1 and C1 are both named 'Phone'"):
        read(path)


def test_empty_sheet(tmp_path: Path):
    path = workbook(tmp_path / "t.xlsx", [])
    with pytest.raises(ConfigError) as caught:
        read(path)
    assert "the sheet is empty" in caught.value.message


def test_unknown_sheet_suggests_the_closest(tmp_path: Path):
    path = workbook(tmp_path / "t.xlsx", [["Name"], ["Ann"]])
    with pytest.raises(ConfigError) as caught:
        read(path, entity="Contact")
    assert (
        "no sheet named 'Contact'" in caught.value.message
        and caught.value.suggestion == "did you mean 'Contacts'?"
    )
    assert [r.fields for r in read(path, entity="*")] == [{"Name": "Ann"}]


def test_unknown_column_in_options(tmp_path: Path):
    path = workbook(tmp_path / "t.xlsx", [["E-mail"], ["a@x.ru"]])
    with pytest.raises(ConfigError) as caught:
        read(path, columns={"Email": "email"})
    assert caught.value.suggestion == "did you mean 'E-mail'?"


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (b"Name,Phone\nAnn,1\n", "a text file (CSV?)"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "an old Excel 97-2003 (.xls) file"),
        (b"<html><table><tr><td>1</td></tr></table></html>", "an HTML or XML file"),
        (b"", "the file is empty"),
        (b"\x00\x01\x02binary", "an unknown binary file"),
    ],
)
def test_wrong_file_types_are_named(tmp_path: Path, content: bytes, says: str):
    path = tmp_path / "contacts.xlsx"
    path.write_bytes(content)
    with pytest.raises(ConfigError) as caught:
        read(path)
    assert says in caught.value.message and caught.value.source == str(path)
    assert caught.value.suggestion is not None and "save it as" in caught.value.suggestion


def test_a_zip_that_is_not_a_workbook(tmp_path: Path):
    path = tmp_path / "photos.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("photo.jpg", b"...")
    with pytest.raises(ConfigError, match=r"not a readable \.xlsx workbook"):
        read(path)


def test_missing_file_and_missing_path(tmp_path: Path):
    with pytest.raises(ConfigError, match="file not found"):
        read(tmp_path / "nope.xlsx")
    with pytest.raises(ConfigError) as caught:
        list(ExcelConnector(ExcelOptions()).read("Contacts"))
    assert caught.value.suggestion == "set options.path in the profile or pass --input FILE"


def test_describe_lists_the_columns(tmp_path: Path):
    path = workbook(tmp_path / "t.xlsx", [["Name", "E-mail"], ["Ann", "a@x.ru"]])
    fields = ExcelConnector(ExcelOptions(path=str(path), columns={"E-mail": "email"})).describe("Contacts")
    assert {k: v.title for k, v in fields.items()} == {"Name": "Name", "email": "E-mail"}


def test_reports_in_xlsx_and_csv(tmp_path: Path):
    report = RunReport("contacts", planned=False)
    outcomes = [
        Outcome(
            "create",
            "row 2",
            "email:a@x.ru",
            "7",
            "target",
            (FieldChange("target", "EMAIL", None, [{"VALUE": "a@x.ru", "VALUE_TYPE": "WORK"}]),),
        ),
        Outcome("fail", "row 3", None, None, reason="NAME is required but Name is empty"),
    ]
    for suffix in ("xlsx", "csv"):
        writer = open_report(tmp_path / f"r.{suffix}")
        for outcome in outcomes:
            report.add(outcome) if suffix == "xlsx" else None
            writer(outcome)
        writer.close(report)
    book = openpyxl.load_workbook(tmp_path / "r.xlsx", read_only=True)
    rows = list(book["Records"].iter_rows(values_only=True))
    assert rows == [
        ("Record", "Result", "Source id", "Target id", "Changes", "Reason"),
        ("row 2", "created", "email:a@x.ru", "7", "EMAIL: (empty) -> a@x.ru", None),
        ("row 3", "failed", None, None, None, "NAME is required but Name is empty"),
    ]
    summary = dict(book["Summary"].iter_rows(values_only=True))
    assert summary["Create"] == 1 and summary["Fail"] == 1
    text = (tmp_path / "r.csv").read_text(encoding="utf-8-sig")
    assert "row 3,failed,,,,NAME is required but Name is empty" in text
    with pytest.raises(ConfigError, match=r"a report is \.xlsx or \.csv"):
        open_report(tmp_path / "r.txt")


def _contract_book(tmp_path: Path) -> dict:
    write_xlsx(tmp_path / "c.xlsx", ["ID", "NAME"], [[1, "Ann"], [2, "Bob"]])
    return {"path": str(tmp_path / "c.xlsx"), "id_column": "ID"}


TestExcelContract = connector_contract(
    ExcelConnector, options=_contract_book, entity="Contacts", lookup_field="NAME"
)

MILLION = 1_000_000
_READ = """
import resource, sys, time
from b24kit.sync.connectors.excel import ExcelConnector, ExcelOptions
start = time.monotonic()
count = sum(1 for _ in ExcelConnector(ExcelOptions(path=sys.argv[1])).read("Contacts"))
print(count, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024, round(time.monotonic() - start))
"""


@pytest.mark.slow
@pytest.mark.skipif(
    not os.environ.get("B24KIT_TEST_MILLION"), reason="set B24KIT_TEST_MILLION=1 (takes minutes)"
)
def test_a_million_rows_stream_in_constant_memory(tmp_path: Path):
    """A million-row sheet is read row by row: peak memory stays near an empty run's."""
    rows = (
        (f"Name {i}", f"u{i}@x.ru", f"+7916{i:07d}", f"Co {i % 100}", "7707083893") for i in range(MILLION)
    )
    path = write_xlsx(
        tmp_path / "big.xlsx", ["Name", "E-mail", "Phone", "Company", "INN"], rows, count=MILLION
    )
    small = write_xlsx(tmp_path / "small.xlsx", ["Name", "E-mail", "Phone", "Company", "INN"], [])
    runs = {}
    for name, file in (("big", path), ("small", small)):
        out = subprocess.run(
            [sys.executable, "-c", _READ, str(file)], capture_output=True, text=True, check=True
        )
        count, peak_mb, _seconds = map(int, out.stdout.split())
        runs[name] = (count, peak_mb)
    assert runs["big"][0] == MILLION and runs["small"][0] == 0
    assert runs["big"][1] - runs["small"][1] < 40, runs


def test_a_hundred_thousand_rows_do_not_grow_memory(tmp_path: Path):
    """The same streaming check at a size the default test run affords."""
    rows = ((f"Name {i}", f"u{i}@x.ru") for i in range(100_000))
    big = write_xlsx(tmp_path / "big.xlsx", ["Name", "E-mail"], rows, count=100_000)
    small = write_xlsx(tmp_path / "small.xlsx", ["Name", "E-mail"], [])
    peaks = []
    for file in (big, small):
        out = subprocess.run(
            [sys.executable, "-c", _READ, str(file)], capture_output=True, text=True, check=True
        )
        peaks.append(int(out.stdout.split()[1]))
    assert peaks[0] - peaks[1] < 15, peaks
