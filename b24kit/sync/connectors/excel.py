"""ExcelConnector: stream rows of an .xlsx sheet as records (openpyxl read-only), header row -> fields."""

from __future__ import annotations

import itertools
import re
import zipfile
from collections.abc import Iterator, Mapping
from datetime import date, datetime, time
from pathlib import Path
from typing import Any, ClassVar

import openpyxl
from openpyxl.utils import get_column_letter
from openpyxl.utils.exceptions import InvalidFileException
from pydantic import BaseModel, ConfigDict, Field

from b24kit.errors import ConfigError
from b24kit.sync.connector import Capability, ConnectorBase, ConnectorContext, FieldInfo
from b24kit.sync.records import Record, Since
from b24kit.sync.suggest import did_you_mean

CELL_ERRORS = frozenset(
    {"#N/A", "#VALUE!", "#REF!", "#DIV/0!", "#NUM!", "#NAME?", "#NULL!", "#SPILL!", "#CALC!"}
)
FIRST_SHEET = "*"
_MERGE = re.compile(rb'<mergeCell\s+ref="([A-Z]+)(\d+)(?::([A-Z]+)(\d+))?"')


class ExcelOptions(BaseModel):
    """Options of the ``excel`` connector; the profile's ``entity`` names the sheet (``*``: the first)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    path: str | None = Field(None, description="The .xlsx file; `b24kit sync run --input FILE` overrides it.")
    header_row: int = Field(1, ge=1, description="The row that names the columns.")
    columns: dict[str, str] = Field(
        default_factory=dict, description="Header text -> field name, for headers that are awkward to type."
    )
    id_column: str | None = Field(
        None,
        description="A column with a stable id per row; without one, rows are known by their match keys.",
    )
    trim: bool = Field(True, description="Strip spaces around text cells.")


class ExcelConnector(ConnectorBase):
    """Reads one sheet row by row without loading the workbook; typed cells keep their types.

    Dates arrive as ``datetime``, numbers as ``int``/``float``, booleans as ``bool``; empty rows are
    skipped; a cell holding a formula error (``#N/A``) makes its row a failed record. File-level
    problems (not an .xlsx file, no such sheet, an empty sheet, a merged or repeated header) raise
    :class:`ConfigError` naming the file, sheet and cell.
    """

    name: ClassVar[str] = "excel"
    Options: ClassVar[type[BaseModel]] = ExcelOptions
    capabilities: ClassVar[frozenset[Capability]] = frozenset({"read", "describe"})
    batch_size: ClassVar[int] = 50

    def __init__(self, options: ExcelOptions, context: ConnectorContext | None = None) -> None:
        self.options = options
        self.base_dir = context.base_dir if context is not None else Path()

    @property
    def path(self) -> Path:
        if not self.options.path:
            raise ConfigError(
                "no workbook given",
                field="options.path",
                suggestion="set options.path in the profile or pass --input FILE",
            )
        path = Path(self.options.path)
        return path if path.is_absolute() else self.base_dir / path

    def describe(self, entity: str) -> Mapping[str, FieldInfo]:
        with _Sheet(self.path, entity, self.options) as sheet:
            return {name: FieldInfo(name=name, title=title) for name, title in sheet.fields.items()}

    def read(self, entity: str, *, since: Since | None = None) -> Iterator[Record]:
        with _Sheet(self.path, entity, self.options) as sheet:
            yield from sheet.records()


class _Sheet:
    """An open sheet: validated header, then a stream of records."""

    def __init__(self, path: Path, entity: str, options: ExcelOptions) -> None:
        self.path = path
        self.options = options
        self.workbook = _open(path)
        try:
            self.sheet = _pick(self.workbook, path, entity)
            self.name = self.sheet.title
            self.stream = stream_rows(self.workbook, self.sheet)
            self.rows = _after(self.stream, options.header_row)
            first = next(self.rows, None)
            self.columns = self._header(first[1] if first and first[0] == options.header_row else None)
            if first and first[0] > options.header_row:
                self.rows = itertools.chain([first], self.rows)
        except BaseException:
            self.close()
            raise

    def __enter__(self) -> _Sheet:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        stream = getattr(self, "stream", None)
        if stream is not None:
            stream.close()  # closes the sheet's zip member
        self.workbook.close()

    @property
    def fields(self) -> dict[str, str]:
        return {name: title for _, title, name in self.columns}

    def _where(self, cell: str = "") -> str:
        return f"{self.path.name}, sheet {self.name!r}" + (f", cell {cell}" if cell else "")

    def _header(self, row: tuple[Any, ...] | None) -> list[tuple[int, str, str]]:
        number = self.options.header_row
        titles = ["" if v is None else str(v).strip() for v in (row or ())]
        while titles and not titles[-1]:
            titles.pop()
        if not titles:
            raise ConfigError(
                f"the sheet is empty: row {number} should name the columns",
                source=self._where(),
                suggestion="check the sheet name and options.header_row",
            )
        blanks = [i for i, t in enumerate(titles) if not t]
        if blanks:
            self._blank_header(blanks[0], number)
        columns: list[tuple[int, str, str]] = []
        names: dict[str, str] = {}
        for index, title in enumerate(titles):
            name = self.options.columns.get(title, title)
            cell = f"{get_column_letter(index + 1)}{number}"
            if name in names:
                raise ConfigError(
                    f"columns {names[name]} and {cell} are both named {name!r}",
                    source=self._where(cell),
                    suggestion="rename one, or map them in options.columns",
                )
            names[name] = cell
            columns.append((index, title, name))
        for title in self.options.columns:
            if title not in titles:
                raise ConfigError(
                    f"options.columns names a header {title!r} that row {number} does not have",
                    source=self._where(),
                    suggestion=did_you_mean(title, titles),
                )
        if self.options.id_column and self.options.id_column not in names:
            raise ConfigError(
                f"id_column {self.options.id_column!r} is not a column",
                source=self._where(),
                suggestion=did_you_mean(self.options.id_column, list(names)),
            )
        return columns

    def _blank_header(self, index: int, number: int) -> None:
        cell = f"{get_column_letter(index + 1)}{number}"
        merged = _merged_in_row(self.workbook, self.sheet, number)
        if merged:
            raise ConfigError(
                f"header row {number} has merged cells ({', '.join(merged)})",
                source=self._where(cell),
                suggestion="unmerge them so every column has its own name, or point options.header_row at "
                "the row that names the columns",
            )
        raise ConfigError(
            f"column {get_column_letter(index + 1)} has no name in header row {number}",
            source=self._where(cell),
            suggestion="name every column that holds data",
        )

    def records(self) -> Iterator[Record]:
        width = len(self.columns)
        id_column = self.options.id_column
        for number, values in self.rows:
            if all(v is None or (isinstance(v, str) and not v.strip()) for v in values[:width]):
                continue
            fields: dict[str, Any] = {}
            problems = []
            for index, _title, name in self.columns:
                value = values[index] if index < len(values) else None
                if isinstance(value, str):
                    if value.strip() in CELL_ERRORS:
                        problems.append(f"cell {get_column_letter(index + 1)}{number} holds {value.strip()}")
                        value = None
                    elif self.options.trim:
                        value = value.strip()
                fields[name] = _plain(value)
            record_id = fields.get(id_column) if id_column else None
            yield Record(
                id=None if record_id in (None, "") else _id_text(record_id),
                fields=fields,
                ref=f"row {number}",
                problem="; ".join(problems) or None,
            )


def _after(rows: Iterator[tuple[int, tuple[Any, ...]]], first: int) -> Iterator[tuple[int, tuple[Any, ...]]]:
    return (row for row in rows if row[0] >= first)


def stream_rows(workbook: Any, sheet: Any) -> Iterator[tuple[int, tuple[Any, ...]]]:
    """(row number, cell values) for every row in the sheet XML, in constant memory.

    openpyxl's own read-only iterator clears each row element but leaves it in the parsed tree,
    which grows by ~90 bytes a row (~90 MB for a million rows); this loop drops each row from its
    parent as soon as it is read, and reuses openpyxl's cell parser for typed values (dates by
    number format, shared strings, booleans, errors).
    """
    try:
        from openpyxl.worksheet._reader import ROW_TAG, WorkSheetParser
        from openpyxl.xml.functions import iterparse

        source = sheet._get_source()
        parser = WorkSheetParser(
            source,
            sheet._shared_strings,
            data_only=True,
            epoch=workbook.epoch,
            date_formats=workbook._date_formats,
            timedelta_formats=workbook._timedelta_formats,
        )
    except (ImportError, AttributeError):  # pragma: no cover - another openpyxl layout: slower, still streams
        for number, row in enumerate(sheet.iter_rows(values_only=True), start=1):
            yield number, tuple(row)
        return
    with source:
        yield from _rows(parser, source, ROW_TAG, iterparse)


def _rows(parser: Any, source: Any, row_tag: str, iterparse: Any) -> Iterator[tuple[int, tuple[Any, ...]]]:
    """Row by row with lxml (only row events reach Python), else with the standard library's parser."""
    try:
        from lxml import etree  # type: ignore[import-untyped]
    except ImportError:  # pragma: no cover - lxml comes with zeep, a b24kit dependency
        etree = None
    counter = 0
    if etree is not None:
        for _, element in etree.iterparse(source, events=("end",), tag=row_tag, resolve_entities=False):
            counter = _row_number(element, counter)
            values = _row_values(parser, element, counter)
            element.clear(keep_tail=True)
            while element.getprevious() is not None:
                del element.getparent()[0]
            yield counter, values
        return
    parent: Any = None
    for event, element in iterparse(source, events=("start", "end")):
        if event == "start":
            if element.tag.endswith("}sheetData"):
                parent = element
            continue
        if element.tag != row_tag:
            continue
        counter = _row_number(element, counter)
        values = _row_values(parser, element, counter)
        element.clear()
        if parent is not None:
            parent.remove(element)
        yield counter, values


