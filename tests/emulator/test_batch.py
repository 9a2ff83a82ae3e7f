"""``batch`` over HTTP: limits, halt, ``$result`` references, sections and PHP array quirks."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest

LENGTH_EXCEEDED = {"error": "ERROR_BATCH_LENGTH_EXCEEDED", "error_description": "Max batch length exceeded"}
NOT_ALLOWED = {
    "error": "ERROR_BATCH_METHOD_NOT_ALLOWED",
    "error_description": "Method is not allowed for batch usage",
}
NOT_FOUND = {"error": "", "error_description": "Not found"}
SECTIONS = ["result", "result_error", "result_total", "result_next", "result_time"]


def batch(emulator, cmd, halt=0) -> Any:
    response = emulator.http.post(f"{emulator.webhook_url}batch", json={"halt": halt, "cmd": cmd})
    assert response.status_code == 200
    body = response.json()
    assert list(body) == ["result", "time"]
    assert list(body["result"]) == SECTIONS
    return body["result"]


def add_deals(emulator, count: int) -> None:
    for i in range(1, count + 1):
        emulator.portal.call("crm.deal.add", {"fields": {"TITLE": f"Deal {i}", "OPPORTUNITY": i}})


def titles(emulator) -> dict[int, str]:
    return {row["ID"]: row["TITLE"] for row in emulator.portal.table("crm_deal")}


# -- size and nesting -------------------------------------------------------------------------


def test_fifty_commands_run_and_the_rest_fail_with_batch_length_exceeded(b24_emulator):
    cmd = {f"add{i}": f"crm.deal.add?fields[TITLE]=T{i}" for i in range(53)}
    result = batch(b24_emulator, cmd)
    assert list(result["result"]) == [f"add{i}" for i in range(50)]
    assert result["result"]["add49"] == 50
    assert result["result_error"] == {f"add{i}": LENGTH_EXCEEDED for i in (50, 51, 52)}
    assert len(titles(b24_emulator)) == 50


def test_a_nested_batch_is_refused_and_the_other_commands_run(b24_emulator):
    result = batch(
        b24_emulator, {"a": "batch?cmd[x]=profile", "b": "profile", "c": "BATCH.json?cmd[0]=profile"}
    )
    assert result["result_error"] == {"a": NOT_ALLOWED, "c": NOT_ALLOWED}
    assert list(result["result"]) == ["b"]


def test_unknown_methods_and_non_string_commands_fail_per_command(b24_emulator):
    response = b24_emulator.http.post(
        f"{b24_emulator.webhook_url}batch", json={"cmd": {"a": "no.such.method", "b": {"method": "profile"}}}
    )
    errors = response.json()["result"]["result_error"]
    assert errors["a"] == {"error": "ERROR_METHOD_NOT_FOUND", "error_description": "Method not found!"}
    assert errors["b"]["error"] == "ERROR_ARGUMENT"


def test_cmd_that_is_not_an_array_is_a_400(b24_emulator):
    response = b24_emulator.http.post(f"{b24_emulator.webhook_url}batch", json={"cmd": "profile"})
    assert response.status_code == 400
    assert response.json()["error"] == "ERROR_ARGUMENT"


# -- halt -------------------------------------------------------------------------------------


@pytest.mark.parametrize("halt", [1, "1", True, "true", "Y"])
def test_halt_stops_at_the_first_failing_command(b24_emulator, halt):
    cmd = {
        "a": "crm.deal.add?fields[TITLE]=one",
        "b": "crm.deal.get?id=999",
        "c": "crm.deal.add?fields[TITLE]=two",
    }
    result = batch(b24_emulator, cmd, halt=halt)
    assert result["result"] == {"a": 1}
    assert result["result_error"] == {"b": NOT_FOUND}
    assert list(titles(b24_emulator).values()) == ["one"]


@pytest.mark.parametrize("halt", [0, "0", False, "false"])
def test_without_halt_every_command_runs(b24_emulator, halt):
    cmd = {
        "a": "crm.deal.add?fields[TITLE]=one",
        "b": "crm.deal.get?id=999",
        "c": "crm.deal.add?fields[TITLE]=two",
    }
    result = batch(b24_emulator, cmd, halt=halt)
    assert result["result"] == {"a": 1, "c": 2}
    assert result["result_error"] == {"b": NOT_FOUND}


# -- references -------------------------------------------------------------------------------


def test_result_references_read_scalars_fields_and_list_items(b24_emulator):
    add_deals(b24_emulator, 3)
    cmd = {
        "new": "crm.deal.add?fields[TITLE]=Source",
        "get": "crm.deal.get?id=$result[new]",
        "copy": "crm.deal.add?fields[TITLE]=Copy of $result[get][TITLE]&fields[OPPORTUNITY]=$result[get][ID]",
        "list": "crm.deal.list?filter[<ID]=3&order[ID]=DESC&select[]=ID&select[]=TITLE",
        "third": "crm.deal.get?id=$result[list][1][ID]",
    }
    result = batch(b24_emulator, cmd)
    assert result["result_error"] == []
    assert result["result"]["get"]["TITLE"] == "Source"
    copy = b24_emulator.portal.table("crm_deal").get(result["result"]["copy"])
    assert (copy["TITLE"], copy["OPPORTUNITY"]) == ("Copy of Source", 4.0)
    assert result["result"]["third"]["TITLE"] == "Deal 1"


def test_percent_encoded_references_are_decoded_before_substitution(b24_emulator):
    reference = quote("$result[b][ID]", safe="")
    assert reference == "%24result%5Bb%5D%5BID%5D"
    cmd = {
        "a": "crm.deal.add?fields%5BTITLE%5D=x%20y%26z",
        "b": "crm.deal.get?id=$result[a]",
        "c": f"crm.deal.update?id={reference}&fields%5BTITLE%5D=updated%20{reference}",
    }
    result = batch(b24_emulator, cmd)
    assert result["result"]["b"]["TITLE"] == "x y&z"
    assert result["result"]["c"] is True
    assert titles(b24_emulator) == {1: "updated 1"}


def test_an_unresolvable_reference_passes_through_as_literal_text(b24_emulator):
    cmd = {"a": "crm.deal.add?fields[TITLE]=$result[nothing][ID] and $result[a][0]"}
    result = batch(b24_emulator, cmd)
    assert titles(b24_emulator)[result["result"]["a"]] == "$result[nothing][ID] and $result[a][0]"


def test_result_total_and_result_next_can_be_referenced(b24_emulator):
    add_deals(b24_emulator, 120)
    cmd = {
        "page1": "crm.deal.list?select[]=ID&order[ID]=ASC",
        "page2": "crm.deal.list?select[]=ID&order[ID]=ASC&start=$result_next[page1]",
        "count": "crm.deal.add?fields[TITLE]=total $result_total[page1]",
    }
    result = batch(b24_emulator, cmd)
    assert result["result"]["page2"][0]["ID"] == "51"
    assert titles(b24_emulator)[121] == "total 120"


def test_form_encoded_batch_with_double_encoded_commands(b24_emulator):
    body = "halt=0&cmd[a]=" + quote("crm.deal.add?fields[TITLE]=" + quote("John&Martin"), safe="")
    body += "&cmd[b]=" + quote("crm.deal.get?id=$result[a]", safe="")
    response = b24_emulator.http.post(
        f"{b24_emulator.webhook_url}batch",
        content=body,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.json()["result"]["result"]["b"]["TITLE"] == "John&Martin"


def test_batch_sent_as_a_get_query_string(b24_emulator):
    add_deals(b24_emulator, 2)
    query = "cmd[x]=" + quote("crm.deal.get?id=2", safe="") + "&cmd[y]=" + quote("profile", safe="")
    response = b24_emulator.http.get(f"{b24_emulator.webhook_url}batch.json?{query}")
    assert response.json()["result"]["result"]["x"]["TITLE"] == "Deal 2"


# -- sections and PHP array quirks ------------------------------------------------------------


def test_sections_hold_total_next_and_time_per_command(b24_emulator):
    add_deals(b24_emulator, 60)
    cmd = {
        "first": "crm.deal.list?select[]=ID",
        "last": "crm.deal.list?select[]=ID&start=50",
        "window": "crm.deal.list?select[]=ID&start=-1",
        "one": "crm.deal.get?id=1",
    }
    result = batch(b24_emulator, cmd)
    assert result["result_total"] == {"first": 60, "last": 60, "window": 0}
    assert result["result_next"] == {"first": 50}
    assert list(result["result_time"]) == ["first", "last", "window", "one"]
    assert {"start", "finish", "duration", "processing", "operating", "operating_reset_at"} <= set(
        result["result_time"]["one"]
    )
    assert len(result["result"]["last"]) == 10


def test_empty_sections_are_empty_json_arrays(b24_emulator):
    result = batch(b24_emulator, {"a": "crm.deal.get?id=1", "b": "crm.deal.get?id=2"})
    assert result == {
        "result": [],
        "result_error": {"a": NOT_FOUND, "b": NOT_FOUND},
        "result_total": [],
        "result_next": [],
        "result_time": [],
    }
    empty = batch(b24_emulator, {})
    assert empty == {name: [] for name in SECTIONS}


def test_a_list_of_commands_gives_list_sections_while_gaps_give_objects(b24_emulator):
    add_deals(b24_emulator, 2)
    listed = batch(b24_emulator, ["crm.deal.get?id=1", "crm.deal.get?id=2"])
    assert [deal["TITLE"] for deal in listed["result"]] == ["Deal 1", "Deal 2"]
    assert isinstance(listed["result_time"], list)
    gapped = batch(b24_emulator, ["crm.deal.get?id=1", "crm.deal.get?id=9", "crm.deal.get?id=2"])
    assert list(gapped["result"]) == ["0", "2"]
    assert gapped["result_error"] == {"1": NOT_FOUND}
    numbered = batch(b24_emulator, {"1": "crm.deal.get?id=1", "2": "crm.deal.get?id=2"})
    assert list(numbered["result"]) == ["1", "2"]


def test_a_failed_command_of_a_zero_based_list_gives_a_list_error_section(b24_emulator):
    result = batch(b24_emulator, ["crm.deal.get?id=5", "profile"], halt=1)
    assert result["result_error"] == [NOT_FOUND]
    assert result["result"] == []


# -- the ID-window chain ----------------------------------------------------------------------


def id_window(emulator, extra: str = "", per_batch: int = 50) -> tuple[list[int], int]:
    """Read a whole table through chained ``start=-1`` commands; returns (ids, HTTP requests)."""
    ids: list[int] = []
    last = 0
    requests = 0
    while True:
        cmd = {}
        for n in range(per_batch):
            bound = str(last) if n == 0 else f"$result[c{n - 1}][49][ID]"
            cmd[f"c{n}"] = f"crm.deal.list?filter[>ID]={bound}{extra}&order[ID]=ASC&select[]=ID&start=-1"
        result = batch(emulator, cmd)["result"]
        requests += 1
        for n in range(per_batch):
            rows = result[f"c{n}"]
            ids.extend(int(row["ID"]) for row in rows)
            if len(rows) < 50:
                return ids, requests
        last = ids[-1]


def test_ten_thousand_deals_written_and_read_back_through_batches(b24_emulator):
    for first in range(1, 10_001, 50):
        cmd = {f"d{i}": f"crm.deal.add?fields[TITLE]=Deal%20{i}" for i in range(first, first + 50)}
        assert batch(b24_emulator, cmd)["result_error"] == []
    ids, requests = id_window(b24_emulator)
    assert ids == list(range(1, 10_001))
    assert requests == 5
    assert b24_emulator.portal.table("crm_deal").get(10_000)["TITLE"] == "Deal 10000"


def test_the_id_window_chain_with_a_filter_and_deleted_records(b24_emulator):
    add_deals(b24_emulator, 3_000)
    for deleted in range(2, 3_001, 7):
        b24_emulator.portal.call("crm.deal.delete", {"id": deleted})
    ids, _ = id_window(b24_emulator, "&filter[>OPPORTUNITY]=100", per_batch=10)
    expected = [i for i in range(101, 3_001) if (i - 2) % 7 != 0]
    assert ids == expected


def test_the_id_window_chain_with_percent_encoded_references_as_b24pysdk_sends_them(b24_emulator):
    add_deals(b24_emulator, 180)
    cmd = {
        str(n): "crm.deal.List?select[0]=ID&filter[%3EID]="
        + ("0" if n == 1 else quote(f"$result[{n - 1}][49][ID]", safe=""))
        + "&order[ID]=ASC&start=-1"
        for n in range(1, 6)
    }
    result = batch(b24_emulator, cmd)["result"]
    assert [len(result[str(n)]) for n in range(1, 6)] == [50, 50, 50, 30, 50]
    assert [row["ID"] for n in range(1, 5) for row in result[str(n)]] == [str(i) for i in range(1, 181)]
