"""crm.<entity>.list: select, order, every filter operator, pages, ID windows, and its speed."""

from __future__ import annotations

import time
from typing import Any

import pytest

from b24kit.emulator.registry import Caller
from b24kit.testing.emulator import RunningEmulator

from .rest import call, ok


def envelope(emu: RunningEmulator, method: str, params: dict[str, Any]) -> dict[str, Any]:
    status, body = call(emu, method, params)
    assert status == 200, body
    return dict(body)


def add_deals(emu: RunningEmulator, rows: list[dict[str, Any]]) -> list[int]:
    """Create deals through ``batch`` (50 a request), as a client would."""
    ids: list[int] = []
    for first in range(0, len(rows), 50):
        chunk = rows[first : first + 50]
        cmd = {}
        for index, fields in enumerate(chunk):
            query = "&".join(f"fields[{k}]={v}" for k, v in fields.items())
            cmd[f"c{index}"] = f"crm.deal.add?{query}"
        result = ok(emu, "batch", {"cmd": cmd})
        assert result["result_error"] == [], result["result_error"]
        ids += [result["result"][f"c{i}"] for i in range(len(chunk))]
    return ids


def ids_of(rows: list[dict[str, Any]]) -> list[int]:
    return [int(r["ID"]) for r in rows]


@pytest.fixture
def sample(b24_emulator: RunningEmulator) -> list[int]:
    rows = [
        {
            "TITLE": "Alpha supply",
            "OPPORTUNITY": 100,
            "CLOSEDATE": "2024-01-10",
            "OPENED": "Y",
            "STAGE_ID": "NEW",
        },
        {
            "TITLE": "beta SUPPLY",
            "OPPORTUNITY": 250.5,
            "CLOSEDATE": "2024-02-10",
            "OPENED": "N",
            "STAGE_ID": "WON",
        },
        {
            "TITLE": "Gamma",
            "OPPORTUNITY": 250.5,
            "CLOSEDATE": "2024-03-10",
            "OPENED": "Y",
            "STAGE_ID": "PREPARATION",
        },
        {"TITLE": "delta_mol", "OPPORTUNITY": 0, "CLOSEDATE": "2024-04-10", "OPENED": "N", "STAGE_ID": "NEW"},
    ]
    return add_deals(b24_emulator, rows)


@pytest.mark.parametrize(
    ("filter_", "expected"),
    [
        ({"TITLE": "gamma"}, [3]),
        ({"=TITLE": "Gamma"}, [3]),
        ({"!TITLE": "Gamma"}, [1, 2, 4]),
        ({"!=TITLE": "Gamma"}, [1, 2, 4]),
        ({"%TITLE": "supply"}, [1, 2]),
        ({"!%TITLE": "supply"}, [3, 4]),
        ({"%TITLE": "_mol"}, [4]),
        ({"=%TITLE": "%supply"}, [1, 2]),
        ({"%=TITLE": "al%"}, [1]),
        ({"=%TITLE": "d_lta%"}, [4]),
        ({"!=%TITLE": "%a"}, [1, 2, 4]),
        ({"!%=TITLE": "%a"}, [1, 2, 4]),
        ({">OPPORTUNITY": 100}, [2, 3]),
        ({">=OPPORTUNITY": "100"}, [1, 2, 3]),
        ({"<OPPORTUNITY": 250.5}, [1, 4]),
        ({"<=OPPORTUNITY": 250.5}, [1, 2, 3, 4]),
        ({"OPPORTUNITY": [0, 100]}, [1, 4]),
        ({"@OPPORTUNITY": [0, 100]}, [1, 4]),
        ({"!@OPPORTUNITY": [0, 100]}, [2, 3]),
        ({"@ID": []}, []),
        ({">=CLOSEDATE": "2024-02-10"}, [2, 3, 4]),
        ({">CLOSEDATE": "2024-02-10T00:00:00+03:00"}, [3, 4]),
        ({"<CLOSEDATE": "2024-03-10T03:00:00+03:00"}, [1, 2]),
        ({"CLOSEDATE": "2024-04-10"}, [4]),
        ({"OPENED": "N"}, [2, 4]),
        ({"!OPENED": "Y"}, [2, 4]),
        ({"STAGE_ID": ["NEW", "WON"]}, [1, 2, 4]),
        ({"%STAGE_ID": "NE"}, []),
        ({"STAGE_SEMANTIC_ID": "S"}, [2]),
        ({"CLOSED": "Y"}, [2]),
        ({"COMMENTS": ""}, [1, 2, 3, 4]),
        ({"!COMMENTS": ""}, []),
        ({"NO_SUCH_FIELD": 1}, [1, 2, 3, 4]),
        ({"TITLE": "Gamma", ">OPPORTUNITY": 300}, []),
    ],
)
def test_filter_operators(
    b24_emulator: RunningEmulator, sample: list[int], filter_: dict[str, Any], expected: list[int]
) -> None:
    found = ok(b24_emulator, "crm.deal.list", {"filter": filter_, "select": ["ID"]})
    assert ids_of(found) == [sample[i - 1] for i in expected]