def _row_number(element: Any, previous: int) -> int:
    given = element.get("r")
    return int(float(given)) if given else previous + 1


def _row_values(parser: Any, element: Any, number: int) -> tuple[Any, ...]:
    parser.row_counter, parser.col_counter = number, 0
    cells = [parser.parse_cell(cell) for cell in element]
    width = max((c["column"] for c in cells), default=0)
    values: list[Any] = [None] * width
    for cell in cells:
        values[cell["column"] - 1] = cell["value"]
    return tuple(values)


def _plain(value: Any) -> Any:
    if isinstance(value, time | date | datetime | bool | int | float | str) or value is None:
        return value
    return str(value)


def _id_text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _open(path: Path) -> Any:
    if not path.exists():
        raise ConfigError("file not found", source=str(path))
    if path.is_dir():
        raise ConfigError("is a folder, not a workbook", source=str(path))
    kind = _sniff(path)
    if kind:
        raise ConfigError(
            f"not an .xlsx workbook: {kind}",
            source=str(path),
            suggestion="open it in Excel and save it as 'Excel Workbook (*.xlsx)'",
        )
    try:
        return openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise ConfigError(
            f"not a readable .xlsx workbook ({type(exc).__name__}: {exc})",
            source=str(path),
            suggestion="open it in Excel and save it as 'Excel Workbook (*.xlsx)'",
        ) from None


