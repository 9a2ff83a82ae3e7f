"""Application tokens: where ``auth`` may travel, expiry on the portal clock, the refresh grant."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from fast_bitrix24 import BitrixAsync

from b24kit.emulator import Settings
from b24kit.testing import RunningEmulator

from .event_receiver import app_call, assert_error, install

REFRESH_KEYS = {
    "access_token",
    "refresh_token",
    "expires",
    "expires_in",
    "scope",
    "domain",
    "server_endpoint",
    "client_endpoint",
    "member_id",
    "user_id",
    "status",
}


def _refresh(
    emulator: RunningEmulator, refresh_token: str, secret: str = "s3cret", **extra: str
) -> httpx.Response:
    params = {
        "grant_type": "refresh_token",
        "client_id": "local.app.1",
        "client_secret": secret,
        "refresh_token": refresh_token,
        **extra,
    }
    return emulator.http.get(f"{emulator.base_url}/oauth/token/", params=params)


def test_install_answers_with_tokens(b24_emulator, app):
    assert {
        "access_token",
        "refresh_token",
        "application_token",
        "member_id",
        "domain",
        "client_endpoint",
        "expires_in",
    } <= set(app)
    assert app["client_endpoint"] == f"{b24_emulator.base_url}/rest/"
    assert app["expires_in"] == 3600


def test_auth_travels_in_the_query_a_form_field_or_the_json_body(b24_emulator, app):
    token = app["access_token"]
    rest = f"{b24_emulator.base_url}/rest"
    by_query = b24_emulator.http.get(f"{rest}/profile.json", params={"auth": token})
    by_form = b24_emulator.http.post(f"{rest}/profile", data={"auth": token})
    by_json = b24_emulator.http.post(f"{rest}/profile/", json={"auth": token})
    for response in (by_query, by_form, by_json):
        assert response.status_code == 200, response.text
        assert response.json()["result"]["ID"] == "1"
    # auth is a transport parameter: the method never sees it
    deal = b24_emulator.http.post(f"{rest}/crm.deal.add", data={"auth": token, "fields[TITLE]": "Form deal"})
    assert deal.json()["result"] > 0


def test_missing_or_unknown_tokens(b24_emulator):
    rest = f"{b24_emulator.base_url}/rest"
    assert_error(
        b24_emulator.http.post(f"{rest}/profile", json={}), 401, "NO_AUTH_FOUND", "Wrong authorization data"
    )
    assert_error(
        b24_emulator.http.post(f"{rest}/profile", json={"auth": "forged"}),
        401,
        "invalid_token",
        "The access token provided is invalid.",
    )


def test_tokens_expire_on_the_portal_clock_and_refresh(b24_emulator, app):
    token = app["access_token"]
    b24_emulator.admin("clock", {"advance_seconds": 3599})
    assert app_call(b24_emulator, token, "profile").status_code == 200
    b24_emulator.admin("clock", {"advance_seconds": 2})
    assert_error(
        app_call(b24_emulator, token, "profile"),
        401,
        "expired_token",
        "The access token provided has expired.",
    )
    response = _refresh(b24_emulator, app["refresh_token"])
    assert response.status_code == 200
    fresh = response.json()
    assert set(fresh) == REFRESH_KEYS
    assert fresh["refresh_token"] != app["refresh_token"]
    assert (fresh["expires_in"], fresh["user_id"], fresh["status"]) == (3600, 1, "L")
    assert fresh["member_id"] == app["member_id"]
    assert fresh["client_endpoint"] == f"{b24_emulator.base_url}/rest/"
    now = b24_emulator.admin("clock")["time"]
    assert abs(fresh["expires"] - (now + 3600)) <= 2
    assert app_call(b24_emulator, fresh["access_token"], "profile").json()["result"]["ID"] == "1"
    # a refresh token works once: the old one is refused, the new one works
    assert_error(_refresh(b24_emulator, app["refresh_token"]), 400, "invalid_grant", "Invalid refresh token")
    assert _refresh(b24_emulator, fresh["refresh_token"]).status_code == 200


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [
        ({"secret": "wrong"}, 401, "invalid_client"),
        ({"client_id": "local.unknown"}, 401, "invalid_client"),
        ({"grant_type": "password"}, 400, "invalid_request"),
        ({"refresh_token": "made-up"}, 400, "invalid_grant"),
    ],
)
def test_refresh_errors(b24_emulator, app, change, status, code):
    change = dict(change)
    refresh_token = change.pop("refresh_token", app["refresh_token"])
    response = _refresh(b24_emulator, refresh_token, **change)
    assert response.status_code == status
    assert response.json()["error"] == code
    assert set(response.json()) == {"error", "error_description"}


def test_refresh_tokens_expire_after_180_days(b24_emulator, app):
    b24_emulator.admin("clock", {"advance_seconds": 180 * 24 * 3600 + 1})
    assert_error(_refresh(b24_emulator, app["refresh_token"]), 400, "invalid_grant", "Invalid refresh token")


def test_token_ttl_is_a_setting():
    emulator = RunningEmulator(Settings(webhooks={1: "secret"}, token_ttl=120))
    try:
        app = install(emulator)
        assert app["expires_in"] == 120
        emulator.admin("clock", {"advance_seconds": 121})
        assert_error(
            app_call(emulator, app["access_token"], "profile"),
            401,
            "expired_token",
            "The access token provided has expired.",
        )
        assert _refresh(emulator, app["refresh_token"]).json()["expires_in"] == 120
    finally:
        emulator.close()


def test_fast_bitrix24_token_func_refreshes_after_expiry(b24_emulator, app):
    base = b24_emulator.base_url
    state: dict[str, Any] = {"access": app["access_token"], "refresh": app["refresh_token"], "calls": 0}
    used: list[str] = []

    async def token_func() -> str:
        state["calls"] += 1
        if state["calls"] == 1:
            return str(state["access"])
        async with httpx.AsyncClient() as client:
            params = {
                "grant_type": "refresh_token",
                "client_id": "local.app.1",
                "client_secret": "s3cret",
                "refresh_token": state["refresh"],
            }
            response = await client.get(f"{base}/oauth/token/", params=params)
        response.raise_for_status()
        used.append(state["refresh"])
        state["refresh"] = response.json()["refresh_token"]
        return str(response.json()["access_token"])

    async def scenario() -> tuple[Any, Any, Any]:
        bx = BitrixAsync(f"{base}/rest/", token_func=token_func, verbose=False)
        first = await bx.call("crm.deal.add", {"fields": {"TITLE": "before expiry"}})
        b24_emulator.admin("clock", {"advance_seconds": 3601})
        second = await bx.call("crm.deal.add", {"fields": {"TITLE": "after expiry"}})
        deals = await bx.get_all("crm.deal.list", {"select": ["ID", "TITLE"]})
        return first, second, deals

    first, second, deals = asyncio.run(scenario())
    assert (first, second) == (1, 2)
    assert [d["TITLE"] for d in deals] == ["before expiry", "after expiry"]
    assert state["calls"] == 2  # the initial token, then one refresh on 401 expired_token
    assert b24_emulator.admin("stats")["status_401"] == 1  # the one expired_token answer
    assert_error(_refresh(b24_emulator, used[0]), 400, "invalid_grant", "Invalid refresh token")
