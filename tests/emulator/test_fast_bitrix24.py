"""fast-bitrix24, unchanged, against the emulator over HTTP: webhook and OAuth."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from aiohttp import ClientResponseError
from fast_bitrix24 import Bitrix

DEALS = 1_230


@pytest.fixture(autouse=True)
def event_loop() -> Iterator[asyncio.AbstractEventLoop]:
    """The loop the sync ``Bitrix`` runs on (it calls ``get_event_loop()``), closed afterwards."""
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    yield loop
    asyncio.set_event_loop(None)
    loop.close()


def stage(i: int) -> str:
    return "WON" if i % 3 == 0 else "PREPARATION" if i % 3 == 1 else "NEW"


@pytest.fixture
def deals(b24_emulator) -> dict[int, dict[str, Any]]:
    """1,230 deals, seeded in-process; returns the stored rows by id."""
    for i in range(1, DEALS + 1):
        b24_emulator.portal.call(
            "crm.deal.add", {"fields": {"TITLE": f"Deal {i}", "STAGE_ID": stage(i), "OPPORTUNITY": i * 10}}
        )
    return {row["ID"]: row for row in b24_emulator.portal.table("crm_deal")}


@pytest.fixture
def bx(b24_emulator) -> Bitrix:
    return Bitrix(b24_emulator.webhook_url, verbose=False)


def test_get_all_with_a_filter_returns_exactly_the_matching_deals(b24_emulator, deals, bx):
    found = bx.get_all(
        "crm.deal.list", {"select": ["ID", "TITLE", "STAGE_ID"], "filter": {"STAGE_ID": "WON"}}
    )
    ids = sorted(int(d["ID"]) for d in found)
    assert ids == [i for i in range(1, DEALS + 1) if stage(i) == "WON"]
    assert all(
        d == {"ID": str(i), "TITLE": f"Deal {i}", "STAGE_ID": "WON"} for d in found for i in [int(d["ID"])]
    )


def test_get_all_with_operator_filters_pages_through_every_record(b24_emulator, deals, bx):
    found = bx.get_all(
        "crm.deal.list", {"select": ["ID"], "filter": {">ID": 30, "<=ID": 1_110, "!STAGE_ID": "NEW"}}
    )
    expected = [i for i in range(31, 1_111) if stage(i) != "NEW"]
    assert sorted(int(d["ID"]) for d in found) == expected
    assert len(found) == len(expected) > 50


def test_get_all_over_every_deal_returns_each_once(b24_emulator, deals, bx):
    found = bx.get_all("crm.deal.list", {"select": ["ID", "OPPORTUNITY"]})
    assert sorted(int(d["ID"]) for d in found) == list(range(1, DEALS + 1))
    assert {d["OPPORTUNITY"] for d in found if d["ID"] == "7"} == {"70.00"}


def test_get_by_id_returns_each_requested_deal(b24_emulator, deals, bx):
    wanted = [5, 500, 1_229, 77]
    found = bx.get_by_ID("crm.deal.get", wanted)
    assert {int(k): v["TITLE"] for k, v in found.items()} == {i: f"Deal {i}" for i in wanted}


def test_call_of_200_updates_changes_the_portal_state(b24_emulator, deals, bx):
    updates = [
        {"ID": i, "fields": {"TITLE": f"Updated {i} & co", "OPPORTUNITY": i + 0.5}} for i in range(1, 201)
    ]
    results = bx.call("crm.deal.update", updates)
    assert list(results) == [True] * 200
    table = b24_emulator.portal.table("crm_deal")
    assert [table.get(i)["TITLE"] for i in range(1, 201)] == [f"Updated {i} & co" for i in range(1, 201)]
    assert table.get(200)["OPPORTUNITY"] == 200.5
    assert table.get(201)["TITLE"] == "Deal 201"
    batches = [c for c in b24_emulator.admin("calls?method=batch") if c["via"] == "http"]
    assert len(batches) == 4


def test_call_with_raw_single_request(b24_emulator, bx):
    answer = bx.call("profile", raw=True)
    assert answer["result"]["ID"] == "1"
    assert "time" in answer


def test_a_4xx_error_reaches_the_caller(b24_emulator, bx):
    with pytest.raises(ClientResponseError) as caught:
        bx.call("crm.deal.get", {"ID": 424242}, raw=True)
    assert caught.value.status == 400


def test_injected_query_limit_errors_are_retried_until_they_stop(b24_emulator, deals, bx):
    b24_emulator.admin("faults", {"method": "crm.deal.get", "error": "QUERY_LIMIT_EXCEEDED", "times": 2})
    answer = bx.call("crm.deal.get", {"ID": 9}, raw=True)
    assert answer["result"]["TITLE"] == "Deal 9"
    statuses = [c.get("status") for c in b24_emulator.admin("calls?method=crm.deal.get")]
    assert statuses == [503, 503, 200]


def test_oauth_with_token_func_refreshes_after_expired_token(b24_emulator, deals):
    installed = b24_emulator.admin("apps", {"client_id": "local.fb24", "client_secret": "fb24-secret"})
    b24_emulator.admin("clock", {"advance_seconds": 3_700})  # the first access token is now expired
    tokens = {"access": installed["access_token"], "refresh": installed["refresh_token"]}
    handed_out: list[str] = []

    async def token_func() -> str:
        if handed_out:  # the portal refused the last one: refresh as an app does
            async with httpx.AsyncClient(base_url=b24_emulator.base_url) as client:
                answer = await client.get(
                    "/oauth/token/",
                    params={
                        "grant_type": "refresh_token",
                        "client_id": "local.fb24",
                        "client_secret": "fb24-secret",
                        "refresh_token": tokens["refresh"],
                    },
                )
            fresh = answer.json()
            tokens.update(access=fresh["access_token"], refresh=fresh["refresh_token"])
        handed_out.append(tokens["access"])
        return str(tokens["access"])

    bx = Bitrix(b24_emulator.oauth_endpoint, token_func=token_func, verbose=False)
    found = bx.get_all("crm.deal.list", {"select": ["ID"], "filter": {">=ID": 1_101}})
    assert sorted(int(d["ID"]) for d in found) == list(range(1_101, DEALS + 1))
    assert len(handed_out) == 2
    assert handed_out[0] == installed["access_token"] != handed_out[1]
    profile = [c for c in b24_emulator.admin("calls?method=crm.deal.list") if c["via"] == "http"]
    assert all("auth" not in c["params"] for c in profile)
