"""The portal's PHP-style form bodies: parse_str semantics, and limits that turn hostile bodies into 400s."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from b24kit.robots.form import FormError, FormLimits, parse_body, parse_form


def test_nested_keys_lists_and_appends_as_php_parses_them():
    body = urlencode(
        [
            ("event", "ONCRMDEALUPDATE"),
            ("data[FIELDS][ID]", "42"),
            ("document_id[0]", "crm"),
            ("document_id[1]", "CCrmDocumentDeal"),
            ("document_id[2]", "DEAL_42"),
            ("properties[users][]", "user_1"),
            ("properties[users][]", "user_2"),
            ("properties[text]", "a&b=c d"),
            ("auth[application_token]", "t"),
        ]
    )
    assert parse_form(body) == {
        "event": "ONCRMDEALUPDATE",
        "data": {"FIELDS": {"ID": "42"}},
        "document_id": ["crm", "CCrmDocumentDeal", "DEAL_42"],
        "properties": {"users": ["user_1", "user_2"], "text": "a&b=c d"},
        "auth": {"application_token": "t"},
    }


def test_json_bodies_are_objects_only():
    assert parse_body(b'{"event": "X"}', "application/json") == {"event": "X"}
    with pytest.raises(FormError, match="JSON object"):
        parse_body(b"[1, 2]", "application/json")
    with pytest.raises(FormError, match="not valid JSON"):
        parse_body(b"{nope", "application/json")


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"", "empty"),
        (b"   ", "empty"),
        (b"\xff\xfe=1", "UTF-8"),
        (b"[x]=1", "starts with a bracket"),
        (b"a[b=1", "unbalanced"),
        (b"a[b]c]=1", "unbalanced"),
        (b"a=1&a[b]=2", "both a value and a map"),
        (b"a[b]=1&a=2", "both a value and a map"),
    ],
)
def test_malformed_bodies_are_refused_with_a_reason(raw, message):
    with pytest.raises(FormError, match=message):
        parse_body(raw, "application/x-www-form-urlencoded")


def test_limits_on_size_fields_and_depth():
    limits = FormLimits(max_bytes=100, max_pairs=3, max_depth=3)
    with pytest.raises(FormError, match="larger than 100 bytes"):
        parse_body(b"a=" + b"x" * 200, "", limits)
    with pytest.raises(FormError, match="more than 3 fields"):
        parse_form("a=1&b=2&c=3&d=4", limits)
    with pytest.raises(FormError, match="deeper than 3"):
        parse_form("a[b][c][d]=1", limits)
    assert parse_form("a[b][c]=1", limits) == {"a": {"b": {"c": "1"}}}


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400))
def test_any_bytes_parse_or_fail_with_form_error_only(raw):
    try:
        result = parse_body(raw, "application/x-www-form-urlencoded")
    except FormError:
        return
    assert isinstance(result, dict)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="ab[]=&%0_", max_size=60))
def test_bracket_soup_parses_or_fails_with_form_error_only(text):
    try:
        parse_form(text)
    except FormError:
        pass
