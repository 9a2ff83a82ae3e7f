"""The list-query engine: Bitrix filter operators against a reference, paging, ID windows, speed."""

from __future__ import annotations

import fnmatch
import re
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from b24kit.emulator.clock import Clock
from b24kit.emulator.crm.values import render_date
from b24kit.emulator.errors import RestError
from b24kit.emulator.query import (
    PAGE_SIZE,
    FieldRef,
    QueryCache,
    compile_query,
    page_start,
    paginate,
    php_int,
    split_operator,
    to_date,
)
from b24kit.emulator.store import Store

CLOCK = Clock(timezone(timedelta(hours=3)))
KINDS = {"ID": "int", "AMOUNT": "int", "TITLE": "str", "CLOSEDATE": "date", "OPENED": "flag", "TAGS": "int"}
OPERATORS = ["", "=", "!", "!=", ">", ">=", "<", "<=", "@", "!@", "%", "!%", "=%", "%=", "!=%", "!%="]


def resolve(name: str) -> FieldRef | None:
    kind = KINDS.get(name)
    return None if kind is None else FieldRef(name, kind)


def table_of(rows: list[dict[str, Any]]) -> Any:
    table = Store().table("rows")
    for row in rows:
        row_id = table.insert(row)
        row["ID"] = row_id
        table.save(row_id, row)
    return table


# -- a reference implementation of the documented operators, written independently -------------
def _ref_norm(kind: str, value: Any) -> Any:
    if kind == "int":
        match = re.match(r"\s*[+-]?\d+", str(value))
        return int(match.group()) if match else 0
    if kind == "date":
        return str(value)[:10]
    if kind == "flag":
        return "Y" if str(value).upper() in ("Y", "1", "TRUE") else "N"
    return str(value).lower()


def _ref_like(op: str, text: str, pattern: str) -> bool:
    if op in ("%", "!%"):
        return pattern.lower() in text
    translated = "".join("*" if c == "%" else "?" if c == "_" else f"[{c}]" for c in pattern.lower())
    return fnmatch.fnmatchcase(text, translated)


def reference(row: dict[str, Any], name: str, op: str, value: Any) -> bool:
    kind = KINDS[name]
    raw = row.get(name)
    stored = (
        [] if raw in (None, "") else [_ref_norm(kind, v) for v in (raw if isinstance(raw, list) else [raw])]
    )
    values = value if isinstance(value, list) else [value]
    wanted = [_ref_norm(kind, v) for v in values if v not in (None, "")]
    negate = op.startswith("!")
    base = op.lstrip("!")
    if base in ("", "=", "@"):
        if not isinstance(value, list) and value in (None, ""):
            hit = not stored
        else:
            hit = any(s in wanted for s in stored)
    elif base in (">", ">=", "<", "<="):
        target = wanted[0] if wanted else None
        compare = {
            ">": lambda a, b: a > b,
            ">=": lambda a, b: a >= b,
            "<": lambda a, b: a < b,
            "<=": lambda a, b: a <= b,
        }
        hit = target is not None and any(compare[base](s, target) for s in stored)
    else:
        hit = any(_ref_like(op, str(s).lower(), str(v)) for s in stored for v in values if v is not None)
    return hit != negate


words = st.text(alphabet="abAB%_ ", max_size=4)
row_strategy = st.fixed_dictionaries(
    {
        "AMOUNT": st.one_of(st.none(), st.integers(-3, 3)),
        "TITLE": st.one_of(st.none(), words),
        "CLOSEDATE": st.one_of(st.none(), st.dates(date(2024, 1, 1), date(2024, 1, 5)).map(date.isoformat)),
        "OPENED": st.sampled_from(["Y", "N"]),
        "TAGS": st.lists(st.integers(0, 3), max_size=3),
    }
)


def _value_for(name: str) -> st.SearchStrategy[Any]:
    if name == "AMOUNT" or name == "TAGS":
        return st.one_of(st.integers(-3, 3), st.integers(-3, 3).map(str), st.just(""))
    if name == "TITLE":
        return st.one_of(words, st.just(""))
    if name == "CLOSEDATE":
        return st.dates(date(2024, 1, 1), date(2024, 1, 5)).map(date.isoformat)
    return st.sampled_from(["Y", "N", "1", "0"])


