"""The pure wire format: parameter normalisation and PHP-style batch queries."""

from __future__ import annotations

import enum
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from urllib.parse import parse_qsl

import pytest
from hypothesis import given
from hypothesis import strategies as st

from b24kit.client import build_query, normalize
from b24kit.client._wire import command, envelope, section
from b24kit.emulator.wire import parse_query


class Stage(enum.Enum):
    WON = "WON"


def test_python_values_become_what_bitrix_reads():
    moscow = timezone(timedelta(hours=3))
    assert normalize(
        {
            "flag": True,
            "off": False,
            "none": None,
            "when": datetime(2024, 5, 1, 9, 30, tzinfo=moscow),
            "day": date(2024, 5, 1),
            "amount": Decimal("1000.50"),
            "stage": Stage.WON,
            "ids": (1, 2),
            "nested": {"deep": [True]},
        }
    ) == {
        "flag": "Y",
        "off": "N",
        "none": None,
        "when": "2024-05-01T09:30:00+03:00",
        "day": "2024-05-01",
        "amount": "1000.50",
        "stage": "WON",
        "ids": [1, 2],
        "nested": {"deep": ["Y"]},
    }


def test_a_naive_datetime_gets_the_local_offset():
    text = normalize(datetime(2024, 5, 1, 9, 30))
    assert text.startswith("2024-05-01T09:30:00") and text[19] in "+-"


def test_values_bitrix_cannot_take_are_refused():
    with pytest.raises(TypeError, match="cannot send a object"):
        normalize({"x": object()})


def test_batch_query_encodes_operators_lists_and_empty_values():
    query = build_query(
        {"filter": {">ID": 5, "%TITLE": "a&b c", "@STAGE_ID": ["NEW", "WON"]}, "select": ["ID"], "x": None}
    )
    assert query == (
        "filter[%3EID]=5&filter[%25TITLE]=a%26b%20c&filter[%40STAGE_ID][0]=NEW"
        "&filter[%40STAGE_ID][1]=WON&select[0]=ID&x="
    )
    assert parse_query(query) == {
        "filter": {">ID": "5", "%TITLE": "a&b c", "@STAGE_ID": ["NEW", "WON"]},
        "select": ["ID"],
        "x": "",
    }


def test_booleans_in_a_batch_command_are_y_and_n():
    assert command("crm.deal.update", {"id": 1, "fields": {"OPENED": True, "CLOSED": False}}) == (
        "crm.deal.update?id=1&fields[OPENED]=Y&fields[CLOSED]=N"
    )
    assert command("profile", {}) == "profile"


def test_datetimes_in_a_batch_command_keep_their_offset():
    query = build_query({"filter": {">=DATE_CREATE": datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)}})
    assert dict(parse_qsl(query)) == {"filter[>=DATE_CREATE]": "2024-01-02T03:04:05+00:00"}


def test_envelope_and_php_sections():
    env = envelope({"result": [1], "total": "120", "next": 50, "time": {"operating": 0.1}})
    assert (env.result, env.total, env.next, env.time) == ([1], 120, 50, {"operating": 0.1})
    assert section([]) == {} and section(["a", "b"]) == {"0": "a", "1": "b"} and section(None) == {}


# Keys that start with a letter: digit keys 0..n-1 are a list in PHP, by design.
keys = st.builds(
    lambda head, tail: head + tail,
    st.sampled_from("aBz_>%!@="),
    st.text(alphabet=st.characters(codec="utf-8", exclude_characters="[]"), max_size=8),
)
scalars = st.one_of(st.integers(-(10**9), 10**9), st.text(max_size=12), st.booleans())
trees = st.recursive(
    scalars,
    lambda inner: st.dictionaries(keys, inner, min_size=1, max_size=4),
    max_leaves=12,
)


@given(st.dictionaries(keys, trees, min_size=1, max_size=4))
def test_nested_params_survive_a_php_round_trip(params):
    """What build_query writes, PHP-style parsing (the emulator's) reads back as the same strings."""

    def as_text(value: object) -> object:
        if isinstance(value, dict):
            return {k: as_text(v) for k, v in value.items()}
        return normalize(value) if isinstance(value, bool) else str(value)

    assert parse_query(build_query(params)) == as_text(params)
