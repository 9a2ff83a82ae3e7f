"""Bad input over HTTP never yields a 5xx or a non-JSON answer: named cases plus a hypothesis fuzz."""

from __future__ import annotations

import json
import logging
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from b24kit.emulator.registry import METHODS

MB = 1024 * 1024


def check(response) -> dict[str, Any]:
    """The invariant: below 500, JSON content type, a JSON object with ``result`` or ``error``."""
    assert response.status_code < 500, response.text[:500]
    assert response.headers["content-type"].startswith("application/json"), response.text[:200]
    body = response.json()
    assert isinstance(body, dict)
    assert "result" in body or "error" in body
    if "error" in body:
        assert set(body) >= {"error", "error_description"}
        assert "result" not in body
    return body


def post(emulator, method: str, content: bytes | str, ctype: str = "application/json"):
    return emulator.http.post(
        f"{emulator.webhook_url}{method}", content=content, headers={"Content-Type": ctype}
    )


# -- named bad inputs -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content",
    [b"{bad", b"[1, 2]", b"null", b'"text"', b"123", b'{"a": "\xff\xfe"}', b'{"a": "\x00"}', b"{" * 5000],
)
def test_malformed_or_non_object_json_is_a_400(b24_emulator, content):
    response = post(b24_emulator, "crm.deal.add", content)
    assert response.status_code == 400
    assert check(response)["error"] == "INVALID_REQUEST"


def test_bad_utf8_in_a_form_body_is_a_400(b24_emulator):
    response = post(
        b24_emulator, "crm.deal.add", b"fields[TITLE]=\xff\xfe", "application/x-www-form-urlencoded"
    )
    assert (response.status_code, check(response)["error"]) == (400, "INVALID_REQUEST")


def test_deep_nesting_is_refused(b24_emulator):
    deep_json = '{"a":' * 40 + "1" + "}" * 40
    assert post(b24_emulator, "crm.deal.add", deep_json).status_code == 400
    deep_form = "fields" + "[x]" * 40 + "=1"
    response = post(b24_emulator, "crm.deal.add", deep_form, "application/x-www-form-urlencoded")
    assert (response.status_code, check(response)["error"]) == (400, "INVALID_REQUEST")


def test_a_huge_body_is_a_413_and_the_server_keeps_answering(b24_emulator):
    response = post(
        b24_emulator,
        "crm.deal.add",
        b"fields[TITLE]=" + b"x" * (33 * MB),
        "application/x-www-form-urlencoded",
    )
    assert (response.status_code, check(response)["error"]) == (413, "INVALID_REQUEST")
    assert check(post(b24_emulator, "profile", "{}"))["result"]["ID"] == "1"


def test_a_large_but_allowed_body_is_read(b24_emulator):
    title = "y" * (4 * MB)
    response = post(b24_emulator, "crm.deal.add", json.dumps({"fields": {"TITLE": title}}))
    assert len(b24_emulator.portal.table("crm_deal").get(check(response)["result"])["TITLE"]) == 4 * MB


def test_many_appended_form_keys_are_read_quickly(b24_emulator):
    body = "&".join(f"select[]=F{i}" for i in range(50_000)) + "&filter[>ID]=0"
    response = post(b24_emulator, "crm.deal.list", body, "application/x-www-form-urlencoded")
    assert check(response)["result"] == []


@pytest.mark.parametrize(
    "params",
    [
        {"id": []},
        {"id": {}},
        {"id": "abc"},
        {"id": -5},
        {"id": 10**40},
        {"fields": "x"},
        {"fields": ["x"]},
        {"fields": {"TITLE": {"nested": [1, 2]}}},
        {"filter": "x"},
        {"filter": {">>ID": 1, "%": "x", "": 1, "!@ID": "x", "><ID": [1]}},
        {"filter": {"@ID": {"a": {"b": 1}}}},
        {"order": {"ID": ["x"]}, "select": {"a": 1}},
        {"order": "ID", "select": "*", "start": "abc"},
        {"start": -(10**30)},
        {"filter": {"=%TITLE": "%(.*)+[\\"}},
    ],
)
@pytest.mark.parametrize("method", ["crm.deal.get", "crm.deal.add", "crm.deal.update", "crm.deal.list"])
def test_wrong_types_are_answered_without_a_server_error(b24_emulator, method, params):
    check(b24_emulator.http.post(f"{b24_emulator.webhook_url}{method}", json=params))


def test_keys_that_look_numeric_but_are_not_php_integers(b24_emulator):
    form = "fields[TITLE]=t&fields[PHONE][²][VALUE]=1&fields[PHONE][05][VALUE]=2&fields[PHONE][][VALUE]=3"
    check(post(b24_emulator, "crm.deal.add", form, "application/x-www-form-urlencoded"))
    phones = b24_emulator.admin("calls?method=crm.deal.add")[-1]["params"]["fields"]["PHONE"]
    assert phones == {"²": {"VALUE": "1"}, "05": {"VALUE": "2"}, "0": {"VALUE": "3"}}
    cmd = {"a": "crm.deal.list?select[]=ID", "b": "crm.deal.get?id=$result[a][²][ID]"}
    check(b24_emulator.http.post(f"{b24_emulator.webhook_url}batch", json={"cmd": cmd}))
    assert check(b24_emulator.http.post("/rest/²/secret/profile", json={}))["error"] == "NO_AUTH_FOUND"


