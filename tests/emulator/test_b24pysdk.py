"""b24pysdk, unchanged, against ``b24kit emulator serve --tls`` (the SDK only speaks https)."""

from __future__ import annotations

import ssl
from collections.abc import Iterator

import httpx
import pytest
from b24pysdk import BitrixWebhook, Client
from b24pysdk.errors import BitrixAPIBadRequest, BitrixAPIQueryLimitExceeded

from tests.emulator.cli_server import Served, serve

DEALS = 1_340


def stage(i: int) -> str:
    return "WON" if i % 4 == 0 else "NEW"


@pytest.fixture(scope="module")
def tls_portal() -> Iterator[Served]:
    with serve("--tls") as served:
        yield served


@pytest.fixture(scope="module")
def http(tls_portal: Served) -> Iterator[httpx.Client]:
    context = ssl.create_default_context(cafile=tls_portal.cert)
    with httpx.Client(base_url=tls_portal.base_url, verify=context, timeout=30) as client:
        yield client


@pytest.fixture
def portal(tls_portal: Served, http: httpx.Client, monkeypatch: pytest.MonkeyPatch) -> Served:
    """A fresh portal holding 1,340 deals (seeded 50 per batch), trusted through REQUESTS_CA_BUNDLE."""
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tls_portal.cert))
    http.post("/_emulator/reset").raise_for_status()
    for first in range(1, DEALS + 1, 50):
        cmd = {
            f"d{i}": f"crm.deal.add?fields[TITLE]=Deal%20{i}&fields[STAGE_ID]={stage(i)}"
            f"&fields[OPPORTUNITY]={i}"
            for i in range(first, min(first + 50, DEALS + 1))
        }
        answer = http.post(f"{tls_portal.webhook_url}batch", json={"cmd": cmd}).json()
        assert answer["result"]["result_error"] == []
    return tls_portal


@pytest.fixture
def client(portal: Served) -> Client:
    return Client(
        BitrixWebhook(domain=f"127.0.0.1:{portal.port}", webhook_token="1/secret"),
        max_retries=3,
        initial_retry_delay=0.05,
        retry_delay_increment=0.05,
    )


def ids_of(rows) -> list[int]:
    return [int(row["ID"]) for row in rows]


def test_profile_over_tls(client):
    assert client.profile().result["ID"] == "1"


def test_as_list_returns_every_matching_deal(client):
    rows = client.crm.deal.list(select=["ID", "TITLE"], filter={"STAGE_ID": "WON"}).as_list().result
    assert sorted(ids_of(rows)) == [i for i in range(1, DEALS + 1) if stage(i) == "WON"]
    assert all(row["TITLE"] == f"Deal {row['ID']}" for row in rows)


def test_as_list_fast_walks_the_id_window_and_returns_each_deal_once(client, http, portal):
    request = client.crm.deal.list(select=["ID", "OPPORTUNITY"], filter={">OPPORTUNITY": 100}).as_list_fast()
    rows = list(request.result)
    assert ids_of(rows) == list(range(101, DEALS + 1))
    assert rows[0] == {"ID": "101", "OPPORTUNITY": "101.00"}
    calls = http.get("/_emulator/calls", params={"method": "crm.deal.list"}).json()
    assert all(c["params"].get("start") in (-1, "-1") for c in calls)


def test_as_list_fast_descending(client):
    rows = list(
        client.crm.deal.list(select=["ID"], filter={"<=ID": 120}).as_list_fast(descending=True).result
    )
    assert ids_of(rows) == list(range(120, 0, -1))


def test_a_batch_of_reads_and_writes(client, portal):
    batch = client.call_batch(
        {
            "get": client.crm.deal.get(3),
            "update": client.crm.deal.update(2, {"TITLE": "x y&z", "OPENED": True}),
            "reread": client.crm.deal.get(2),
            "list": client.crm.deal.list(select=["ID"], filter={"@ID": [5, 6, 7]}),
        }
    ).result
    assert batch.result["get"]["TITLE"] == "Deal 3"
    assert batch.result["update"] is True
    assert batch.result["reread"]["TITLE"] == "x y&z"
    assert ids_of(batch.result["list"]) == [5, 6, 7]
    assert batch.result_total == {"list": 3}
    assert not batch.result_error


def test_call_batches_over_sixty_requests_with_list_sections(client):
    batches = client.call_batches([client.crm.deal.get(i) for i in range(1, 61)]).result
    titles = [deal["TITLE"] for deal in batches.result.values()] if isinstance(batches.result, dict) else []
    assert titles == [f"Deal {i}" for i in range(1, 61)]


def test_a_missing_deal_raises_bad_request_with_the_portal_text(client):
    with pytest.raises(BitrixAPIBadRequest) as caught:
        client.crm.deal.get(999_999).result  # noqa: B018 - the property sends the request
    assert "Not found" in str(caught.value)


def test_query_limit_errors_are_retried_then_raised(client, http):
    http.post("/_emulator/faults", json={"method": "profile", "error": "QUERY_LIMIT_EXCEEDED", "times": 2})
    assert client.profile().result["ID"] == "1"
    http.post("/_emulator/faults", json={"method": "profile", "error": "QUERY_LIMIT_EXCEEDED", "times": 5})
    with pytest.raises(BitrixAPIQueryLimitExceeded):
        client.profile().call()
    http.delete("/_emulator/faults")