@st.composite
def conditions(draw: st.DrawFn) -> tuple[str, str, Any]:
    name = draw(st.sampled_from(["AMOUNT", "TITLE", "CLOSEDATE", "OPENED", "TAGS"]))
    op = draw(st.sampled_from(OPERATORS))
    if name == "TITLE" or op not in ("%", "!%", "=%", "%=", "!=%", "!%="):
        value = draw(st.lists(_value_for(name), max_size=3)) if op in ("@", "!@") else draw(_value_for(name))
    else:
        value = draw(_value_for(name))
    if op in ("", "=", "!", "!=") and draw(st.booleans()):
        value = draw(st.lists(_value_for(name), max_size=3))  # an array value means IN
    return name, op, value


@settings(max_examples=400, deadline=None)
@given(rows=st.lists(row_strategy, max_size=12), condition=conditions())
def test_filter_operators_match_the_reference(
    rows: list[dict[str, Any]], condition: tuple[str, str, Any]
) -> None:
    name, op, value = condition
    table = table_of(rows)
    query = compile_query({f"{op}{name}": value}, {}, resolve, CLOCK)
    got = [r["ID"] for r in table if query.matches(r)]
    expected = [r["ID"] for r in table if reference(r, name, op, value)]
    assert got == expected


@settings(max_examples=150, deadline=None)
@given(
    rows=st.lists(row_strategy, max_size=180),
    condition=st.one_of(st.none(), conditions()),
    order=st.sampled_from(
        [{}, {"ID": "ASC"}, {"ID": "DESC"}, {"TITLE": "ASC"}, {"AMOUNT": "DESC", "TITLE": "ASC"}]
    ),
)
def test_pages_cover_every_matching_row_exactly_once(
    rows: list[dict[str, Any]], condition: tuple[str, str, Any] | None, order: dict[str, str]
) -> None:
    table = table_of(rows)
    filter_ = {} if condition is None else {f"{condition[1]}{condition[0]}": condition[2]}
    query = compile_query(filter_, order, resolve, CLOCK)
    expected = {r["ID"] for r in table if query.matches(r)}
    seen: list[int] = []
    start: int | None = 0
    cache = QueryCache()
    while start is not None:
        page = paginate(table, query, start, cache)
        assert page.total == len(expected)
        assert len(page.rows) <= PAGE_SIZE
        seen += [r["ID"] for r in page.rows]
        assert (page.next is not None) == (len(seen) < len(expected))
        start = page.next
    assert sorted(seen) == sorted(expected)
    assert len(seen) == len(set(seen))


@settings(max_examples=100, deadline=None)
@given(
    rows=st.lists(row_strategy, max_size=160),
    descending=st.booleans(),
    condition=st.one_of(st.none(), conditions()),
)
def test_id_window_scan_returns_every_row_in_id_order(
    rows: list[dict[str, Any]], descending: bool, condition: tuple[str, str, Any] | None
) -> None:
    """The documented full scan: ``order ID``, ``>ID`` (or ``<ID``) of the last row, ``start=-1``."""
    table = table_of(rows)
    base = {} if condition is None else {f"{condition[1]}{condition[0]}": condition[2]}
    expected = sorted(
        (r["ID"] for r in table if compile_query(base, {}, resolve, CLOCK).matches(r)), reverse=descending
    )
    seen: list[int] = []
    edge: int | None = None
    while True:
        window = dict(base)
        if edge is not None:
            window["<ID" if descending else ">ID"] = edge
        query = compile_query(window, {"ID": "DESC" if descending else "ASC"}, resolve, CLOCK)
        page = paginate(table, query, -1, QueryCache())
        assert (page.total, page.next) == (0, None)
        seen += [r["ID"] for r in page.rows]
        if len(page.rows) < PAGE_SIZE:
            break
        edge = page.rows[-1]["ID"]
    assert seen == expected


def test_operators_are_recognised_longest_first() -> None:
    assert split_operator("!=%TITLE") == ("!=%", "TITLE")
    assert split_operator("!%=TITLE") == ("!%=", "TITLE")
    assert split_operator(">=ID") == (">=", "ID")
    assert split_operator("!@ID") == ("!@", "ID")
    assert split_operator("TITLE") == ("", "TITLE")


