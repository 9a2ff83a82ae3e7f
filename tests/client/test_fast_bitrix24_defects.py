"""Each fast-bitrix24 defect from reference/clients.md §7: shown with plain fast-bitrix24 against
the emulator, then shown absent through the b24kit client (same emulator, same data)."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest
from fast_bitrix24 import Bitrix, BitrixAsync
from fast_bitrix24.server_response import ErrorInServerResponseException

from b24kit.client import Client, Limits
from b24kit.errors import BatchError, NotFound

from .conftest import EmulatorClock, client, config, http_calls, plain_loop, run, seed_deals, stats


def test_4xx_error_body_lost_by_fast_bitrix24_kept_by_b24kit(emulator):
    bx = Bitrix(emulator.webhook_url, verbose=False)
    with plain_loop(), pytest.raises(aiohttp.ClientResponseError) as plain:
        bx.call("crm.deal.get", {"ID": 999}, raw=True)
    assert plain.value.status == 400
    assert "Not found" not in str(plain.value) and plain.value.message == "Bad Request"

    with Client(config(emulator)) as b24, pytest.raises(NotFound) as ours:
        b24.call("crm.deal.get", {"id": 999})
    error = ours.value
    assert (error.code, error.description, error.status, error.method) == (
        "",
        "Not found",
        400,
        "crm.deal.get",
    )


def test_operation_time_limit_raised_by_fast_bitrix24_waited_out_by_b24kit(emulator, clock):
    seed_deals(emulator, 3)
    emulator.admin("limits", {"operating_limit": 1, "operating_cost": {"crm.deal.get": 2}})

    async def plain() -> None:
        bx = BitrixAsync(emulator.webhook_url, verbose=False)
        await bx.call("crm.deal.get", {"ID": 1}, raw=True)
        await bx.call("crm.deal.get", {"ID": 2}, raw=True)

    with pytest.raises(aiohttp.ClientResponseError) as raised:
        run(plain())
    assert raised.value.status == 429
    emulator.admin("limits", {"reset_usage": True})

    async def ours() -> list[str]:
        async with client(emulator, clock=clock) as b24:
            return [(await b24.call("crm.deal.get", {"id": i}))["TITLE"] for i in (1, 2, 3)]

    assert run(ours()) == ["Deal 1", "Deal 2", "Deal 3"]
    waits = [s for s in clock.slept if s > 60]
    assert len(waits) == 2 and all(590 <= s <= 620 for s in waits)  # until operating_reset_at
    assert stats(emulator)["status_429"] == 3  # fast-bitrix24's one, then one per b24kit wait


def test_booleans_and_none_sent_as_python_text_by_fast_bitrix24_as_bitrix_values_by_b24kit(emulator):
    seed_deals(emulator, 2)
    with plain_loop():
        Bitrix(emulator.webhook_url, verbose=False).call(
            "crm.deal.update", {"ID": 1, "fields": {"OPENED": False, "COMMENTS": None}}
        )
    with Client(config(emulator)) as b24:
        b24.batch([b24_update(2)]).raise_for_errors()
        b24.call("crm.deal.update", {"id": 2, "fields": {"CLOSED": True}})
    sent = [c["params"] for c in emulator.admin("calls?method=crm.deal.update")]
    assert sent[0]["fields"] == {"OPENED": "False", "COMMENTS": "None"}
    assert sent[1]["fields"] == {"OPENED": "N", "COMMENTS": ""}
    assert sent[2]["fields"] == {"CLOSED": "Y"}


def b24_update(deal_id: int):
    from b24kit.client import Command

    return Command("crm.deal.update", {"id": deal_id, "fields": {"OPENED": False, "COMMENTS": None}})


def test_call_result_wrapped_by_fast_bitrix24_plain_from_b24kit(emulator):
    seed_deals(emulator, 5)
    with plain_loop():
        wrapped = Bitrix(emulator.webhook_url, verbose=False).call("crm.deal.get", {"ID": 5})
    assert list(wrapped) == ["order0000000000"]
    with Client(config(emulator)) as b24:
        deal = b24.call("crm.deal.get", {"id": 5})
    assert deal["ID"] == "5" and deal["TITLE"] == "Deal 5"


CALLERS, CALLS_EACH = 20, 3


def test_concurrent_burst_past_the_bucket_with_fast_bitrix24_never_with_b24kit(emulator):
    """20 concurrent callers, 60 requests, against the cloud bucket (50, then 2/s)."""
    emulator.admin("limits", {"rate_limit": "cloud"})

    async def plain() -> None:
        bx = BitrixAsync(emulator.webhook_url, verbose=False, request_pool_size=50, requests_per_second=2.0)

        async def caller() -> None:
            for _ in range(CALLS_EACH):
                await bx.call("profile", {}, raw=True)

        await asyncio.gather(*(caller() for _ in range(CALLERS)))

    run(plain())
    assert stats(emulator).get("status_503", 0) > 0
    emulator.reset()
    emulator.admin("limits", {"rate_limit": "cloud"})

    async def ours() -> int:
        async with client(emulator, "cloud") as b24:

            async def caller() -> None:
                for _ in range(CALLS_EACH):
                    assert (await b24.call("profile"))["ID"] == "1"

            await asyncio.gather(*(caller() for _ in range(CALLERS)))
            return b24.stats.requests

    assert run(ours()) == CALLERS * CALLS_EACH
    answered = stats(emulator)
    assert answered.get("status_503", 0) == 0 and answered["status_200"] == CALLERS * CALLS_EACH


def test_sync_wrapper_returns_a_task_in_a_running_loop_b24kit_returns_the_result(emulator):
    seed_deals(emulator, 1)

    async def inside_a_loop() -> tuple[object, object]:
        task = Bitrix(emulator.webhook_url, verbose=False).call("crm.deal.get", {"ID": 1}, raw=True)
        with Client(config(emulator)) as b24:
            ours = b24.call("crm.deal.get", {"id": 1})
        await task
        return task, ours

    task, ours = run(inside_a_loop())
    assert isinstance(task, asyncio.Task)
    assert isinstance(ours, dict) and ours["TITLE"] == "Deal 1"


def test_get_by_id_collapses_duplicates_and_loses_results_b24kit_answers_every_id(emulator):
    seed_deals(emulator, 5)
    bx = Bitrix(emulator.webhook_url, verbose=False)
    wanted = [1, 2, 2, 3, 3, 3]
    with plain_loop():
        assert len(bx.get_by_ID("crm.deal.get", wanted)) == 3  # six IDs in, three results out, no word
        with pytest.raises(ErrorInServerResponseException):
            bx.get_by_ID("crm.deal.get", [1, 2, 99])  # one bad ID and the two good results are gone

    emulator.admin("stats", method="DELETE")
    with Client(config(emulator)) as b24:
        by_id = b24.get_many("crm.deal.get", wanted)
        assert all(by_id[i]["ID"] == str(i) for i in wanted)
        assert len([c for c in emulator.admin("calls?method=crm.deal.get") if c["via"] == "batch"]) == 3
        with pytest.raises(BatchError) as partial:
            b24.get_many("crm.deal.get", [1, 2, 99])
    assert set(partial.value.results) == {1, 2} and set(partial.value.errors) == {99}
    assert isinstance(partial.value.errors[99], NotFound)


def test_get_all_returns_random_order_b24kit_streams_in_id_order(emulator):
    seed_deals(emulator, 130)
    with plain_loop():
        found = Bitrix(emulator.webhook_url, verbose=False).get_all("crm.deal.list", {"select": ["ID"]})
    plain = [int(d["ID"]) for d in found]
    assert sorted(plain) == list(range(1, 131)) and plain != sorted(plain)
    emulator.admin("stats", method="DELETE")
    with Client(config(emulator, Limits.preset("off"))) as b24:
        ours = [int(d["ID"]) for d in b24.iter_list("crm.deal.list", {"select": ["ID"]})]
    assert ours == list(range(1, 131))
    assert len(http_calls(emulator, "batch")) == 1  # 130 rows: one batch of chained pages


def test_writes_retried_blindly_by_fast_bitrix24_after_a_timeout_never_by_b24kit(emulator):
    """A timed-out write may have been applied: fast-bitrix24 sends it again (a duplicate)."""
    emulator.admin("faults", {"method": "crm.deal.add", "error": "timeout", "delay": 1.0, "times": 1})

    async def plain() -> None:
        session = aiohttp.ClientSession(raise_for_status=True, timeout=aiohttp.ClientTimeout(total=0.3))
        async with session:
            bx = BitrixAsync(emulator.webhook_url, verbose=False, client=session)
            await bx.call("crm.deal.add", {"fields": {"TITLE": "Once"}}, raw=True)

    run(plain())
    run(asyncio.sleep(1.2))  # the stalled request completes on the portal
    assert [d["TITLE"] for d in emulator.portal.table("crm_deal")] == ["Once", "Once"]

    emulator.reset()
    emulator.admin("faults", {"method": "crm.deal.add", "error": "timeout", "delay": 1.0, "times": 1})
    from b24kit.errors import TransportError

    with Client(config(emulator, timeout=0.3)) as b24, pytest.raises(TransportError) as lost:
        b24.call("crm.deal.add", {"fields": {"TITLE": "Once"}})
    assert lost.value.maybe_applied
    run(asyncio.sleep(1.2))
    assert [d["TITLE"] for d in emulator.portal.table("crm_deal")] == ["Once"]


def test_emulator_clock_fixture_is_used(clock):
    assert isinstance(clock, EmulatorClock)
