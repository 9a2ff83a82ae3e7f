"""Reading a payment schedule: text lines and separate fields, amounts and dates, bad input."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from b24kit.automation import PropertySpec
from b24kit.errors import RobotError
from b24kit.robots.numbers import parse_number
from b24kit.robots.properties import problems
from b24kit.rules.payment_schedule import read_payments
from b24kit.rules.schedule_input import (
    Payment,
    ScheduleError,
    format_text,
    parse_amount,
    parse_date,
    parse_fields,
    parse_text,
)

cents = st.integers(min_value=1, max_value=10**11).map(lambda c: Decimal(c) / 100)


@st.composite
def schedules(draw: st.DrawFn) -> list[Payment]:
    start = draw(st.dates(min_value=date(2020, 1, 1), max_value=date(2090, 1, 1)))
    gaps = draw(st.lists(st.integers(min_value=1, max_value=400), min_size=1, max_size=15))
    out, due = [], start
    for number, gap in enumerate(gaps, start=1):
        due += timedelta(days=gap)
        out.append(Payment(number, due, draw(cents)))
    return out


def _styled(amount: Decimal, style: str) -> str:
    plain = f"{amount:,.2f}"
    if style == "space-comma":
        return plain.replace(",", " ").replace(".", ",")
    if style == "nbsp-comma":
        return plain.replace(",", "\u00a0").replace(".", ",")
    if style == "dot-comma":
        return plain.replace(",", "_").replace(".", ",").replace("_", ".")
    if style == "apostrophe":
        return plain.replace(",", "'")
    if style == "plain":
        return f"{amount:.2f}"
    if style == "short":
        return f"{amount.normalize():f}"
    return plain  # comma-dot


@given(schedules(), st.sampled_from(["iso", "ru"]))
def test_text_form_round_trips(payments, style):
    assert parse_text(format_text(payments, style=style)) == payments


@given(
    cents,
    st.sampled_from(["space-comma", "nbsp-comma", "dot-comma", "apostrophe", "plain", "short", "comma-dot"]),
)
def test_amount_styles_round_trip(amount, style):
    assert parse_amount(_styled(amount, style)) == amount


@given(
    cents,
    st.sampled_from(["space-comma", "nbsp-comma", "dot-comma", "apostrophe", "plain", "short", "comma-dot"]),
)
def test_a_double_robot_property_accepts_every_amount_the_schedule_reads(amount, style):
    assert problems({"sum": _styled(amount, style)}, {"sum": PropertySpec("double")}) == []
    assert parse_number(_styled(amount, style)) == amount
    assert parse_number("-" + _styled(amount, style)) == -amount


@given(schedules(), st.sampled_from(["; ", ", ", "\t", "   ", ";", ","]))
def test_any_separator_between_date_and_amount(payments, sep):
    text = "\n".join(f"{p.due:%d.%m.%Y}{sep}{_styled(p.amount, 'space-comma')}" for p in payments)
    assert parse_text(text) == payments


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("50000", "50000"),
        ("50 000,00", "50000.00"),
        ("50,000.50", "50000.50"),
        ("50.000,5", "50000.5"),
        ("50,000", "50000"),
        ("1'234'567.89", "1234567.89"),
        ("  7,5 ", "7.5"),
        ("0.01", "0.01"),
    ],
)
def test_amounts(raw, expected):
    assert parse_amount(raw) == Decimal(expected)


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("1,234.567", "mixes"),
        ("1,234,5", "mixes"),
        ("1.234,567.00", "mixes"),
        ("5 0000", "groups"),
        ("50000,000", "groups"),
        ("abc", "not an amount"),
        ("-500", "not an amount"),
        ("50000 руб.", "not an amount"),
        ("", "not an amount"),
    ],
)
def test_bad_amounts_say_why(raw, reason):
    with pytest.raises(ValueError, match=reason):
        parse_amount(raw)


def test_dates():
    assert parse_date("2026-12-01") == date(2026, 12, 1)
    assert parse_date("1.2.2027") == date(2027, 2, 1)
    assert parse_date("2026-12-01T00:00:00+03:00", allow_time=True) == date(2026, 12, 1)
    assert parse_date("01.12.2026 10:30:00", allow_time=True) == date(2026, 12, 1)
    with pytest.raises(ValueError, match="not a calendar date"):
        parse_date("2026-02-30")
    with pytest.raises(ValueError, match="not a date"):
        parse_date("12/01/2026")
    with pytest.raises(ValueError, match="not a date"):
        parse_date("2026-12-01T00:00:00")  # a time only where the form allows it


def test_comments_and_blank_lines_are_skipped():
    text = "# first payment\n\n2026-12-01 50000\n   \n2027-01-01;50 000,00\n"
    assert parse_text(text) == [
        Payment(1, date(2026, 12, 1), Decimal(50000)),
        Payment(2, date(2027, 1, 1), Decimal(50000)),
    ]


def test_bad_lines_are_reported_by_number():
    text = "2026-12-01 50000\n\n2026-13-01 100\n2027-01-01 five\nhello\n"
    with pytest.raises(ScheduleError) as caught:
        parse_text(text)
    message = str(caught.value)
    assert "line 3: '2026-13-01' is not a calendar date" in message
    assert "line 4: 'five' is not an amount" in message
    assert "line 5: 'hello' is not 'DATE AMOUNT'" in message
    assert "line 1" not in message
    assert isinstance(caught.value, RobotError)


def test_separate_fields():
    payments = parse_fields("2", {"1": "01.01.2027", "0": "2026-12-01T00:00:00+03:00"}, [50000, "49 999,99"])
    assert payments == [
        Payment(1, date(2026, 12, 1), Decimal(50000)),
        Payment(2, date(2027, 1, 1), Decimal("49999.99")),
    ]
    assert parse_fields(None, "2026-12-01", "100") == [Payment(1, date(2026, 12, 1), Decimal(100))]


@pytest.mark.parametrize(
    ("count", "dates", "amounts", "reason"),
    [
        (3, ["2026-12-01", "2027-01-01"], [1, 2], "count is 3, but 2 dates and 2 amounts"),
        (None, ["2026-12-01", "2027-01-01"], [1], "2 dates but 1 amounts"),
        ("two", ["2026-12-01"], [1], "count 'two' is not a whole number"),
        (0, [], [], "count is 0"),
        (1, ["tomorrow"], [1], "payment 1: 'tomorrow' is not a date"),
        (1, ["2026-12-01"], ["lots"], "payment 1: 'lots' is not an amount"),
    ],
)
def test_bad_fields_say_why(count, dates, amounts, reason):
    with pytest.raises(ScheduleError, match=reason):
        parse_fields(count, dates, amounts)


def test_robot_properties_pick_one_form():
    text = read_payments({"schedule": "2026-12-01 100", "count": "", "dates": [], "amounts": []})
    fields = read_payments({"schedule": "", "count": 1, "dates": ["2026-12-01"], "amounts": ["100"]})
    assert text == fields == [Payment(1, date(2026, 12, 1), Decimal(100))]
    with pytest.raises(ScheduleError, match="not both"):
        read_payments({"schedule": "2026-12-01 100", "count": 1, "dates": ["2026-12-01"], "amounts": [100]})
    with pytest.raises(ScheduleError, match="no schedule"):
        read_payments({"schedule": "  \n", "dates": {}})
