"""Robot properties: checked before the handler runs; rendered as bizproc.robot.add wants them."""

from __future__ import annotations

import pytest

from b24kit.automation import PropertySpec
from b24kit.robots.properties import problems, render

SPECS = {
    "count": PropertySpec("int", name={"ru": "Количество", "en": "Count"}, required=True),
    "amount": PropertySpec("double", name="Amount"),
    "flag": PropertySpec("bool", name="Flag"),
    "kind": PropertySpec("select", name="Kind", options={"a": "A", "b": "B"}, default="a"),
    "due": PropertySpec("date", name="Due"),
    "users": PropertySpec("user", name="Users", multiple=True),
    "note": PropertySpec("text", name="Note"),
}


def test_valid_values_have_no_problems():
    values = {
        "count": "3",
        "amount": "1 500,50",
        "flag": "Y",
        "kind": "b",
        "due": "2026-12-01",
        "users": ["user_1", "user_2"],
    }
    assert problems(values, SPECS) == []
    assert problems({"count": "-2", "due": "01.12.2026"}, SPECS) == []


def test_each_problem_names_the_property_by_label_and_code():
    found = problems(
        {"amount": "lots", "flag": "maybe", "kind": "z", "due": "tomorrow", "note": ["a", "b"]}, SPECS
    )
    assert found == [
        "Count (count) is required",
        "Amount (amount): 'lots' is not a number; write it as 50000.00, 50 000,00 or 50,000.00",
        "Flag (flag): 'maybe' is not Y or N",
        "Kind (kind): 'z' is not one of a, b",
        "Due (due): 'tomorrow' is not a date",
        "Note (note) takes one value, got 2",
    ]
    assert problems({"count": "2.5"}, SPECS) == ["Count (count): '2.5' is not a whole number"]


@pytest.mark.parametrize(
    "amount",
    [
        "50,000.00",
        "50 000,00",
        "50\u00a0000,00",
        "50.000,5",
        "1'234'567.89",
        "50,000",
        "50000",
        "7,5",
        "-1 500,50",
        "+12",
        "0.1234",
        "-0.125",
        "1.5E-5",
    ],
)
def test_a_double_accepts_what_the_payment_schedule_reads(amount):
    assert problems({"count": "1", "amount": amount}, SPECS) == []


@pytest.mark.parametrize(
    ("amount", "why"),
    [
        ("50,000,00", "'50,000,00' mixes separators; write it as 50000.00 or 50 000,00"),
        ("1.234,567.00", "'1.234,567.00' mixes separators; write it as 50000.00 or 50 000,00"),
        ("5 0000", "'5 0000' groups digits wrongly; groups of three are expected"),
        ("12 apples", "'12 apples' is not a number; write it as 50000.00, 50 000,00 or 50,000.00"),
        ("1_000", "'1_000' is not a number; write it as 50000.00, 50 000,00 or 50,000.00"),
        ("inf", "'inf' is not a number; write it as 50000.00, 50 000,00 or 50,000.00"),
        ("nan", "'nan' is not a number; write it as 50000.00, 50 000,00 or 50,000.00"),
        ("- 5", "'- 5' is not a number; write it as 50000.00, 50 000,00 or 50,000.00"),
        ("--5", "'--5' is not a number; write it as 50000.00, 50 000,00 or 50,000.00"),
    ],
)
def test_a_double_refuses_garbage_saying_why(amount, why):
    assert problems({"count": "1", "amount": amount}, SPECS) == [f"Amount (amount): {why}"]


def test_render_is_the_documented_property_object():
    rendered = render(SPECS)
    assert rendered["count"] == {
        "Name": {"ru": "Количество", "en": "Count"},
        "Type": "int",
        "Required": "Y",
        "Multiple": "N",
    }
    assert rendered["kind"] == {
        "Name": "Kind",
        "Type": "select",
        "Required": "N",
        "Multiple": "N",
        "Default": "a",
        "Options": {"a": "A", "b": "B"},
    }
    assert rendered["users"]["Multiple"] == "Y"
