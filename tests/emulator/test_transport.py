"""The REST transport over real HTTP: URL shapes, auth, encodings, envelope and error statuses."""

from __future__ import annotations

import base64
import re
import ssl
from typing import Any

import httpx
import pytest

from tests.emulator.cli_server import serve

NOT_FOUND = {"error": "", "error_description": "Not found"}
METHOD_NOT_FOUND = {"error": "ERROR_METHOD_NOT_FOUND", "error_description": "Method not found!"}
NO_AUTH = {"error": "NO_AUTH_FOUND", "error_description": "Wrong authorization data"}
TIME_KEYS = {
    "start",
    "finish",
    "duration",
    "processing",
    "date_start",
    "date_finish",
    "operating_reset_at",
    "operating",
}


def add_deals(emulator, count: int, **fields) -> list[int]:
    return [
        emulator.portal.call("crm.deal.add", {"fields": {"TITLE": f"Deal {i}", **fields}})
        for i in range(1, count + 1)
    ]


def last_call(emulator, method: str) -> Any:
    calls = emulator.admin(f"calls?method={method}")
    assert calls, f"no {method} in the call log"
    return calls[-1]["params"]


# -- URL shapes -------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", ["", ".json", "/", ".json/"])
def test_webhook_url_takes_method_with_or_without_json_suffix_and_trailing_slash(b24_emulator, suffix):
    response = b24_emulator.http.post(f"{b24_emulator.webhook_url}profile{suffix}", json={})
    assert response.status_code == 200
    assert response.json()["result"]["ID"] == "1"


@pytest.mark.parametrize("name", ["PROFILE", "Profile", "crm.deal.List", "CRM.DEAL.LIST.JSON"])
def test_method_names_are_case_insensitive(b24_emulator, name):
    response = b24_emulator.http.post(f"{b24_emulator.webhook_url}{name}", json={})
    assert response.status_code == 200
    assert "result" in response.json()


def test_phpsdk_style_trailing_slash_with_request_id_is_accepted_and_stripped(b24_emulator):
    url = f"{b24_emulator.webhook_url}profile/?bx24_request_id=0190f0e4-5b7a-7c1d"
    response = b24_emulator.http.post(url, json={})
    assert response.status_code == 200
    assert "bx24_request_id" not in last_call(b24_emulator, "profile")


@pytest.mark.parametrize("path", ["/rest/1/profile", "/rest/", "/rest", "/rest/1/secret/", "/rest/a/b/c/d"])
def test_malformed_rest_paths_answer_method_not_found(b24_emulator, path):
    response = b24_emulator.http.post(path, json={})
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/json")
    assert response.json() == METHOD_NOT_FOUND


# -- auth -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/rest/1/wrong/profile", "/rest/7/secret/profile", "/rest/x/secret/profile"]
)
def test_wrong_webhook_credentials_are_401_no_auth_found(b24_emulator, path):
    response = b24_emulator.http.post(path, json={})
    assert response.status_code == 401
    assert response.json() == NO_AUTH


@pytest.fixture
def app_token(b24_emulator) -> str:
    installed = b24_emulator.admin("apps", {"client_id": "local.test", "client_secret": "s3cret"})
    return str(installed["access_token"])


@pytest.mark.parametrize("suffix", ["", ".json", "/"])
def test_oauth_token_in_the_query_string(b24_emulator, app_token, suffix):
    response = b24_emulator.http.get(f"/rest/profile{suffix}", params={"auth": app_token})
    assert response.status_code == 200
    assert response.json()["result"]["ID"] == "1"


def test_oauth_token_in_a_form_body(b24_emulator, app_token):
    response = b24_emulator.http.post("/rest/crm.deal.add", data={"auth": app_token, "fields[TITLE]": "Form"})
    assert response.status_code == 200
    assert b24_emulator.portal.table("crm_deal").get(response.json()["result"])["TITLE"] == "Form"
    assert "auth" not in last_call(b24_emulator, "crm.deal.add")


