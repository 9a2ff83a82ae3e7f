"""Per-record run reports as .xlsx (openpyxl write-only, streamed) or .csv: one line per record."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any, Protocol, TextIO

import openpyxl

from b24kit.errors import ConfigError
from b24kit.sync.engine import Outcome, RunReport
from b24kit.sync.values import jsonable

HEADER = ("Record", "Result", "Source id", "Target id", "Changes", "Reason")


class ReportWriter(Protocol):
    """Receives outcomes while a run goes (a :data:`Listener`), then the totals."""

    def __call__(self, outcome: Outcome) -> None: ...

    def close(self, report: RunReport | None, error: str | None = None) -> None: ...


def describe_changes(outcome: Outcome) -> str:
    """``NAME: 'Bobby' -> 'Bob'; EMAIL: + ann@x.ru`` (values shortened)."""
    parts = []
    for change in outcome.changes:
        side = "" if change.side == "target" else "source."
        parts.append(f"{side}{change.field}: {short_value(change.before)} -> {short_value(change.after)}")
    return "; ".join(parts)


def short_value(value: Any, limit: int = 60) -> str:
    """A value for people: multi-field items as their values, long text cut."""
    if value is None:
        return "(empty)"
    plain = jsonable(value)
    if isinstance(plain, list) and all(isinstance(v, dict) and "VALUE" in v for v in plain):
        plain = [v["VALUE"] for v in plain]
    if isinstance(plain, list):
        plain = ", ".join(str(v) for v in plain)
    text = plain if isinstance(plain, str) else repr(plain)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def row_of(outcome: Outcome) -> list[Any]:
    return [
        outcome.ref,
        outcome.past,
        outcome.source_id or "",
        outcome.target_id or "",
        describe_changes(outcome),
        outcome.reason,
    ]


def summary_rows(report: RunReport | None, error: str | None) -> list[list[Any]]:
    rows: list[list[Any]] = []
    if report is not None:
        rows.append(["Profile", report.profile])
        rows.append(["Mode", "plan (nothing written)" if report.planned else "run"])
        rows.extend([[action.capitalize(), count] for action, count in report.summary().items()])
        rows.extend([[f"Created {entity}", count] for entity, count in report.related.items()])
        if report.guard:
            rows.append(["Delete guard", report.guard])
        rows.extend([["Warning", w] for w in report.warnings])
    if error:
        rows.append(["Error", error])
    return rows


class ExcelReport:
    """Streams rows into a write-only workbook: sheet "Records" (one row each) and "Summary"."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.book = openpyxl.Workbook(write_only=True)
        self.summary = self.book.create_sheet("Summary")
        self.records = self.book.create_sheet("Records")
        self.records.append(list(HEADER))

    def __call__(self, outcome: Outcome) -> None:
        self.records.append(row_of(outcome))

    def close(self, report: RunReport | None, error: str | None = None) -> None:
        for row in summary_rows(report, error):
            self.summary.append(row)
        try:
            self.book.save(self.path)
        except OSError as exc:
            raise ConfigError(
                f"cannot write the report: {exc.strerror or exc}", source=str(self.path)
            ) from None


class CsvReport:
    """The same rows as CSV (UTF-8 with BOM so Excel opens Cyrillic text correctly)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self.handle: TextIO = path.open("w", encoding="utf-8-sig", newline="")
        except OSError as exc:
            raise ConfigError(f"cannot write the report: {exc.strerror or exc}", source=str(path)) from None
        self.writer = csv.writer(self.handle)
        self.writer.writerow(HEADER)

    def __call__(self, outcome: Outcome) -> None:
        self.writer.writerow(row_of(outcome))

    def close(self, report: RunReport | None, error: str | None = None) -> None:
        for row in summary_rows(report, error):
            self.writer.writerow(["#", *row])
        self.handle.close()


def open_report(path: str | Path) -> ReportWriter:
    """A report writer chosen by the file's suffix: ``.xlsx`` or ``.csv``."""
    target = Path(path)
    suffix = target.suffix.lower()
    if suffix == ".xlsx":
        return ExcelReport(target)
    if suffix == ".csv":
        return CsvReport(target)
    raise ConfigError(
        f"a report is .xlsx or .csv, not {suffix or 'a file without a suffix'}", source=str(path)
    )
