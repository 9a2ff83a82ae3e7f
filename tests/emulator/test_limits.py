"""The portal's limits over HTTP: the leaky bucket, per-method operating time, injected faults.

The portal clock is frozen (``POST /_emulator/clock {"freeze": true}``) so that counts are exact:
only ``advance_seconds`` moves time, and with it the bucket's drain and the operating window.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from b24kit.testing import RunningEmulator

TOO_MANY = {"error": "QUERY_LIMIT_EXCEEDED", "error_description": "Too many requests"}
OPERATION_LIMIT = {
    "error": "OPERATION_TIME_LIMIT",
    "error_description": "Method is blocked due to operation time limit.",
}


@pytest.fixture
def frozen(b24_emulator):
    b24_emulator.admin("clock", {"freeze": True})
    return b24_emulator


def call(
    emulator: RunningEmulator, method: str = "profile", params: dict[str, Any] | None = None
) -> httpx.Response:
    return emulator.http.post(f"{emulator.webhook_url}{method}", json=params or {})


def statuses(emulator, count: int, method: str = "profile") -> list[int]:
    return [call(emulator, method).status_code for _ in range(count)]


def advance(emulator, seconds: float) -> None:
    emulator.admin("clock", {"advance_seconds": seconds})


# -- leaky bucket -----------------------------------------------------------------------------


def test_cloud_bucket_lets_50_through_refuses_the_51st_and_drains_two_per_second(frozen):
    frozen.admin("limits", {"rate_limit": "cloud"})
    assert statuses(frozen, 50) == [200] * 50
    refused = call(frozen)
    assert (refused.status_code, refused.json()) == (503, TOO_MANY)
    assert call(frozen).status_code == 503  # a refused request does not fill the bucket
    advance(frozen, 0.5)
    assert statuses(frozen, 2) == [200, 503]
    advance(frozen, 2.0)
    assert statuses(frozen, 5) == [200, 200, 200, 200, 503]
    assert frozen.admin("limits")["bucket_level"] == 50


def test_enterprise_bucket_is_250_draining_five_per_second(frozen):
    frozen.admin("limits", {"rate_limit": "enterprise"})
    assert statuses(frozen, 251) == [200] * 250 + [503]
    advance(frozen, 0.2)
    assert statuses(frozen, 2) == [200, 503]


def test_rate_limit_off_never_refuses(frozen):
    frozen.admin("limits", {"rate_limit": "off"})
    assert set(statuses(frozen, 300)) == {200}


def test_a_batch_of_50_commands_is_one_request_for_the_bucket(frozen):
    frozen.admin("limits", {"rate_limit": "cloud"})
    assert statuses(frozen, 48) == [200] * 48
    batch = call(frozen, "batch", {"cmd": {f"c{i}": "profile" for i in range(50)}})
    assert batch.status_code == 200
    assert len(batch.json()["result"]["result"]) == 50
    assert statuses(frozen, 2) == [200, 503]


def test_the_bucket_refuses_every_method_and_auth_kind(frozen):
    frozen.admin("limits", {"rate_limit": "cloud"})
    token = frozen.admin("apps", {"client_id": "local.a", "client_secret": "s"})["access_token"]
    assert statuses(frozen, 50, "crm.deal.list") == [200] * 50
    assert call(frozen, "crm.deal.fields").status_code == 503
    oauth = frozen.http.post("/rest/profile", json={"auth": token})
    assert (oauth.status_code, oauth.json()) == (503, TOO_MANY)


# -- operating time ---------------------------------------------------------------------------


@pytest.fixture
def budget(frozen):
    """Limit 10 s per method; every ``crm.deal.update`` costs 5 s."""
    frozen.admin("limits", {"operating_limit": 10, "operating_cost": {"crm.deal.update": 5}})
    frozen.portal.call("crm.deal.add", {"fields": {"TITLE": "budget"}})
    return frozen


def update(emulator, title: str = "x") -> httpx.Response:
    return call(emulator, "crm.deal.update", {"id": 1, "fields": {"TITLE": title}})


def test_operating_time_accumulates_and_blocks_the_call_after_the_limit_is_passed(budget):
    first = update(budget).json()["time"]
    assert first["operating"] == 5
    assert first["operating_reset_at"] == int(first["start"]) + 600
    assert update(budget).json()["time"]["operating"] == 10
    third = update(budget, "third")  # 10 s is not over the 10 s limit: this one still runs
    assert third.json()["time"]["operating"] == 15
    assert third.json()["time"]["operating_reset_at"] == first["operating_reset_at"]
    blocked = update(budget, "blocked")
    assert (blocked.status_code, blocked.json()) == (429, OPERATION_LIMIT)
    assert budget.portal.table("crm_deal").get(1)["TITLE"] == "third"


def test_a_blocked_method_leaves_other_methods_and_other_callers_working(budget):
    for _ in range(3):
        update(budget)
    assert update(budget).status_code == 429
    assert call(budget, "crm.deal.get", {"id": 1}).status_code == 200
    token = budget.admin("apps", {"client_id": "local.b", "client_secret": "s"})["access_token"]
    as_app = budget.http.post(
        "/rest/crm.deal.update", json={"auth": token, "id": 1, "fields": {"TITLE": "app"}}
    )
    assert as_app.status_code == 200
    assert as_app.json()["time"]["operating"] == 5


def test_the_block_lifts_exactly_at_operating_reset_at(budget):
    reset_at = update(budget).json()["time"]["operating_reset_at"]
    update(budget)
    update(budget)
    now = budget.admin("clock")["time"]
    advance(budget, reset_at - now - 0.5)
    assert update(budget).status_code == 429
    advance(budget, 0.5)
    unblocked = update(budget, "after reset").json()["time"]
    assert unblocked["operating"] == 5
    assert unblocked["operating_reset_at"] == reset_at + 600


def test_only_the_oldest_minute_bucket_leaves_the_window(budget):
    first = update(budget).json()["time"]
    advance(budget, 120)
    second = update(budget).json()["time"]
    assert (second["operating"], second["operating_reset_at"]) == (10, first["operating_reset_at"])
    advance(budget, 480)  # the first bucket is 600 s old now, the second 480 s
    third = update(budget).json()["time"]
    assert third["operating"] == 10
    assert third["operating_reset_at"] == int(second["start"]) + 600


def test_batch_commands_count_against_their_own_method_and_the_batch_itself_is_free(budget):
    cmd = {f"u{i}": "crm.deal.update?id=1&fields[TITLE]=b" for i in range(4)}
    response = call(budget, "batch", {"cmd": cmd})
    assert response.status_code == 200
    body = response.json()
    assert body["time"]["operating"] == 0
    assert [body["result"]["result_time"][k]["operating"] for k in ("u0", "u1", "u2")] == [5, 10, 15]
    assert body["result"]["result_error"] == {"u3": OPERATION_LIMIT}
    assert update(budget).status_code == 429


def test_measured_operating_time_is_reported_without_a_configured_cost(b24_emulator):
    times = [call(b24_emulator).json()["time"] for _ in range(3)]
    assert 0 < times[0]["operating"] <= times[1]["operating"] <= times[2]["operating"] < 1


# -- fault injection --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        ("QUERY_LIMIT_EXCEEDED", 503, "QUERY_LIMIT_EXCEEDED"),
        ("OPERATION_TIME_LIMIT", 429, "OPERATION_TIME_LIMIT"),
        ("INTERNAL_SERVER_ERROR", 500, "INTERNAL_SERVER_ERROR"),
        ("500", 500, "INTERNAL_SERVER_ERROR"),
        ("expired_token", 401, "expired_token"),
    ],
)
def test_injected_faults_fail_the_next_calls_then_stop(b24_emulator, error, status, code):
    b24_emulator.admin("faults", {"method": "crm.deal.list", "error": error, "times": 2})
    answers = [call(b24_emulator, "crm.deal.list") for _ in range(3)]
    assert [a.status_code for a in answers] == [status, status, 200]
    assert answers[0].json()["error"] == code
    assert set(answers[0].json()) == {"error", "error_description"}
    assert call(b24_emulator).status_code == 200
    assert b24_emulator.admin("faults") == []


def test_a_fault_hits_only_its_method_and_also_inside_a_batch(b24_emulator):
    b24_emulator.admin("faults", {"method": "CRM.DEAL.LIST", "error": "QUERY_LIMIT_EXCEEDED", "times": 1})
    assert call(b24_emulator).status_code == 200
    batch = call(b24_emulator, "batch", {"cmd": {"a": "profile", "b": "crm.deal.list"}}).json()["result"]
    assert list(batch["result"]) == ["a"]
    assert batch["result_error"] == {"b": TOO_MANY}


def test_a_wildcard_fault_hits_any_method(b24_emulator):
    b24_emulator.admin("faults", {"method": "*", "error": "OVERLOAD_LIMIT", "times": 1})
    response = call(b24_emulator, "crm.deal.fields")
    assert (response.status_code, response.json()["error"]) == (503, "OVERLOAD_LIMIT")


def test_a_custom_fault_code_with_its_status_and_text(b24_emulator):
    fault = {"method": "profile", "error": "ACCESS_DENIED_X", "status": 403, "description": "nope"}
    b24_emulator.admin("faults", fault)
    response = call(b24_emulator)
    assert (response.status_code, response.json()) == (
        403,
        {"error": "ACCESS_DENIED_X", "error_description": "nope"},
    )


def test_an_injected_timeout_stalls_the_answer_past_the_client_timeout(b24_emulator):
    b24_emulator.admin("faults", {"method": "crm.deal.list", "error": "timeout", "delay": 1.5})
    with pytest.raises(httpx.ReadTimeout):
        b24_emulator.http.post(f"{b24_emulator.webhook_url}crm.deal.list", json={}, timeout=0.3)
    assert call(b24_emulator).status_code == 200  # the server keeps answering meanwhile
    assert call(b24_emulator, "crm.deal.list").status_code == 200


def test_an_injected_timeout_on_a_batch_command_stalls_the_whole_batch(b24_emulator):
    b24_emulator.admin("faults", {"method": "crm.deal.get", "error": "timeout", "delay": 1.5})
    cmd = {"a": "profile", "b": "crm.deal.get?id=1"}
    with pytest.raises(httpx.ReadTimeout):
        b24_emulator.http.post(f"{b24_emulator.webhook_url}batch", json={"cmd": cmd}, timeout=0.3)


def test_bad_fault_requests_are_refused(b24_emulator):
    response = b24_emulator.http.post("/_emulator/faults", json={"method": "profile"})
    assert response.status_code == 400


def test_reset_restores_the_configured_limits(frozen):
    frozen.admin("limits", {"rate_limit": "cloud", "operating_limit": 1, "operating_cost": {"profile": 5}})
    frozen.admin("faults", {"method": "profile", "error": "500", "times": 9})
    frozen.reset()
    assert frozen.admin("limits") == {
        "rate_limit": "off",
        "bucket_level": None,
        "operating_limit": 480.0,
        "operating_cost": {},
    }
    assert set(statuses(frozen, 60)) == {200}