def test_oauth_token_in_a_json_body_is_stripped_from_the_parameters(b24_emulator, app_token):
    response = b24_emulator.http.post(
        "/rest/crm.deal.add.json", json={"auth": app_token, "fields": {"TITLE": "J"}}
    )
    assert response.status_code == 200
    params = last_call(b24_emulator, "crm.deal.add")
    assert params == {"fields": {"TITLE": "J"}}


def test_oauth_without_a_token_is_401_and_with_an_unknown_token_is_401(b24_emulator):
    missing = b24_emulator.http.post("/rest/profile", json={})
    assert (missing.status_code, missing.json()) == (401, NO_AUTH)
    unknown = b24_emulator.http.post("/rest/profile", json={"auth": "not-a-token"})
    assert unknown.status_code == 401
    assert unknown.json()["error"] == "invalid_token"


def test_an_expired_access_token_is_401_expired_token(b24_emulator, app_token):
    b24_emulator.admin("clock", {"advance_seconds": 3601})
    response = b24_emulator.http.post("/rest/profile", json={"auth": app_token})
    assert response.status_code == 401
    assert response.json()["error"] == "expired_token"


# -- encodings --------------------------------------------------------------------------------


def test_get_with_a_query_string(b24_emulator):
    ids = add_deals(b24_emulator, 3)
    response = b24_emulator.http.get(f"{b24_emulator.webhook_url}crm.deal.get.json", params={"id": ids[1]})
    assert response.status_code == 200
    assert response.json()["result"]["TITLE"] == "Deal 2"


def test_form_body_with_php_nested_keys_writes_the_record(b24_emulator):
    form = {
        "fields[TITLE]": "Form deal",
        "fields[OPPORTUNITY]": "1500.50",
        "fields[CONTACT_IDS][]": ["3", "4"],
    }
    response = b24_emulator.http.post(f"{b24_emulator.webhook_url}crm.deal.add", data=form)
    assert response.status_code == 200
    row = b24_emulator.portal.table("crm_deal").get(response.json()["result"])
    assert row["TITLE"] == "Form deal"
    assert row["OPPORTUNITY"] == 1500.5
    assert last_call(b24_emulator, "crm.deal.add")["fields"]["CONTACT_IDS"] == ["3", "4"]