def test_unresolved_batch_reference_reads_as_zero() -> None:
    assert php_int("$result[c0][49][ID]") == 0
    assert php_int(" 42abc") == 42


def test_start_is_floored_to_a_page_and_negative_means_no_count() -> None:
    assert [page_start(v) for v in (None, "", 0, 49, 50, "120", -1, "-1", -7)] == [
        0,
        0,
        0,
        0,
        50,
        100,
        -1,
        -1,
        -1,
    ]


def test_dates_compare_as_dates_in_any_accepted_format() -> None:
    table = table_of([{"CLOSEDATE": "2024-05-01"}, {"CLOSEDATE": "2024-05-02"}])
    for value in ("2024-05-02", "2024-05-02T03:00:00+03:00", "2024-05-02 00:00:00", "02.05.2024"):
        query = compile_query({">=CLOSEDATE": value}, {}, resolve, CLOCK)
        assert [r["ID"] for r in table if query.matches(r)] == [2], value


@pytest.mark.parametrize("hours", [-11, -5, 0, 3, 5.5, 14])
def test_date_rendering_round_trips_through_any_portal_offset(hours: float) -> None:
    clock = Clock(timezone(timedelta(hours=hours)))
    for day in ("2024-01-01", "2024-02-29", "2024-12-31"):
        rendered = render_date(day, clock)
        assert rendered.endswith(clock.iso()[19:])
        assert datetime.fromisoformat(rendered).astimezone(UTC).strftime("%Y-%m-%d %H:%M") == f"{day} 00:00"
        assert to_date(clock, rendered) == day


def test_strict_queries_refuse_unknown_fields_and_directions() -> None:
    with pytest.raises(RestError) as bad_filter:
        compile_query({"%NOPE": "x"}, {}, resolve, CLOCK, strict=True)
    assert bad_filter.value.body() == {
        "error": "INVALID_ARG_VALUE",
        "error_description": "Invalid filter: field 'NOPE' is not allowed in filter",
    }
    with pytest.raises(RestError) as bad_order:
        compile_query({}, {"NOPE": "ASC"}, resolve, CLOCK, strict=True)
    assert bad_order.value.description == "Invalid order: field 'NOPE' is not allowed in order"
    with pytest.raises(RestError) as bad_direction:
        compile_query({}, {"ID": "UP"}, resolve, CLOCK, strict=True)
    assert bad_direction.value.description == (
        "Invalid order: allowed sort directions are ASC, DESC. But got 'UP' for field 'ID'"
    )
    assert compile_query({"NOPE": 1}, {"NOPE": "ASC"}, resolve, CLOCK).conditions == []


def test_nested_or_groups_and_top_level_logic() -> None:
    table = table_of([{"TITLE": "a", "AMOUNT": 1}, {"TITLE": "b", "AMOUNT": 2}, {"TITLE": "c", "AMOUNT": 3}])
    nested = {"0": {"logic": "OR", "0": {"TITLE": "a"}, "1": {">AMOUNT": 2}}}
    query = compile_query(nested, {}, resolve, CLOCK, groups=True)
    assert [r["ID"] for r in table if query.matches(r)] == [1, 3]
    top = {"logic": "OR", "TITLE": "b", "AMOUNT": 3}
    query = compile_query(top, {}, resolve, CLOCK, groups=True)
    assert [r["ID"] for r in table if query.matches(r)] == [2, 3]
    legacy = compile_query(nested, {}, resolve, CLOCK)  # legacy lists have no logic: ignored
    assert [r["ID"] for r in table if legacy.matches(r)] == [1, 2, 3]


def test_multifield_filters_are_exact_matches() -> None:
    table = table_of([{"PHONE": [{"VALUE": "+7 999 111", "VALUE_TYPE": "WORK"}]}, {"PHONE": []}])

    def by_phone(name: str) -> FieldRef | None:
        return FieldRef("PHONE", "multifield", exact=True) if name == "PHONE" else None

    for filter_, expected in (
        ({"PHONE": "+7 999 111"}, [1]),
        ({"%PHONE": "999"}, []),
        ({"PHONE": "+7 999"}, []),
        ({"!PHONE": "+7 999 111"}, [2]),
    ):
        query = compile_query(filter_, {}, by_phone, CLOCK)
        assert [r["ID"] for r in table if query.matches(r)] == expected, filter_
