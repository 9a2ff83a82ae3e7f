"""The runner's HTTP endpoints: checks on everything inbound, the install, metrics and health."""

from __future__ import annotations

import socket
from pathlib import Path

import httpx
import pytest

from b24kit.jobs.store import JobStore

from .helpers import event_body, in_process, install, post_form, write_config

JOBS = """
version: 1
jobs:
  - name: mark
    action: {rule: test_mark_seen}
  - name: echo
    trigger: {robot: test_echo}
  - name: hooked
    trigger: {webhook: shop, events: [order.paid]}
    action: {hook: "tests.jobs.handlers:record_hook"}
"""
RUNNER = """
max_body_bytes: 4096
debounce_seconds: 30
webhooks:
  shop: {kind: generic, secret: shop-secret}
"""


@pytest.fixture
def served(b24_emulator, tmp_path: Path):
    with in_process(write_config(tmp_path, b24_emulator.base_url, JOBS, RUNNER)) as running:
        yield running


def queued(served) -> int:
    with JobStore(f"sqlite:///{served.settings.source.parent}/runner.db") as store:
        return sum(store.inbox.counts().values())


def test_events_are_refused_until_the_app_is_installed_then_committed_before_the_200(served, b24_emulator):
    before = post_form(
        f"{served.url}/events/emu", b"event=ONCRMDEALUPDATE&data[FIELDS][ID]=1&auth[application_token]=x"
    )
    assert before.status_code == 401 and before.json()["error"] == "bad_token"
    app = install(b24_emulator, served.url)
    accepted = post_form(f"{served.url}/events/emu", event_body(app, "ONCRMDEALUPDATE", 5))
    assert accepted.status_code == 200 and accepted.json() == {"result": "accepted"}
    with JobStore(f"sqlite:///{served.settings.source.parent}/runner.db") as store:
        (row,) = store.inbox.rows()
    assert (row.kind, row.name, row.record_key, row.status) == (
        "event",
        "ONCRMDEALUPDATE",
        "emu:2:5",
        "queued",
    )
    assert row.payload["data"] == {"FIELDS": {"ID": "5"}}
    assert "application_token" not in str(row.payload)  # no credential is stored


@pytest.mark.parametrize(
    ("path", "body", "status", "reason"),
    [
        ("/events/nope", b"event=ONCRMDEALUPDATE", 401, "unknown_portal"),
        ("/events/emu", b"event=ONCRMDEALUPDATE&auth[application_token]=wrong", 401, "bad_token"),
        ("/events/emu", b"event=ONCRMDEALUPDATE", 401, "bad_token"),
        ("/events/emu", b"", 400, "malformed"),
        ("/events/emu", b"data[FIELDS][ID]=1", 400, "malformed"),
        ("/events/emu", b"a[b=1", 400, "malformed"),
        ("/events/emu", b"x=" + b"y" * 5000, 400, "malformed"),
        ("/robots/test_echo?portal=emu", b"code=test_echo&auth[application_token]=wrong", 401, "bad_token"),
        ("/robots/test_echo", b"\xff\xfe", 400, "malformed"),
        ("/webhooks/generic/nope", b"{}", 401, "unknown_webhook"),
        ("/webhooks/jira/shop", b"{}", 401, "unknown_webhook"),
    ],
)
def test_bad_requests_get_401_or_400_and_nothing_is_queued(served, b24_emulator, path, body, status, reason):
    install(b24_emulator, served.url)
    answer = post_form(f"{served.url}{path}", body)
    assert answer.status_code == status, answer.text
    assert answer.json()["error"] == reason
    assert queued(served) == 0
    assert served.metric("b24kit_runner_rejected_total", reason=reason) == 1


def test_a_robot_call_with_a_valid_token_but_a_broken_body_is_refused(served, b24_emulator):
    app = install(b24_emulator, served.url)
    body = f"code=test_echo&event_token=&auth[application_token]={app['application_token']}".encode()
    answer = post_form(f"{served.url}/robots/test_echo?portal=emu", body)
    assert answer.status_code == 400 and "event_token is missing" in answer.json()["error_description"]


def test_events_no_job_watches_are_answered_but_not_stored(served, b24_emulator):
    app = install(b24_emulator, served.url)
    answer = post_form(f"{served.url}/events/emu", event_body(app, "ONCRMLEADADD", 1))
    assert answer.json() == {"result": "ignored"} and queued(served) == 0


def test_an_oversized_body_is_refused_before_it_is_read(served):
    host, port = served.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as conn:
        conn.sendall(
            b"POST /events/emu HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\n\r\nevent=X"
        )
        head = conn.recv(4096).decode()
    assert head.startswith("HTTP/1.1 400") and "larger than 4096 bytes" in head


def test_a_forged_install_is_refused(served, b24_emulator):
    forged = (
        "event=ONAPPINSTALL&auth[access_token]=fake&auth[refresh_token]=fake&auth[application_token]=mine"
        f"&auth[client_endpoint]={b24_emulator.base_url}/rest/&auth[member_id]=m"
    ).encode()
    answer = post_form(f"{served.url}/install/emu", forged)
    assert answer.status_code == 401 and "does not work on the portal" in answer.json()["error_description"]
    elsewhere = forged.replace(b"127.0.0.1", b"127.0.0.2")
    answer = post_form(f"{served.url}/events/emu", elsewhere)
    assert answer.status_code == 401 and "the install comes from" in answer.json()["error_description"]
    assert served.healthz()["installed"] == []


def test_the_install_keeps_tokens_for_the_client_and_the_token_for_checks(served, b24_emulator):
    app = install(b24_emulator, served.url)
    tokens = (served.settings.source.parent / "tokens.json").read_text()
    assert app["access_token"] in tokens and app["refresh_token"] in tokens
    with JobStore(f"sqlite:///{served.settings.source.parent}/runner.db") as store:
        kept = store.installs()["emu"]
    assert (kept.application_token, kept.member_id) == (app["application_token"], app["member_id"])