@pytest.mark.parametrize(
    "query",
    [
        "filter[>ID]=5&select[]=ID&select[]=TITLE&order[ID]=DESC",
        "filter%5B%3EID%5D=5&select%5B0%5D=ID&select%5B1%5D=TITLE&order%5BID%5D=DESC",
        "FILTER[>ID]=5&SELECT[0]=ID&SELECT[1]=TITLE&ORDER[ID]=desc",
    ],
)
def test_form_encoded_list_filter_select_and_order(b24_emulator, query):
    add_deals(b24_emulator, 8)
    response = b24_emulator.http.post(
        f"{b24_emulator.webhook_url}crm.deal.list",
        content=query,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    body = response.json()
    assert response.status_code == 200
    assert body["result"] == [{"ID": str(i), "TITLE": f"Deal {i}"} for i in (8, 7, 6)]
    assert body["total"] == 3


def test_multipart_body_with_fields_and_a_file(b24_emulator):
    response = b24_emulator.http.post(
        f"{b24_emulator.webhook_url}crm.deal.add",
        data={"fields[TITLE]": "Multipart", "fields[COMMENTS]": "Привет"},
        files={"fields[UF_FILE]": ("report.txt", b"\x00\x01binary", "application/octet-stream")},
    )
    assert response.status_code == 200
    row = b24_emulator.portal.table("crm_deal").get(response.json()["result"])
    assert (row["TITLE"], row["COMMENTS"]) == ("Multipart", "Привет")
    uploaded = last_call(b24_emulator, "crm.deal.add")["fields"]["UF_FILE"]
    assert uploaded == ["report.txt", base64.b64encode(b"\x00\x01binary").decode()]


def test_query_string_is_merged_with_the_body_and_the_body_wins(b24_emulator):
    ids = add_deals(b24_emulator, 4)
    url = f"{b24_emulator.webhook_url}crm.deal.list?select[]=ID&filter[>ID]=1"
    response = b24_emulator.http.post(url, json={"filter": {">ID": ids[1]}})
    assert [row["ID"] for row in response.json()["result"]] == [str(ids[2]), str(ids[3])]
    assert set(response.json()["result"][0]) == {"ID"}
    got = b24_emulator.http.post(f"{b24_emulator.webhook_url}crm.deal.get?id={ids[0]}", data={"id": ids[3]})
    assert got.json()["result"]["ID"] == str(ids[3])


def test_json_body_without_content_type_is_still_read_as_json(b24_emulator):
    response = b24_emulator.http.post(
        f"{b24_emulator.webhook_url}crm.deal.add",
        content=b'{"fields": {"TITLE": "sniffed"}}',
        headers={"Content-Type": "text/plain"},
    )
    assert response.status_code == 200
    assert b24_emulator.portal.table("crm_deal").get(response.json()["result"])["TITLE"] == "sniffed"


def test_positional_parameters_keep_numeric_top_level_keys(b24_emulator):
    b24_emulator.http.post(
        f"{b24_emulator.webhook_url}profile",
        content="0=123&1[POST_MESSAGE]=text",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert last_call(b24_emulator, "profile") == {"0": "123", "1": {"POST_MESSAGE": "text"}}


# -- envelope ---------------------------------------------------------------------------------


def test_single_result_envelope_is_result_and_time_only(b24_emulator):
    response = b24_emulator.http.post(f"{b24_emulator.webhook_url}profile", json={})
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    body = response.json()
    assert list(body) == ["result", "time"]
    assert set(body["time"]) == TIME_KEYS
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+03:00", body["time"]["date_start"])
    assert isinstance(body["time"]["operating_reset_at"], int)
    assert body["time"]["finish"] >= body["time"]["start"]


def test_list_envelope_has_total_and_next_until_the_last_page(b24_emulator):
    add_deals(b24_emulator, 120)
    url = f"{b24_emulator.webhook_url}crm.deal.list"
    pages = [b24_emulator.http.post(url, json={"select": ["ID"], "start": s}).json() for s in (0, 50, 100)]
    assert [list(p) for p in pages] == [["result", "total", "next", "time"]] * 2 + [
        ["result", "total", "time"]
    ]
    assert [(p["total"], p.get("next"), len(p["result"])) for p in pages] == [
        (120, 50, 50),
        (120, 100, 50),
        (120, None, 20),
    ]


def test_start_minus_one_answers_total_zero_and_no_next(b24_emulator):
    add_deals(b24_emulator, 60)
    body = b24_emulator.rest("crm.deal.list", {"select": ["ID"], "start": -1, "order": {"ID": "ASC"}})
    assert body["total"] == 0
    assert "next" not in body
    assert [row["ID"] for row in body["result"]] == [str(i) for i in range(1, 51)]


def test_error_bodies_carry_no_result_and_no_time(b24_emulator):
    response = b24_emulator.http.post(f"{b24_emulator.webhook_url}crm.deal.get", json={"id": 999})
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/json")
    assert response.json() == NOT_FOUND


def test_unknown_method_is_404(b24_emulator):
    response = b24_emulator.http.get(f"{b24_emulator.webhook_url}crm.no.such.json")
    assert (response.status_code, response.json()) == (404, METHOD_NOT_FOUND)


# -- TLS --------------------------------------------------------------------------------------


def test_serve_with_tls_prints_the_certificate_and_answers_https():
    with serve("--tls") as served:
        assert served.webhook_url.startswith("https://127.0.0.1:")
        assert served.cert is not None
        assert served.cert.read_text().startswith("-----BEGIN CERTIFICATE-----")
        with httpx.Client(verify=ssl.create_default_context(cafile=served.cert)) as client:
            response = client.post(f"{served.webhook_url}profile.json", json={})
        assert response.status_code == 200
        assert response.json()["result"]["ID"] == "1"
        with pytest.raises(httpx.ConnectError), httpx.Client() as untrusting:
            untrusting.post(f"{served.webhook_url}profile.json", json={})
