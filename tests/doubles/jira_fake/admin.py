"""Webhook registration as Jira serves it (``/rest/webhooks/1.0/webhook``); the test API (``/_fake``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from .app import Call, Handler, Reply
from .errors import bad_request, not_found


async def register_webhook(call: Call) -> Reply:
    call.require()
    body = await call.body()
    url = body.get("url")
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise bad_request("The webhook URL is not valid.")
    events = tuple(body.get("events") or ())
    jql = (body.get("filters") or {}).get("issue-related-events-section") or None
    hook = call.webhooks.register(url, body.get("secret"), events, jql, str(body.get("name") or ""))
    return Reply(201, hook.to_json(call.state.base_url))


def list_webhooks(call: Call) -> list[Any]:
    call.require()
    return [h.to_json(call.state.base_url) for h in call.webhooks.hooks.values()]


def get_webhook(call: Call) -> Any:
    call.require()
    hook = call.webhooks.hooks.get(int(call.arg("id")))
    if hook is None:
        raise not_found("Webhook not found")
    return hook.to_json(call.state.base_url)


def delete_webhook(call: Call) -> Reply:
    call.require()
    if int(call.arg("id")) not in call.webhooks.hooks:
        raise not_found("Webhook not found")
    call.webhooks.unregister(int(call.arg("id")))
    return Reply(204)


async def fake_clock(call: Call) -> Any:
    """``{"now": ISO-8601 with offset}`` sets the clock; ``{"advance_seconds": n}`` moves it."""
    body = await call.body()
    if "now" in body:
        call.state.clock.set(datetime.fromisoformat(str(body["now"])))
    if "advance_seconds" in body:
        call.state.clock.advance(float(body["advance_seconds"]))
    return {"now": call.state.clock.now().isoformat()}


async def fake_time_zone(call: Call) -> Any:
    body = await call.body()
    call.state.catalog.time_zone = str(body["time_zone"])
    return {"time_zone": call.state.catalog.time_zone}


async def fake_drop(call: Call) -> Any:
    """``{"drop": true}`` loses every delivery, ``{"drop": 2}`` the next two, ``{"drop": false}`` none."""
    drop = (await call.body()).get("drop")
    if drop is False:
        call.webhooks.resume()
    elif drop is True or drop is None:
        call.webhooks.drop()
    else:
        call.webhooks.drop(int(drop))
    return {"drop": drop}


def fake_requests(call: Call) -> Any:
    return dict(call.counts)


def fake_deliveries(call: Call) -> list[Any]:
    return [
        {
            "webhook": d.webhook,
            "identifier": d.identifier,
            "event": d.event,
            "attempts": d.attempts,
            "status": d.status,
            "dropped": d.dropped,
            "error": d.error,
        }
        for d in call.webhooks.deliveries
    ]


ROUTES: list[tuple[str, str, Handler]] = [
    ("GET", "/rest/webhooks/1.0/webhook", list_webhooks),
    ("POST", "/rest/webhooks/1.0/webhook", register_webhook),
    ("GET", "/rest/webhooks/1.0/webhook/{id:int}", get_webhook),
    ("DELETE", "/rest/webhooks/1.0/webhook/{id:int}", delete_webhook),
    ("POST", "/_fake/clock", fake_clock),
    ("POST", "/_fake/time_zone", fake_time_zone),
    ("POST", "/_fake/webhooks/drop", fake_drop),
    ("GET", "/_fake/requests", fake_requests),
    ("GET", "/_fake/deliveries", fake_deliveries),
]