def test_order_and_select(b24_emulator: RunningEmulator, sample: list[int]) -> None:
    by_amount = ok(
        b24_emulator, "crm.deal.list", {"order": {"OPPORTUNITY": "DESC", "TITLE": "ASC"}, "select": ["TITLE"]}
    )
    assert [d["TITLE"] for d in by_amount] == ["beta SUPPLY", "Gamma", "Alpha supply", "delta_mol"]
    assert set(by_amount[0]) == {"ID", "TITLE"}  # ID always comes along
    by_title = ok(b24_emulator, "crm.deal.list", {"order": {"TITLE": "DESC"}, "select": ["ID"]})
    assert ids_of(by_title) == [sample[2], sample[3], sample[1], sample[0]]  # case-insensitive
    by_date = ok(b24_emulator, "crm.deal.list", {"order": {"CLOSEDATE": "DESC"}, "select": ["CLOSEDATE"]})
    assert by_date[0]["CLOSEDATE"] == "2024-04-10T03:00:00+03:00"
    everything = ok(b24_emulator, "crm.deal.list", {"filter": {"ID": sample[0]}})[0]
    assert everything == ok(b24_emulator, "crm.deal.get", {"id": sample[0]})
    ignored = ok(
        b24_emulator, "crm.deal.list", {"select": ["CONTACT_IDS", "NOPE"], "filter": {"CONTACT_IDS": 1}}
    )
    assert [set(d) for d in ignored] == [{"ID"}] * 4  # CONTACT_IDS is not supported in list select/filter


def test_uf_select_masks(b24_emulator: RunningEmulator, sample: list[int]) -> None:
    ok(b24_emulator, "crm.deal.userfield.add", {"fields": {"FIELD_NAME": "NOTE", "USER_TYPE_ID": "string"}})
    ok(b24_emulator, "crm.deal.update", {"id": sample[0], "fields": {"UF_CRM_NOTE": "hello"}})
    star = ok(b24_emulator, "crm.deal.list", {"select": ["*"], "filter": {"ID": sample[0]}})[0]
    assert "UF_CRM_NOTE" not in star and "TITLE" in star
    uf = ok(b24_emulator, "crm.deal.list", {"select": ["UF_*"], "filter": {"ID": sample[0]}})[0]
    assert uf == {"ID": str(sample[0]), "UF_CRM_NOTE": "hello"}
    default = ok(b24_emulator, "crm.deal.list", {"filter": {"ID": sample[0]}})[0]
    assert default["UF_CRM_NOTE"] == "hello" and "TITLE" in default
    assert ids_of(ok(b24_emulator, "crm.deal.list", {"filter": {"%UF_CRM_NOTE": "ell"}})) == [sample[0]]


