"""call, batch and get_many through the emulator: plain results, order, names, per-command errors."""

from __future__ import annotations

import pytest

from b24kit.client import BatchResult, Client, Command, PortalConfig
from b24kit.errors import BatchError, ConfigError, InvalidRequest, NotFound, QueryLimitExceeded

from .conftest import config, fast_retry, http_calls, seed_deals


def test_call_returns_the_plain_result(emulator):
    with Client(config(emulator)) as b24:
        new_id = b24.call("crm.deal.add", {"fields": {"TITLE": "Plain", "OPPORTUNITY": 5}})
        assert isinstance(new_id, int)
        assert b24.call("crm.deal.get", {"id": new_id})["TITLE"] == "Plain"
        page = b24.request("crm.deal.list", {"select": ["ID"]})
    assert page.result == [{"ID": str(new_id)}] and page.total == 1 and page.next is None
    assert "operating" in page.time


def test_call_sends_json_with_booleans_as_y_n(emulator):
    with Client(config(emulator)) as b24:
        new_id = b24.call("crm.deal.add", {"fields": {"TITLE": "Flags", "OPENED": False}})
    sent = emulator.admin("calls?method=crm.deal.add")[0]["params"]
    assert sent == {"fields": {"TITLE": "Flags", "OPENED": "N"}}
    assert emulator.portal.table("crm_deal").get(new_id)["OPENED"] == "N"


def test_batch_of_any_size_keeps_order_and_names_in_chunks_of_50(emulator):
    commands = {f"deal-{i:03}": Command("crm.deal.add", {"fields": {"TITLE": f"B{i}"}}) for i in range(123)}
    with Client(config(emulator)) as b24:
        result = b24.batch(commands)
    assert result.ok and list(result.results) == list(commands)
    titles = {row["ID"]: row["TITLE"] for row in emulator.portal.table("crm_deal")}
    assert [titles[result.results[f"deal-{i:03}"]] for i in range(123)] == [f"B{i}" for i in range(123)]
    sizes = [len(c["params"]["cmd"]) for c in http_calls(emulator, "batch")]
    assert sorted(sizes) == [23, 50, 50]


def test_batch_reports_each_failed_command_and_keeps_the_others(emulator):
    seed_deals(emulator, 2)
    with Client(config(emulator)) as b24:
        result = b24.batch(
            [
                Command("crm.deal.get", {"id": 1}),
                Command("crm.deal.get", {"id": 404}),
                Command("crm.deal.get", {"id": 2}),
            ]
        )
    assert list(result.results) == ["0", "2"] and result.results["2"]["ID"] == "2"
    error = result.errors["1"]
    assert isinstance(error, NotFound) and (error.method, error.status, error.description) == (
        "crm.deal.get",
        None,
        "Not found",
    )
    with pytest.raises(BatchError) as raised:
        result.raise_for_errors()
    assert set(raised.value.errors) == {"1"} and set(raised.value.results) == {"0", "2"}


def test_batch_labels_that_php_would_list_go_out_renamed(emulator):
    seed_deals(emulator, 3)
    with Client(config(emulator)) as b24:
        result = b24.batch({"0": Command("crm.deal.get", {"id": 1}), "1": Command("crm.deal.get", {"id": 2})})
    assert {k: v["ID"] for k, v in result.results.items()} == {"0": "1", "1": "2"}
    assert list(http_calls(emulator, "batch")[0]["params"]["cmd"]) == ["c0", "c1"]


def test_batch_references_between_named_commands(emulator):
    seed_deals(emulator, 3)
    with Client(config(emulator)) as b24:
        result = b24.batch(
            {
                "first": Command("crm.deal.get", {"id": 2}),
                "same": Command("crm.deal.get", {"id": "$result[first][ID]"}),
            }
        )
    assert result.results["same"]["TITLE"] == "Deal 2"


def test_batch_with_halt_stops_at_the_first_error(emulator):
    seed_deals(emulator, 1)
    with Client(config(emulator)) as b24:
        result = b24.batch(
            {"a": Command("crm.deal.get", {"id": 9}), "b": Command("crm.deal.get", {"id": 1})}, halt=True
        )
    assert isinstance(result.errors["a"], NotFound) and "not run" in str(result.errors["b"])


def test_batch_commands_refused_for_limits_are_sent_again(emulator):
    seed_deals(emulator, 3)
    emulator.admin("faults", {"method": "crm.deal.get", "error": "QUERY_LIMIT_EXCEEDED", "times": 2})
    with Client(config(emulator, retry=fast_retry())) as b24:
        result = b24.batch([Command("crm.deal.get", {"id": i}) for i in (1, 2, 3)])
    assert result.ok and [r["ID"] for r in result.results.values()] == ["1", "2", "3"]
    assert len(http_calls(emulator, "batch")) == 2  # the two refused commands went again, together


def test_a_whole_batch_refused_by_the_bucket_is_repeated(emulator):
    emulator.admin("faults", {"method": "batch", "error": "QUERY_LIMIT_EXCEEDED", "times": 1})
    with Client(config(emulator, retry=fast_retry())) as b24:
        result = b24.batch([Command("crm.deal.add", {"fields": {"TITLE": "once"}})])
    assert result.ok and len(emulator.portal.table("crm_deal").rows) == 1


def test_a_batch_that_keeps_failing_gives_every_command_the_error(emulator):
    emulator.admin("faults", {"method": "batch", "error": "QUERY_LIMIT_EXCEEDED", "times": 50})
    with Client(config(emulator, retry=fast_retry())) as b24:
        result = b24.batch({"x": Command("profile"), "y": Command("profile")})
    assert set(result.errors) == {"x", "y"} and all(
        isinstance(e, QueryLimitExceeded) for e in result.errors.values()
    )


def test_batch_accepts_only_commands(emulator):
    with Client(config(emulator)) as b24, pytest.raises(TypeError, match="must be a Command"):
        b24.batch({"a": ("crm.deal.get", {"id": 1})})  # type: ignore[dict-item]


def test_get_many_fetches_each_distinct_id_once_in_batches(emulator):
    ids = seed_deals(emulator, 120)
    wanted = [*ids, *ids[:10], "5"]
    with Client(config(emulator)) as b24:
        by_id = b24.get_many("crm.deal.get", wanted)
    assert all(by_id[i]["ID"] == str(i) for i in ids)
    gets = [c for c in emulator.admin("calls?method=crm.deal.get") if c["via"] == "batch"]
    assert len(gets) == 120 and len(http_calls(emulator, "batch")) == 3


def test_get_many_with_ids_zero_one_two_and_extra_params(emulator):
    seed_deals(emulator, 2)
    with Client(config(emulator)) as b24, pytest.raises(BatchError) as raised:
        b24.get_many("crm.deal.get", [0, 1, 2])
    assert set(raised.value.results) == {1, 2} and isinstance(raised.value.errors[0], InvalidRequest)


def test_bad_urls_are_configuration_errors():
    for url in ("ftp://x/rest/1/a/", "http:///rest/1/a/", "https://portal.example.com/"):
        with pytest.raises(ConfigError):
            PortalConfig.from_url(url)
    with pytest.raises(ValueError, match="unknown limits preset"):
        PortalConfig.from_url("https://x/rest/1/abc/", limits="fast")


def test_empty_batch_is_empty(emulator):
    with Client(config(emulator)) as b24:
        assert b24.batch({}) == BatchResult()
    assert http_calls(emulator, "batch") == []