def _sniff(path: Path) -> str | None:
    """Name the file's real type when it is not a zip package (the .xlsx container)."""
    with path.open("rb") as handle:
        head = handle.read(512)
    if head.startswith(b"PK\x03\x04"):
        return None
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        return "an old Excel 97-2003 (.xls) file or a password-protected workbook"
    if not head:
        return "the file is empty"
    text = head.lstrip(b"\xef\xbb\xbf").lstrip().lower()
    if text.startswith((b"<html", b"<!doctype", b"<?xml", b"<table")):
        return "an HTML or XML file renamed to .xlsx"
    if b"\x00" not in head:
        return "a text file (CSV?)"
    return "an unknown binary file"


def _pick(workbook: Any, path: Path, entity: str) -> Any:
    names = list(workbook.sheetnames)
    if entity == FIRST_SHEET:
        return workbook[names[0]]
    if entity in names:
        return workbook[entity]
    raise ConfigError(
        f"no sheet named {entity!r} (the workbook has: {', '.join(names)})",
        source=str(path),
        field="entity",
        suggestion=did_you_mean(entity, names),
    )


def _merged_in_row(workbook: Any, sheet: Any, row: int) -> list[str]:
    """Merged ranges that touch ``row``, read from the sheet XML (read-only mode does not parse them)."""
    found: list[str] = []
    try:
        with workbook._archive.open(sheet._worksheet_path) as handle:  # streaming: the tail holds the merges
            tail = b""
            while chunk := handle.read(1 << 20):
                data = tail + chunk
                for m in _MERGE.finditer(data):
                    first, last = int(m.group(2)), int(m.group(4) or m.group(2))
                    if first <= row <= last:
                        found.append(m.group(0).split(b'"')[1].decode())
                tail = data[-200:]
    except (AttributeError, KeyError, OSError):
        return []
    return list(dict.fromkeys(found))
