"""iter_list: the chained ID window (2,500 rows per request), start/next where needed, each row once."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any
from urllib.parse import unquote

from b24kit.client import Client, Limits

from .conftest import EmulatorClock, client, config, http_calls, run, seed_deals


def ids_of(rows: Iterable[dict[str, Any]]) -> list[int]:
    return [int(r["ID"]) for r in rows]


def test_every_deal_once_in_id_order_in_the_fewest_requests(emulator):
    seed_deals(emulator, 5_123)
    with Client(config(emulator, "off")) as b24:
        rows = list(b24.iter_list("crm.deal.list", {"select": ["ID", "TITLE"]}))
    assert ids_of(rows) == list(range(1, 5_124))
    assert rows[0] == {"ID": "1", "TITLE": "Deal 1"}
    batches = http_calls(emulator, "batch")
    assert len(batches) == 3 and [len(b["params"]["cmd"]) for b in batches] == [50, 50, 4]


def test_the_first_page_counts_the_rest_chain_with_start_minus_one(emulator):
    seed_deals(emulator, 120)
    with Client(config(emulator, "off")) as b24:
        assert len(list(b24.iter_list("crm.deal.list", {"select": ["ID"]}))) == 120
    cmd = {k: unquote(v) for k, v in http_calls(emulator, "batch")[0]["params"]["cmd"].items()}
    assert cmd["p0"] == "crm.deal.list?select[0]=ID&order[ID]=ASC&start=0"
    assert cmd["p1"] == "crm.deal.list?select[0]=ID&filter[>ID]=$result[p0][49][ID]&order[ID]=ASC&start=-1"


def test_an_exact_multiple_of_2500_needs_no_extra_request(emulator):
    seed_deals(emulator, 5_000)
    with Client(config(emulator, "off")) as b24:
        assert ids_of(b24.iter_list("crm.deal.list", {"select": ["ID"]})) == list(range(1, 5_001))
    assert len(http_calls(emulator, "batch")) == 2


def test_filters_are_kept_including_an_own_id_bound(emulator):
    seed_deals(emulator, 400)
    for deal_id in range(1, 401, 3):
        emulator.portal.call("crm.deal.update", {"id": deal_id, "fields": {"STAGE_ID": "WON"}})
    with Client(config(emulator, "off")) as b24:
        rows = list(
            b24.iter_list("crm.deal.list", {"FILTER": {"STAGE_ID": "WON", ">ID": 100}, "SELECT": ["ID"]})
        )
    assert ids_of(rows) == [i for i in range(1, 401, 3) if i > 100]


def test_select_without_the_id_gets_it(emulator):
    seed_deals(emulator, 60)
    with Client(config(emulator, "off")) as b24:
        rows = list(b24.iter_list("crm.deal.list", {"select": ["TITLE"]}))
    assert rows[59] == {"TITLE": "Deal 60", "ID": "60"}


def test_crm_item_list_pages_by_lowercase_id_inside_items(emulator):
    seed_deals(emulator, 130)
    with Client(config(emulator, "off")) as b24:
        rows = list(b24.iter_list("crm.item.list", {"entityTypeId": 2, "select": ["id", "title"]}))
    assert [r["id"] for r in rows] == list(range(1, 131))
    cmd = unquote(http_calls(emulator, "batch")[0]["params"]["cmd"]["p1"])
    assert "filter[>id]=$result[p0][items][49][id]" in cmd and "order[id]=ASC" in cmd


def test_small_and_empty_lists(emulator):
    with Client(config(emulator, "off")) as b24:
        assert list(b24.iter_list("crm.deal.list")) == []
        seed_deals(emulator, 3)
        assert ids_of(b24.iter_list("crm.deal.list", {"select": ["ID"]})) == [1, 2, 3]


def test_a_custom_order_pages_with_start_next_fifty_pages_per_request(emulator):
    seed_deals(emulator, 260)
    with Client(config(emulator, "off")) as b24:
        rows = list(b24.iter_list("crm.deal.list", {"order": {"OPPORTUNITY": "DESC"}, "select": ["ID"]}))
    assert ids_of(rows) == list(range(260, 0, -1))
    assert len(http_calls(emulator, "crm.deal.list")) == 1 and len(http_calls(emulator, "batch")) == 1
    starts = sorted(
        int(v.rsplit("start=", 1)[1]) for v in http_calls(emulator, "batch")[0]["params"]["cmd"].values()
    )
    assert starts == [50, 100, 150, 200, 250]


def test_methods_without_an_id_window_page_by_start(emulator):
    with Client(config(emulator, "off")) as b24:
        statuses = list(b24.iter_list("crm.status.list", {"filter": {"ENTITY_ID": "DEAL_STAGE"}}))
    assert statuses and all(s["ENTITY_ID"] == "DEAL_STAGE" for s in statuses)
    assert http_calls(emulator, "batch") == []


def test_rows_added_during_the_scan_do_not_duplicate_anything(emulator):
    seed_deals(emulator, 3_000)
    seen: list[int] = []
    with Client(config(emulator, "off")) as b24:
        for row in b24.iter_list("crm.deal.list", {"select": ["ID"]}):
            seen.append(int(row["ID"]))
            if len(seen) == 10:
                seed_deals(emulator, 100)
    assert len(seen) == len(set(seen)) and seen == sorted(seen)
    assert seen[:3_000] == list(range(1, 3_001)) and set(seen[3_000:]) <= set(range(3_001, 3_101))


def test_breaking_out_early_cancels_the_prefetch_cleanly(emulator):
    seed_deals(emulator, 6_000)
    with Client(config(emulator, "off")) as b24:
        for count, _ in enumerate(b24.iter_list("crm.deal.list", {"select": ["ID"]}), 1):
            if count == 10:
                break
        assert b24.call("profile")["ID"] == "1"


def test_a_limit_refusal_inside_the_chain_resumes_from_the_last_row(emulator, clock: EmulatorClock):
    seed_deals(emulator, 2_600)

    async def scan() -> list[int]:
        async with client(emulator, "off", clock=clock) as b24:
            first = [int(r["ID"]) async for r in b24.iter_list("crm.deal.list", {"select": ["ID"]})]
            return first

    emulator.admin("faults", {"method": "crm.deal.list", "error": "OPERATION_TIME_LIMIT", "times": 1})
    assert run(scan()) == list(range(1, 2_601))
    assert any(s > 59 for s in clock.slept), clock.slept  # waited (no reset time known: 60 s)


def test_async_pages_carry_the_total(emulator):
    seed_deals(emulator, 75)

    async def pages() -> list[tuple[int, int | None]]:
        async with client(emulator, Limits.preset("off")) as b24:
            return [(len(p.rows), p.total) async for p in b24.iter_pages("crm.deal.list", {"select": ["ID"]})]

    assert run(pages()) == [(50, 75), (25, 75)]


def test_the_sync_client_streams_inside_a_running_loop(emulator):
    seed_deals(emulator, 70)

    async def inside() -> int:
        with Client(config(emulator, "off")) as b24:
            return sum(1 for _ in b24.iter_list("crm.deal.list", {"select": ["ID"]}))

    assert asyncio.run(inside()) == 70
