"""The offline event queue: event.bind(event_type=offline) and event.offline.get/clear/error/list."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

import httpx
import pytest

from b24kit.testing import RunningEmulator

from .event_receiver import app_call, assert_error, hook_call, install


def _bind_offline(emulator: RunningEmulator, token: str, *names: str, connector: str | None = None) -> None:
    for name in names:
        params: dict[str, Any] = {"event": name, "event_type": "offline"}
        if connector:
            params["auth_connector"] = connector
        response = app_call(emulator, token, "event.bind", params)
        assert response.json()["result"] is True, response.text


def _deal(emulator: RunningEmulator, title: str = "Deal", **extra: Any) -> int:
    response = hook_call(emulator, "crm.deal.add", {"fields": {"TITLE": title}, **extra})
    result: int = response.json()["result"]
    return result


def _offline(emulator: RunningEmulator, token: str, method: str, params: dict[str, Any] | None = None) -> Any:
    response = app_call(emulator, token, method, params)
    assert response.status_code == 200, response.text
    return response.json()


def _ids(events: list[dict[str, Any]]) -> list[int]:
    return [int(e["ID"]) for e in events]


def test_offline_binding_shows_in_event_get(b24_emulator, app):
    _bind_offline(b24_emulator, app["access_token"], "ONCRMDEALADD")
    _bind_offline(b24_emulator, app["access_token"], "ONCRMDEALUPDATE", connector="erp")
    assert _offline(b24_emulator, app["access_token"], "event.get")["result"] == [
        {"event": "ONCRMDEALADD", "connector_id": "", "offline": 1},
        {"event": "ONCRMDEALUPDATE", "connector_id": "erp", "offline": 1},
    ]
    removed = app_call(
        b24_emulator, app["access_token"], "event.unbind", {"event": "ONCRMDEALADD", "event_type": "offline"}
    )
    assert removed.json()["result"] == {"count": 1}


def test_a_hundred_updates_of_one_deal_leave_one_row(b24_emulator, app):
    token = app["access_token"]
    _bind_offline(b24_emulator, token, "ONCRMDEALADD", "ONCRMDEALUPDATE")
    deal_id = _deal(b24_emulator)
    other_id = _deal(b24_emulator, "Other")
    for n in range(100):
        hook_call(b24_emulator, "crm.deal.update", {"id": deal_id, "fields": {"OPPORTUNITY": n}})
    listing = _offline(b24_emulator, token, "event.offline.list")
    assert listing["total"] == 3
    names = [(e["EVENT_NAME"], e["EVENT_DATA"]["FIELDS"]["ID"]) for e in listing["result"]]
    assert names == [
        ("ONCRMDEALADD", str(deal_id)),
        ("ONCRMDEALADD", str(other_id)),
        ("ONCRMDEALUPDATE", str(deal_id)),
    ]
    # list changes nothing
    assert _offline(b24_emulator, token, "event.offline.list")["total"] == 3


def test_get_returns_the_documented_rows_and_clears_them(b24_emulator, app):
    token = app["access_token"]
    _bind_offline(b24_emulator, token, "ONCRMDEALADD")
    deal_id = _deal(b24_emulator)
    answer = _offline(b24_emulator, token, "event.offline.get")["result"]
    assert answer["process_id"] is None
    [event] = answer["events"]
    assert set(event) == {"ID", "TIMESTAMP_X", "EVENT_NAME", "EVENT_DATA", "EVENT_ADDITIONAL", "MESSAGE_ID"}
    assert event["EVENT_NAME"] == "ONCRMDEALADD"
    assert event["EVENT_DATA"] == {"FIELDS": {"ID": str(deal_id)}}
    assert event["EVENT_ADDITIONAL"] == {"user_id": "1"}
    assert re.fullmatch(r"[0-9a-f]{32}", event["MESSAGE_ID"])
    assert isinstance(event["ID"], str)
    assert datetime.fromisoformat(event["TIMESTAMP_X"]).utcoffset() is not None
    assert _offline(b24_emulator, token, "event.offline.get")["result"] == {"process_id": None, "events": []}


def test_changes_carrying_the_binding_connector_are_not_queued(b24_emulator, app):
    token = app["access_token"]
    _bind_offline(b24_emulator, token, "ONCRMDEALUPDATE", connector="erp")
    deal_id = _deal(b24_emulator)
    # the app's own write, made with the same auth_connector, does not come back to it
    app_call(
        b24_emulator,
        token,
        "crm.deal.update",
        {"id": deal_id, "fields": {"TITLE": "x"}, "auth_connector": "erp"},
    )
    assert _offline(b24_emulator, token, "event.offline.list", {"auth_connector": "erp"})["total"] == 0
    hook_call(b24_emulator, "crm.deal.update", {"id": deal_id, "fields": {"TITLE": "y"}})
    # the connector's queue is separate: without the key the reader sees only events without a source
    assert _offline(b24_emulator, token, "event.offline.list")["total"] == 0
    answer = _offline(b24_emulator, token, "event.offline.get", {"auth_connector": "erp"})["result"]
    assert [e["EVENT_NAME"] for e in answer["events"]] == ["ONCRMDEALUPDATE"]


def test_clear_zero_reserves_a_batch_hidden_from_other_readers(b24_emulator, app):
    token = app["access_token"]
    _bind_offline(b24_emulator, token, "ONCRMCOMPANYADD")
    for n in range(5):
        hook_call(b24_emulator, "crm.company.add", {"fields": {"TITLE": f"Company {n}"}})
    first = _offline(b24_emulator, token, "event.offline.get", {"clear": 0, "limit": 3})["result"]
    assert re.fullmatch(r"[a-z0-9]{32}", first["process_id"])
    assert len(first["events"]) == 3
    second = _offline(b24_emulator, token, "event.offline.get", {"clear": 0})["result"]
    assert len(second["events"]) == 2
    assert not set(_ids(first["events"])) & set(_ids(second["events"]))
    assert _offline(b24_emulator, token, "event.offline.get", {"clear": 0})["result"]["events"] == []
    listed = _offline(b24_emulator, token, "event.offline.list")["result"]
    assert {e["PROCESS_ID"] for e in listed} == {first["process_id"], second["process_id"]}
    assert {e["ERROR"] for e in listed} == {"0"}
    # re-reading a batch by its process_id returns the same rows
    again = _offline(
        b24_emulator, token, "event.offline.get", {"clear": 0, "process_id": first["process_id"]}
    )
    assert again["result"] == first
    # clear: by id, then by message id, then the rest of the batch
    one, two, three = first["events"]
    assert (
        _offline(
            b24_emulator, token, "event.offline.clear", {"process_id": first["process_id"], "id": [one["ID"]]}
        )["result"]
        is True
    )
    _offline(
        b24_emulator,
        token,
        "event.offline.clear",
        {"process_id": first["process_id"], "message_id": [two["MESSAGE_ID"]]},
    )
    left = _offline(b24_emulator, token, "event.offline.list")["result"]
    assert sorted(_ids(left)) == sorted([int(three["ID"]), *_ids(second["events"])])
    _offline(b24_emulator, token, "event.offline.clear", {"process_id": second["process_id"]})
    assert _ids(_offline(b24_emulator, token, "event.offline.list")["result"]) == [int(three["ID"])]


def test_get_with_process_id_and_clear_deletes_the_whole_batch(b24_emulator, app):
    token = app["access_token"]
    _bind_offline(b24_emulator, token, "ONCRMCONTACTADD")
    for n in range(4):
        hook_call(b24_emulator, "crm.contact.add", {"fields": {"NAME": f"C{n}"}})
    batch = _offline(b24_emulator, token, "event.offline.get", {"clear": 0})["result"]
    answer = _offline(
        b24_emulator, token, "event.offline.get", {"process_id": batch["process_id"], "limit": 1}
    )
    assert answer["result"]["process_id"] == batch["process_id"]
    assert len(answer["result"]["events"]) == 1
    assert _offline(b24_emulator, token, "event.offline.list")["total"] == 0


def test_a_change_to_a_reserved_object_queues_a_new_row(b24_emulator, app):
    token = app["access_token"]
    _bind_offline(b24_emulator, token, "ONCRMDEALUPDATE")
    deal_id = _deal(b24_emulator)
    hook_call(b24_emulator, "crm.deal.update", {"id": deal_id, "fields": {"TITLE": "a"}})
    batch = _offline(b24_emulator, token, "event.offline.get", {"clear": 0})["result"]
    hook_call(b24_emulator, "crm.deal.update", {"id": deal_id, "fields": {"TITLE": "b"}})
    hook_call(b24_emulator, "crm.deal.update", {"id": deal_id, "fields": {"TITLE": "c"}})
    rows = _offline(b24_emulator, token, "event.offline.list")["result"]
    assert [e["PROCESS_ID"] for e in rows] == [batch["process_id"], ""]
    assert rows[0]["MESSAGE_ID"] == rows[1]["MESSAGE_ID"]


def test_parallel_readers_get_disjoint_sets(b24_emulator, app):
    token = app["access_token"]
    _bind_offline(b24_emulator, token, "ONCRMLEADADD")
    for n in range(60):
        hook_call(b24_emulator, "crm.lead.add", {"fields": {"TITLE": f"Lead {n}"}})

    def read(_: int) -> list[int]:
        with httpx.Client(timeout=30) as client:
            body = {"clear": 0, "limit": 7, "auth": token}
            response = client.post(f"{b24_emulator.base_url}/rest/event.offline.get", json=body)
            return _ids(response.json()["result"]["events"])

    with ThreadPoolExecutor(max_workers=8) as pool:
        batches = list(pool.map(read, range(10)))
    seen = [i for batch in batches for i in batch]
    assert len(seen) == len(set(seen)) == 60
    assert all(len(b) <= 7 for b in batches)


def test_errors_leave_the_batch_and_are_read_with_error_1(b24_emulator, app):
    token = app["access_token"]
    _bind_offline(b24_emulator, token, "ONCRMDEALADD")
    first, second = _deal(b24_emulator, "one"), _deal(b24_emulator, "two")
    batch = _offline(b24_emulator, token, "event.offline.get", {"clear": 0})["result"]
    failed = next(e for e in batch["events"] if e["EVENT_DATA"]["FIELDS"]["ID"] == str(first))
    marked = app_call(
        b24_emulator,
        token,
        "event.offline.error",
        {"process_id": batch["process_id"], "message_id": [failed["MESSAGE_ID"]]},
    )
    assert marked.json()["result"] is True
    _offline(b24_emulator, token, "event.offline.clear", {"process_id": batch["process_id"]})
    [row] = _offline(b24_emulator, token, "event.offline.list")["result"]
    assert (row["ID"], row["PROCESS_ID"], row["ERROR"]) == (failed["ID"], "", "1")
    assert _offline(b24_emulator, token, "event.offline.get")["result"]["events"] == []
    errors = _offline(b24_emulator, token, "event.offline.get", {"error": 1})["result"]["events"]
    assert [e["EVENT_DATA"]["FIELDS"]["ID"] for e in errors] == [str(first)]
    assert second != first
    assert _offline(b24_emulator, token, "event.offline.list")["total"] == 0


def test_filter_order_and_limit(b24_emulator, app):
    token = app["access_token"]
    _bind_offline(b24_emulator, token, "ONCRMDEALADD", "ONCRMCONTACTADD")
    deals = [_deal(b24_emulator, f"D{n}") for n in range(3)]
    hook_call(b24_emulator, "crm.contact.add", {"fields": {"NAME": "C"}})
    rows = _offline(b24_emulator, token, "event.offline.list")["result"]
    by_name = _offline(
        b24_emulator, token, "event.offline.list", {"filter": {"=EVENT_NAME": "ONCRMCONTACTADD"}}
    )
    assert [e["EVENT_NAME"] for e in by_name["result"]] == ["ONCRMCONTACTADD"]
    newer = _offline(
        b24_emulator, token, "event.offline.list", {"filter": {">ID": rows[1]["ID"]}, "order": {"ID": "DESC"}}
    )
    assert _ids(newer["result"]) == [int(rows[3]["ID"]), int(rows[2]["ID"])]
    by_message = _offline(
        b24_emulator,
        token,
        "event.offline.get",
        {"filter": {"MESSAGE_ID": rows[0]["MESSAGE_ID"]}, "clear": 0},
    )["result"]
    assert _ids(by_message["events"]) == [int(rows[0]["ID"])]
    newest = _offline(b24_emulator, token, "event.offline.get", {"order": {"ID": "desc"}, "limit": 2})[
        "result"
    ]
    assert [e["EVENT_DATA"]["FIELDS"]["ID"] for e in newest["events"]][1] == str(deals[2])
    since = _offline(
        b24_emulator, token, "event.offline.list", {"filter": {">=TIMESTAMP_X": rows[0]["TIMESTAMP_X"]}}
    )
    assert since["total"] == 2  # the other two were read above


@pytest.mark.parametrize(
    ("method", "params", "text"),
    [
        ("event.offline.get", {"limit": 0}, "Value must be positive integer"),
        ("event.offline.get", {"filter": {"!ID": 1}}, "Filter operation not allowed: !"),
        ("event.offline.get", {"filter": {"PROCESS_ID": "x"}}, "Filter field not allowed: PROCESS_ID"),
        (
            "event.offline.get",
            {"filter": {"=ID": [1, 2]}},
            "The value of an argument '=ID' has an invalid type",
        ),
        ("event.offline.get", {"filter": "ID=1"}, "The filter is not an array."),
        ("event.offline.get", {"order": "ID"}, "The order is not an array."),
        ("event.offline.get", {"order": {"USER": "ASC"}}, "Order field not allowed: USER"),
        ("event.offline.get", {"order": {"ID": "UP"}}, "Order direction should be one of {ASC|DESC}"),
        ("event.offline.list", {"filter": {"%EVENT_NAME": "DEAL"}}, "Filter operation not allowed: %"),
        ("event.offline.clear", {}, "Argument 'PROCESS_ID' is null or empty"),
        (
            "event.offline.clear",
            {"process_id": "p", "message_id": ["short"]},
            "Value must be array of MESSAGE_ID values",
        ),
        ("event.offline.clear", {"process_id": "p", "id": "5"}, "Value must be array of integers"),
        ("event.offline.clear", {"process_id": "p", "id": [0]}, "Value must be array of integers"),
        ("event.offline.error", {"message_id": ["x"]}, "Argument 'PROCESS_ID' is null or empty"),
        (
            "event.offline.error",
            {"process_id": "p", "message_id": "x"},
            "Value must be array of MESSAGE_ID values",
        ),
    ],
)
def test_argument_errors(b24_emulator, app, method, params, text):
    assert_error(app_call(b24_emulator, app["access_token"], method, params), 400, "ERROR_ARGUMENT", text)


@pytest.mark.parametrize(
    "method", ["event.offline.get", "event.offline.clear", "event.offline.error", "event.offline.list"]
)
def test_queue_methods_need_an_app_and_an_admin(b24_emulator, method):
    params = {"process_id": "p", "message_id": []}
    assert_error(
        hook_call(b24_emulator, method, params),
        403,
        "WRONG_AUTH_TYPE",
        "Current authorization type is denied for this method",
    )
    from b24kit.emulator import seed

    user_id = seed.add_user(b24_emulator.portal, {"NAME": "Olga"})
    token = install(b24_emulator, client_id="local.user", user_id=user_id)["access_token"]
    assert_error(app_call(b24_emulator, token, method, params), 403, "ACCESS_DENIED", "Access denied!")


def test_list_pages_by_fifty(b24_emulator, app):
    token = app["access_token"]
    _bind_offline(b24_emulator, token, "ONCRMLEADADD")
    for n in range(55):
        hook_call(b24_emulator, "crm.lead.add", {"fields": {"TITLE": f"L{n}"}})
    first = _offline(b24_emulator, token, "event.offline.list")
    assert (len(first["result"]), first["total"], first["next"]) == (50, 55, 50)
    last = _offline(b24_emulator, token, "event.offline.list", {"start": 50})
    assert (len(last["result"]), last["total"]) == (5, 55)
    assert "next" not in last


def test_onofflineevent_notifies_at_most_once_per_min_timeout(b24_emulator, app, receiver):
    token = app["access_token"]
    _bind_offline(b24_emulator, token, "ONCRMDEALADD")
    bound = app_call(
        b24_emulator,
        token,
        "event.bind",
        {"event": "ONOFFLINEEVENT", "handler": receiver.url(), "options": {"minTimeout": 60}},
    )
    assert bound.json()["result"] is True
    _deal(b24_emulator, "a")
    _deal(b24_emulator, "b")
    b24_emulator.flush()
    assert len(receiver.posts) == 1
    b24_emulator.admin("clock", {"advance_seconds": 61})
    _deal(b24_emulator, "c")
    b24_emulator.flush()
    assert len(receiver.posts) == 2
    post = receiver.posts[0]
    keys = {k for k, _ in post.pairs}
    assert post.form["event"] == "ONOFFLINEEVENT"
    assert not any(k.startswith("data") for k in keys)  # data: [] has no form keys, as PHP encodes it
    assert {"auth[refresh_token]", "auth[application_token]", "auth[access_token]"} <= keys
    assert post.form["auth[application_token]"] == app["application_token"]


def test_min_timeout_zero_sends_one_notification_per_call(b24_emulator, app, receiver):
    token = app["access_token"]
    _bind_offline(b24_emulator, token, "ONCRMDEALADD", "ONCRMDEALUPDATE")
    app_call(
        b24_emulator,
        token,
        "event.bind",
        {"event": "ONOFFLINEEVENT", "handler": receiver.url(), "options": {"minTimeout": 0}},
    )
    _deal(b24_emulator)  # one call, one row
    hook_call(
        b24_emulator,
        "batch",
        {"cmd": {"a": "crm.deal.add?fields[TITLE]=x", "b": "crm.deal.add?fields[TITLE]=y"}},
    )
    b24_emulator.flush()
    assert len(receiver.posts) == 2


def test_reserved_rows_expire_and_empty_process_id_clears_the_unreserved_queue(b24_emulator, app):
    token = app["access_token"]
    _bind_offline(b24_emulator, token, "ONCRMDEALADD")
    _deal(b24_emulator, "reserved")
    _offline(b24_emulator, token, "event.offline.get", {"clear": 0})
    _deal(b24_emulator, "pending")
    # the portal deletes with PROCESS_ID='' when process_id is given empty: the unreserved queue goes
    _offline(b24_emulator, token, "event.offline.clear", {"process_id": ""})
    assert [e["PROCESS_ID"] != "" for e in _offline(b24_emulator, token, "event.offline.list")["result"]] == [
        True
    ]
    b24_emulator.admin("clock", {"advance_seconds": 2_952_001})
    refreshed = httpx.get(
        f"{b24_emulator.base_url}/oauth/token/",
        params={
            "grant_type": "refresh_token",
            "client_id": "local.app.1",
            "client_secret": "s3cret",
            "refresh_token": app["refresh_token"],
        },
    ).json()
    assert _offline(b24_emulator, refreshed["access_token"], "event.offline.list")["total"] == 0