def test_oversized_batches_and_hostile_commands(b24_emulator):
    cmd = {f"c{i}": "crm.deal.list?filter[%3E%3EID]=1&select[][]=x&order=DESC" for i in range(120)}
    cmd["nested"] = "batch?cmd[a]=batch"
    cmd["bad"] = "?x=1"
    cmd["odd"] = "crm.deal.get?id=$result[c0][%]&id[]=1"
    body = check(
        b24_emulator.http.post(f"{b24_emulator.webhook_url}batch", json={"cmd": cmd, "halt": "maybe"})
    )
    errors = body["result"]["result_error"]
    assert sum(e["error"] == "ERROR_BATCH_LENGTH_EXCEEDED" for e in errors.values()) == 73


def test_unknown_methods_and_wrong_secrets(b24_emulator):
    assert b24_emulator.http.post(f"{b24_emulator.webhook_url}{'x' * 50}", json={}).status_code == 404
    assert (
        check(b24_emulator.http.post("/rest/1/" + "s" * 5000 + "/profile", json={}))["error"]
        == "NO_AUTH_FOUND"
    )
    assert check(b24_emulator.http.get("/rest/%00/%ff/profile"))["error"] == "NO_AUTH_FOUND"


# -- hypothesis fuzz --------------------------------------------------------------------------

NAMES = [
    *("id", "ID", "fields", "filter", "select", "order", "start", "cmd", "halt", "params"),
    *("entityTypeId", "taskId", "IBLOCK_ID", "ELEMENT_ID", "USER_ID"),
]
FIELDS = ["TITLE", "ID", "STAGE_ID", "OPPORTUNITY", "CONTACT_IDS", "PHONE", "UF_CRM_1", "title", "id"]
OPS = ["", "=", "!", ">", ">=", "<", "<=", "@", "!@", "%", "=%", "!%", "><"]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=30),
    st.sampled_from(
        [
            "$result[a][0][ID]",
            "Y",
            "N",
            "-1",
            "0",
            "²",
            "05",
            "*",
            "UF_*",
            "DESC",
            "2024-05-01T10:00:00+03:00",
        ]
    ),
)
keys = st.one_of(
    st.sampled_from(NAMES + FIELDS),
    st.builds(lambda op, f: op + f, st.sampled_from(OPS), st.sampled_from(FIELDS)),
    st.text(max_size=12),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(keys, inner, max_size=4)),
    max_leaves=12,
)
params = st.dictionaries(st.sampled_from(NAMES), values, max_size=5)
methods = st.one_of(
    st.sampled_from(sorted(METHODS)),
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz.ABC_0123456789", min_size=1, max_size=30),
)


def php_pairs(prefix: str, value: Any) -> list[tuple[str, str]]:
    if isinstance(value, dict):
        return [pair for k, v in value.items() for pair in php_pairs(f"{prefix}[{k}]", v)]
    if isinstance(value, list):
        return [pair for i, v in enumerate(value) for pair in php_pairs(f"{prefix}[{i}]", v)]
    return [(prefix, "" if value is None else str(value))]


def form_encode(data: dict[str, Any]) -> str:
    pairs = [pair for k, v in data.items() for pair in php_pairs(k, v)]
    return "&".join(f"{quote(k, safe='[]')}={quote(v, safe='')}" for k, v in pairs)


def batch_params(draw_cmds: list[tuple[str, dict[str, Any]]]) -> dict[str, Any]:
    return {"halt": 0, "cmd": {f"c{i}": f"{m}?{form_encode(p)}" for i, (m, p) in enumerate(draw_cmds)}}


requests = st.one_of(
    st.tuples(methods, params, st.sampled_from(["json", "form", "get", "multipart"])),
    st.tuples(
        st.just("batch"),
        st.lists(st.tuples(methods, params), max_size=6).map(batch_params),
        st.sampled_from(["json", "form"]),
    ),
)
raw_bodies = st.tuples(
    methods,
    st.binary(max_size=300),
    st.sampled_from(["application/json", "application/x-www-form-urlencoded", "text/plain", ""]),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(request=requests, route=st.sampled_from(["webhook", "oauth", "unknown token", "wrong secret"]))
def test_fuzzed_requests_never_fail_the_server(b24_emulator, caplog, request, route):
    method, data, encoding = request
    url = f"{b24_emulator.webhook_url}{method}"
    if route == "wrong secret":
        url = f"{b24_emulator.base_url}/rest/1/wrong/{method}"
    elif route != "webhook":
        url = f"{b24_emulator.base_url}/rest/{method}"
        token = "no-such-token"
        if route == "oauth":
            token = b24_emulator.admin("apps", {"client_id": "local.fuzz", "client_secret": "s"})[
                "access_token"
            ]
        data = {**data, "auth": token}
    http = b24_emulator.http
    with caplog.at_level(logging.ERROR, logger="b24kit.emulator"):
        if encoding == "json":
            response = http.post(url, content=json.dumps(data), headers={"Content-Type": "application/json"})
        elif encoding == "get":
            response = http.get(f"{url}?{form_encode(data)}")
        elif encoding == "multipart":
            fields = {k: (None, v) for k, v in php_pairs_all(data)}
            response = http.post(url, files=fields or {"x": (None, "")})
        else:
            form = form_encode(data)
            response = http.post(
                url, content=form, headers={"Content-Type": "application/x-www-form-urlencoded"}
            )
        check(response)
    assert not caplog.records


def php_pairs_all(data: dict[str, Any]) -> list[tuple[str, str]]:
    return [pair for k, v in data.items() for pair in php_pairs(k, v)]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=raw_bodies)
def test_fuzzed_raw_bodies_never_fail_the_server(b24_emulator, raw):
    method, content, ctype = raw
    headers = {"Content-Type": ctype} if ctype else {}
    check(b24_emulator.http.post(f"{b24_emulator.webhook_url}{method}", content=content, headers=headers))
