"""The portal's limits on the client side: bucket pacing, operating time, 429 waits."""

from __future__ import annotations

import asyncio
import threading

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from b24kit.client import Client, Limits
from b24kit.client._limits import LeakyBucket, OperatingGate
from b24kit.errors import OperationTimeLimit

from .conftest import EmulatorClock, client, config, run, seed_deals, stats


class StepClock:
    """A clock that only moves when told to."""

    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now

    def time(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_bucket_reserves_burst_then_paces_at_the_drain_rate():
    clock = StepClock()
    bucket = LeakyBucket(50, 2.0, clock, margin=2)
    waits = [bucket.reserve() for _ in range(52)]
    assert waits[:48] == [0.0] * 48
    assert waits[48:] == [0.5, 1.0, 1.5, 2.0]
    clock.now += 10
    assert bucket.headroom() == pytest.approx(16.0)  # 52 taken, 20 drained, 48 usable
    bucket.saturate()
    assert bucket.reserve() == pytest.approx(0.5)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.floats(min_value=0, max_value=3), min_size=1, max_size=150),
    st.sampled_from([(50, 2.0), (250, 5.0)]),
)
def test_requests_sent_at_reserved_times_never_overflow_the_portal_bucket(gaps, preset):
    """Whatever the callers' timing, the portal's own bucket (counting on arrival) stays <= burst."""
    burst, rate = preset
    clock = StepClock()
    bucket = LeakyBucket(burst, rate, clock, margin=2)
    sends = []
    for gap in gaps:
        clock.now += gap
        sends.append(clock.now + bucket.reserve())
    level, last = 0.0, None
    for at in sorted(sends):
        level = level if last is None else max(0.0, level - (at - last) * rate)
        level, last = level + 1, at
        assert level <= burst - 1 + 1e-9


def test_operating_gate_blocks_a_method_near_its_budget_until_the_reset():
    clock = StepClock()
    gate = OperatingGate(Limits(operating_limit=100, operating_headroom=10), clock)
    gate.observe("crm.deal.list", {"operating": 50.0, "operating_reset_at": 1300, "finish": 1000.0})
    assert gate.delay(["crm.deal.list"]) == 0
    gate.observe("crm.deal.list", {"operating": 91.0, "operating_reset_at": 1300, "finish": 1000.0})
    assert gate.delay(["crm.deal.list", "profile"]) == pytest.approx(301.0)
    assert gate.delay(["profile"]) == 0
    clock.now += 302
    assert gate.delay(["crm.deal.list"]) == 0


def test_operating_gate_translates_portal_time_through_the_clock_skew():
    clock = StepClock()
    gate = OperatingGate(Limits(operating_limit=10, operating_headroom=0), clock)
    gate.observe(
        "m", {"operating": 11.0, "operating_reset_at": 5600, "finish": 5000.0}
    )  # portal 4000 s ahead
    assert gate.delay(["m"]) == pytest.approx(601.0)


def test_operating_time_is_respected_before_the_portal_blocks(emulator, clock: EmulatorClock):
    """Client and portal both allow 10 s per method; each get costs 4 s: the fourth call waits."""
    seed_deals(emulator, 5)
    emulator.admin("limits", {"operating_limit": 10, "operating_cost": {"crm.deal.get": 4}})
    limits = Limits(burst=None, operating_limit=10, operating_headroom=0)

    async def calls() -> list[str]:
        async with client(emulator, limits, clock=clock) as b24:
            return [(await b24.call("crm.deal.get", {"id": i}))["ID"] for i in range(1, 6)]

    assert run(calls()) == ["1", "2", "3", "4", "5"]
    assert stats(emulator).get("status_429", 0) == 0
    waits = [s for s in clock.slept if s > 1]
    assert len(waits) == 1 and 600 <= waits[0] <= 602  # until operating_reset_at (+1 s slack)


def test_a_429_without_a_reset_time_waits_for_the_last_reported_one(emulator, clock: EmulatorClock):
    seed_deals(emulator, 2)

    async def calls() -> tuple[str, str, float]:
        async with client(emulator, "cloud", clock=clock) as b24:
            first = (await b24.call("crm.deal.get", {"id": 1}))["ID"]
            left = b24._engine.gate.resets["crm.deal.get"] - clock.time()
            emulator.admin("faults", {"method": "crm.deal.get", "error": "OPERATION_TIME_LIMIT"})
            second = (await b24.call("crm.deal.get", {"id": 2}))["ID"]
            return first, second, left

    first, second, left = run(calls())
    assert (first, second) == ("1", "2")
    assert 590 < left < 601 and clock.slept[-1] == pytest.approx(left + 1.0, abs=1.0)


def test_a_wait_longer_than_allowed_raises_the_limit_error(emulator, clock: EmulatorClock):
    seed_deals(emulator, 2)
    emulator.admin("limits", {"operating_limit": 1, "operating_cost": {"crm.deal.get": 2}})
    limits = Limits(operating_limit=None, max_operating_wait=30)

    async def calls() -> None:
        async with client(emulator, limits, clock=clock) as b24:
            await b24.call("crm.deal.get", {"id": 1})
            await b24.call("crm.deal.get", {"id": 2})

    with pytest.raises(OperationTimeLimit) as raised:
        run(calls())
    assert raised.value.status == 429 and raised.value.reset_at is not None
    assert not any(s > 30 for s in clock.slept)


def test_twenty_threads_on_one_sync_client_never_overflow_the_cloud_bucket(emulator):
    emulator.admin("limits", {"rate_limit": "cloud"})
    errors: list[BaseException] = []
    with Client(config(emulator, "cloud")) as b24:

        def worker() -> None:
            try:
                for _ in range(3):
                    b24.call("server.time")
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)

        threads = [threading.Thread(target=worker) for _ in range(20)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert b24.stats.query_limit_hits == 0
    assert errors == []
    answered = stats(emulator)
    assert answered["status_200"] == 60 and answered.get("status_503", 0) == 0


def test_a_foreign_burst_that_fills_the_portal_bucket_slows_the_client_down(emulator):
    """Another app on the same portal used the bucket: the client gets 503s, saturates and paces."""
    emulator.admin("limits", {"rate_limit": "cloud"})
    for _ in range(50):
        emulator.rest("profile")

    async def calls() -> int:
        async with client(emulator, "cloud") as b24:
            await asyncio.gather(*(b24.call("profile") for _ in range(4)))
            return b24.stats.query_limit_hits

    hits = run(calls())
    assert 1 <= hits <= 4
    assert stats(emulator)["status_200"] == 54