def test_uninstall_forgets_the_token(served, b24_emulator):
    app = install(b24_emulator, served.url)
    answer = post_form(f"{served.url}/events/emu", event_body(app, "ONAPPUNINSTALL", 0))
    assert answer.json() == {"result": "uninstalled"}
    assert post_form(f"{served.url}/events/emu", event_body(app, "ONCRMDEALUPDATE", 1)).status_code == 401


def test_generic_webhooks_need_their_secret_and_repeats_are_dropped(served, b24_emulator):
    url = f"{served.url}/webhooks/generic/shop"
    body = b'{"event": "order.paid", "order": 7}'
    assert httpx.post(url, content=body, timeout=10).status_code == 401
    assert httpx.post(url, content=body, headers={"X-B24kit-Token": "nope"}, timeout=10).status_code == 401
    first = httpx.post(url, content=body, headers={"X-B24kit-Token": "shop-secret"}, timeout=10)
    again = httpx.post(f"{url}?token=shop-secret", content=body, timeout=10)
    other = httpx.post(
        url, content=b'{"event": "order.new"}', headers={"X-B24kit-Token": "shop-secret"}, timeout=10
    )
    bad = httpx.post(url, content=b"[1]", headers={"X-B24kit-Token": "shop-secret"}, timeout=10)
    assert [first.json(), again.json(), other.json()] == [
        {"result": "accepted"},
        {"result": "duplicate"},
        {"result": "ignored"},
    ]
    assert bad.status_code == 400


def test_health_and_metrics(served, b24_emulator):
    app = install(b24_emulator, served.url)
    for deal in (1, 1, 2):
        post_form(f"{served.url}/events/emu", event_body(app, "ONCRMDEALUPDATE", deal))
    health = served.healthz()
    assert health == {"status": "ok", "tasks": {"queued": 2}, "portals": ["emu"], "installed": ["emu"]}
    page = httpx.get(f"{served.url}/metrics", timeout=10)
    assert page.headers["content-type"].startswith("text/plain; version=0.0.4")
    assert served.metric("b24kit_runner_accepted_total", kind="event", portal="emu") == 3
    assert served.metric("b24kit_runner_queue_depth") == 2
    assert served.metric("b24kit_runner_accept_seconds_count") == 3
    assert "# TYPE b24kit_runner_rest_calls_total counter" in page.text
    assert "b24kit_runner_limit_waits_total" in page.text


def test_no_request_can_take_the_runner_down(served, b24_emulator):
    """Random bodies, content types and paths: every answer is 2xx/4xx, and the runner stays up."""
    from hypothesis import HealthCheck, given
    from hypothesis import settings as hsettings
    from hypothesis import strategies as st

    app = install(b24_emulator, served.url)
    token = app["application_token"]
    keys = st.sampled_from(
        [
            "event",
            "data[FIELDS][ID]",
            "auth[application_token]",
            "code",
            "event_token",
            "document_id[]",
            "properties[x][]",
            "ts",
            "auth[member_id]",
            "data[FIELDS][ENTITY_TYPE_ID]",
            "auth",
        ]
    )
    values = st.one_of(st.text(max_size=20), st.sampled_from(["ONCRMDEALUPDATE", token, "DEAL_1", "1", ""]))
    form = st.lists(st.tuples(keys, values), max_size=12).map(
        lambda pairs: "&".join(f"{k}={v}" for k, v in pairs).encode()
    )
    bodies = st.one_of(form, st.binary(max_size=300))
    paths = st.sampled_from(
        [
            "/events/emu",
            "/robots/test_echo",
            "/robots/x?portal=emu",
            "/install/emu",
            "/webhooks/generic/shop",
            "/events/%00",
            "/robots/",
        ]
    )
    kinds = st.sampled_from(["application/x-www-form-urlencoded", "application/json", "text/plain", ""])

    with httpx.Client(timeout=10) as http:

        @hsettings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
        @given(path=paths, body=bodies, kind=kinds)
        def poke(path: str, body: bytes, kind: str) -> None:
            answer = http.post(f"{served.url}{path}", content=body, headers={"Content-Type": kind})
            assert answer.status_code < 500, (path, body, answer.text)

        poke()
    assert served.healthz()["status"] == "ok"


@pytest.mark.parametrize("digit", ["²", "³", "①", "٣"])
def test_numbers_written_in_other_digits_are_answered_not_crashed_on(served, b24_emulator, digit: str):
    """``str.isdigit`` accepts superscripts that ``int`` refuses (found by the fuzz test above)."""
    app = install(b24_emulator, served.url)
    token = app["application_token"]
    bodies = [
        f"event=ONCRMDEALUPDATE&data[FIELDS][ID]=1&ts={digit}&auth[application_token]={token}",
        f"event=ONCRMDEALUPDATE&data[FIELDS][ID]={digit}&ts=1&auth[application_token]={token}",
        f"event=ONCRMDEALUPDATE&data[FIELDS][ID]=2&event_handler_id={digit}&auth[application_token]={token}",
        f"code=test_echo&event_token=t{digit}&document_id[]=crm&document_id[]=CCrmDocumentDeal"
        f"&document_id[]=DEAL_{digit}&auth[application_token]={token}",
    ]
    for body in bodies:
        answer = httpx.post(
            f"{served.url}/events/emu" if body.startswith("event=") else f"{served.url}/robots/test_echo",
            content=body.encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            timeout=10,
        )
        assert answer.status_code < 500, (body, answer.text)
    assert served.healthz()["status"] == "ok"