def test_pages_of_fifty_with_total_and_next(b24_emulator: RunningEmulator) -> None:
    ids = add_deals(b24_emulator, [{"TITLE": f"D{i}"} for i in range(120)])
    seen: list[int] = []
    start: int | None = 0
    pages = []
    while start is not None:
        body = envelope(
            b24_emulator, "crm.deal.list", {"order": {"ID": "ASC"}, "select": ["ID"], "start": start}
        )
        pages.append((len(body["result"]), body["total"], body.get("next")))
        seen += ids_of(body["result"])
        start = body.get("next")
    assert pages == [(50, 120, 50), (50, 120, 100), (20, 120, None)]
    assert seen == ids
    beyond = envelope(b24_emulator, "crm.deal.list", {"start": 200})
    assert (beyond["result"], beyond["total"], "next" in beyond) == ([], 120, False)


def test_start_minus_one_skips_the_count_and_windows_by_id(b24_emulator: RunningEmulator) -> None:
    ids = add_deals(b24_emulator, [{"TITLE": f"D{i}"} for i in range(120)])
    body = envelope(b24_emulator, "crm.deal.list", {"order": {"ID": "ASC"}, "select": ["ID"], "start": -1})
    assert (body["total"], "next" in body, ids_of(body["result"])) == (0, False, ids[:50])
    window = envelope(
        b24_emulator, "crm.deal.list", {"order": {"ID": "ASC"}, "filter": {">ID": ids[99]}, "start": -1}
    )
    assert ids_of(window["result"]) == ids[100:]
    newest = ok(
        b24_emulator, "crm.deal.list", {"order": {"ID": "DESC"}, "filter": {"<ID": ids[10]}, "start": -1}
    )
    assert ids_of(newest) == list(reversed(ids[:10]))


def test_id_window_chained_inside_one_batch(b24_emulator: RunningEmulator) -> None:
    """The phpsdk/b24pysdk fast scan: start=-1 pages chained with $result[prev][49][ID]."""
    ids = add_deals(b24_emulator, [{"TITLE": f"D{i}"} for i in range(130)])
    cmd = {"c0": "crm.deal.list?order[ID]=ASC&filter[>ID]=0&start=-1&select[]=ID"}
    for index in (1, 2):
        cmd[f"c{index}"] = (
            f"crm.deal.list?order[ID]=ASC&filter[>ID]=$result[c{index - 1}][49][ID]&start=-1&select[]=ID"
        )
    result = ok(b24_emulator, "batch", {"cmd": cmd})
    assert [ids_of(result["result"][f"c{i}"]) for i in range(3)] == [ids[:50], ids[50:100], ids[100:]]
    assert result["result_total"] == {"c0": 0, "c1": 0, "c2": 0}
    assert result["result_next"] == []


def test_listing_ten_thousand_deals_by_id_windows_is_fast(b24_emulator: RunningEmulator) -> None:
    """20,000+ records/s in-process for the documented ID-window scan through batch."""
    add_deals(b24_emulator, [{"TITLE": f"Deal {i}", "OPPORTUNITY": i} for i in range(10_000)])
    portal = b24_emulator.portal
    caller = Caller("webhook", 1)
    best = 0.0
    for _ in range(3):
        started = time.perf_counter()
        seen: list[int] = []
        last = 0
        while True:
            cmd = {"c0": f"crm.deal.list?order[ID]=ASC&filter[>ID]={last}&start=-1"}
            for index in range(1, 50):
                cmd[f"c{index}"] = (
                    f"crm.deal.list?order[ID]=ASC&filter[>ID]=$result[c{index - 1}][49][ID]&start=-1"
                )
            pages = portal.execute(caller, "batch", {"cmd": cmd}).result["result"]
            chunk: list[int] = []
            for index in range(50):  # after a short page the rest chain from an unresolved reference
                page = pages[f"c{index}"]
                chunk += [int(r["ID"]) for r in page]
                if len(page) < 50:
                    break
            seen += chunk
            if len(chunk) < 50 * 50:
                break
            last = seen[-1]
        elapsed = time.perf_counter() - started
        assert seen == sorted(set(seen)) and len(seen) == 10_000
        best = max(best, len(seen) / elapsed)
    assert best >= 20_000, f"{best:.0f} records/s"
