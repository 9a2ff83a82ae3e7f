"""The admin API under ``/_emulator/``: steer the emulator from tests, benchmarks and demos."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from . import bizproc, oauth
from .errors import RestError
from .faults import Fault
from .portal import Portal
from .wire import dump

Endpoint = Callable[[Request], Awaitable[Response]]


def _json(data: Any, status: int = 200) -> Response:
    return Response(dump(data), status, media_type="application/json")


def _bad(message: str) -> Response:
    return _json({"error": "BAD_REQUEST", "error_description": message}, 400)


async def _body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip():
        return {}
    data = orjson.loads(raw)
    if not isinstance(data, dict):
        raise ValueError("the body must be a JSON object")
    return data


def _endpoint(handler: Callable[[Portal, dict[str, Any], Request], Any]) -> Endpoint:
    async def run(request: Request) -> Response:
        portal: Portal = request.app.state.portal
        try:
            body = await _body(request) if request.method == "POST" else {}
            result = handler(portal, body, request)
            if isinstance(result, Awaitable):
                result = await result
        except (ValueError, KeyError, TypeError, orjson.JSONDecodeError) as exc:
            return _bad(str(exc))
        except RestError as exc:
            return _json(exc.body(), exc.status)
        return _json(result)

    return run


def _apps(portal: Portal, body: dict[str, Any], request: Request) -> dict[str, Any]:
    client_id = str(body.get("client_id") or "").strip()
    client_secret = str(body.get("client_secret") or "").strip()
    if not client_id or not client_secret:
        raise ValueError("client_id and client_secret are required")
    handler = body.get("handler")
    user_id = int(body.get("user_id") or 1)
    return oauth.install_app(portal, client_id, client_secret, str(handler) if handler else None, user_id)


def _automation(portal: Portal, body: dict[str, Any], request: Request) -> dict[str, Any]:
    if request.method == "GET":
        return {"placements": list(portal.table("automation"))}
    return bizproc.place(portal, body)


def _notifications(portal: Portal, body: dict[str, Any], request: Request) -> list[dict[str, Any]]:
    return list(portal.table("notifications"))


def _reset(portal: Portal, body: dict[str, Any], request: Request) -> dict[str, Any]:
    portal.reset()
    return {"result": True}


def _calls(portal: Portal, body: dict[str, Any], request: Request) -> list[dict[str, Any]]:
    wanted = request.query_params.get("method")
    since = float(request.query_params.get("since", 0) or 0)
    return [c for c in portal.calls if (not wanted or c["method"] == wanted.lower()) and c["ts"] >= since]


def _faults(portal: Portal, body: dict[str, Any], request: Request) -> Any:
    if request.method == "DELETE":
        portal.faults.clear()
        return {"result": True}
    if request.method == "GET":
        return portal.faults.describe()
    method = str(body.get("method") or "").strip().lower()
    error = str(body.get("error") or "").strip()
    if not method or not error:
        raise ValueError("method and error are required")
    fault = Fault(
        method,
        error,
        int(body.get("times", 1)),
        int(body.get("status", 400)),
        float(body.get("delay", 30.0)),
        body.get("description"),
    )
    portal.faults.add(fault)
    return {"result": True, "pending": portal.faults.describe()}


def _clock(portal: Portal, body: dict[str, Any], request: Request) -> dict[str, Any]:
    if request.method == "POST":
        if "freeze" in body:
            portal.clock.freeze(bool(body["freeze"]))
        portal.advance_clock(float(body.get("advance_seconds", 0)))
    return {"time": portal.clock.time(), "iso": portal.clock.iso(), "offset": portal.clock.offset}


def _limits(portal: Portal, body: dict[str, Any], request: Request) -> dict[str, Any]:
    if request.method == "POST":
        if "rate_limit" in body:
            portal.set_rate_limit(str(body["rate_limit"]))
        if "operating_limit" in body:
            portal.operating.limit = float(body["operating_limit"])
        if "operating_cost" in body:
            costs = body["operating_cost"] or {}
            portal.operating.costs = {str(k).lower(): float(v) for k, v in costs.items()}
        if body.get("reset_usage"):
            portal.operating.reset()
    bucket = portal.bucket
    return {
        "rate_limit": portal.settings.rate_limit,
        "bucket_level": None if bucket is None else round(bucket.burst - bucket.headroom(), 3),
        "operating_limit": portal.operating.limit,
        "operating_cost": portal.operating.costs,
    }


def _stats(portal: Portal, body: dict[str, Any], request: Request) -> dict[str, Any]:
    if request.method == "DELETE":
        portal.stats = {"requests": 0}
        portal.calls.clear()
    return dict(portal.stats)


def _deliveries(portal: Portal, body: dict[str, Any], request: Request) -> Any:
    if request.method == "DELETE":
        portal.deliveries.clear()
        return {"result": True}
    return list(portal.deliveries)


async def _flush(portal: Portal, body: dict[str, Any], request: Request) -> dict[str, Any]:
    sender = getattr(portal, "sender", None)
    done = True if sender is None else await sender.flush(float(body.get("timeout", 30)))
    return {"result": done, "pending": len(portal.outbox)}


def _workflows(portal: Portal, body: dict[str, Any], request: Request) -> list[dict[str, Any]]:
    return list(portal.table("workflows"))


def _outgoing(portal: Portal, body: dict[str, Any], request: Request) -> dict[str, Any]:
    handler = str(body.get("handler") or "").strip()
    names = [str(e).upper() for e in body.get("events") or []]
    if not handler or not names:
        raise ValueError("handler and events are required")
    token = str(body.get("application_token") or "") or __import__("secrets").token_hex(16)
    table = portal.table("outgoing_webhooks")
    row: dict[str, Any] = {"handler": handler, "events": names, "application_token": token}
    row_id = table.insert(row)
    row["ID"] = row_id
    table.save(row_id, row)
    return row


def _state(portal: Portal, body: dict[str, Any], request: Request) -> Any:
    name = request.path_params["table"]
    if name not in portal.store.tables:
        raise ValueError(f"no table '{name}'")
    return list(portal.table(name))


def routes() -> list[Route]:
    return [
        Route("/_emulator/apps", _endpoint(_apps), methods=["POST"]),
        Route("/_emulator/automation", _endpoint(_automation), methods=["GET", "POST"]),
        Route("/_emulator/notifications", _endpoint(_notifications), methods=["GET"]),
        Route("/_emulator/reset", _endpoint(_reset), methods=["POST"]),
        Route("/_emulator/calls", _endpoint(_calls), methods=["GET"]),
        Route("/_emulator/faults", _endpoint(_faults), methods=["GET", "POST", "DELETE"]),
        Route("/_emulator/clock", _endpoint(_clock), methods=["GET", "POST"]),
        Route("/_emulator/limits", _endpoint(_limits), methods=["GET", "POST"]),
        Route("/_emulator/stats", _endpoint(_stats), methods=["GET", "DELETE"]),
        Route("/_emulator/deliveries", _endpoint(_deliveries), methods=["GET", "DELETE"]),
        Route("/_emulator/deliveries/flush", _endpoint(_flush), methods=["POST"]),
        Route("/_emulator/workflows", _endpoint(_workflows), methods=["GET"]),
        Route("/_emulator/outgoing-webhooks", _endpoint(_outgoing), methods=["POST"]),
        Route("/_emulator/state/{table}", _endpoint(_state), methods=["GET"]),
    ]
