"""The sync Client: the async API's results, inside or outside a running event loop."""

from __future__ import annotations

import asyncio

import pytest

from b24kit.client import AsyncClient, Client, Command

from .conftest import config, seed_deals


def test_outside_any_loop(emulator):
    seed_deals(emulator, 2)
    with Client(config(emulator)) as b24:
        assert b24.call("crm.deal.get", {"id": 2})["TITLE"] == "Deal 2"
        assert b24.batch({"a": Command("crm.deal.get", {"id": 1})}).results["a"]["ID"] == "1"
        assert set(b24.get_many("crm.deal.get", [1, 2])) == {1, 2}


def test_inside_a_running_loop_calls_return_results_not_tasks(emulator):
    seed_deals(emulator, 1)

    async def handler() -> object:
        with Client(config(emulator)) as b24:
            return b24.call("crm.deal.get", {"id": 1})

    result = asyncio.run(handler())
    assert isinstance(result, dict) and result["ID"] == "1"


def test_async_and_sync_clients_agree(emulator):
    seed_deals(emulator, 120)

    async def via_async() -> list[str]:
        async with AsyncClient(config(emulator)) as b24:
            return [r["ID"] async for r in b24.iter_list("crm.deal.list", {"select": ["ID"]})]

    with Client(config(emulator)) as b24:
        via_sync = [r["ID"] for r in b24.iter_list("crm.deal.list", {"select": ["ID"]})]
    assert asyncio.run(via_async()) == via_sync == [str(i) for i in range(1, 121)]


def test_a_closed_client_refuses_calls(emulator):
    b24 = Client(config(emulator))
    b24.close()
    b24.close()
    with pytest.raises(RuntimeError, match="closed"):
        b24.call("profile")


def test_repr_masks_the_webhook(emulator):
    with Client(config(emulator)) as b24:
        assert "/rest/1/***/" in repr(b24) and "secret" not in repr(b24)
