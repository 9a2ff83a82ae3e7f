"""The HTTP face of the emulator: REST calls, the OAuth token endpoint and the admin API."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from . import admin, delivery, oauth
from .errors import RestError, method_not_found
from .portal import Portal
from .registry import Caller
from .wire import WireError, build_nested, dump, parse_json, parse_query

log = logging.getLogger(__name__)

MAX_BODY = 32 * 1024 * 1024
TRANSPORT_PARAMS = ("auth", "bx24_request_id", "auth_connector")


def json_response(data: Any, status: int = 200) -> Response:
    return Response(dump(data), status, media_type="application/json; charset=utf-8")


def error_response(exc: RestError) -> Response:
    return json_response(exc.body(), exc.status)


async def read_params(request: Request) -> dict[str, Any]:
    """Query string merged with the body (JSON, form or multipart); the body wins."""
    params = parse_query(request.url.query) if request.url.query else {}
    if request.method not in ("POST", "PUT"):
        return params
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype == "multipart/form-data":
        form = await request.form()
        body = build_nested((k, v if isinstance(v, str) else "") for k, v in form.multi_items())
    else:
        raw = await request.body()
        if len(raw) > MAX_BODY:
            raise WireError("The request body is too large")
        if ctype == "application/json" or raw.lstrip()[:1] in (b"{", b"["):
            body = parse_json(raw)
        else:
            try:
                body = parse_query(raw.decode("utf-8"))
            except UnicodeDecodeError as exc:
                raise WireError("The request body is not UTF-8") from exc
    params.update(body)
    return params


def parse_rest_path(path: str) -> tuple[tuple[str, str] | None, str]:
    """``1/secret/crm.deal.list.json`` -> ``(("1", "secret"), "crm.deal.list")``."""
    parts = [p for p in path.split("/") if p]
    if len(parts) == 3:
        webhook: tuple[str, str] | None = (parts[0], parts[1])
        name = parts[2]
    elif len(parts) == 1:
        webhook, name = None, parts[0]
    else:
        raise method_not_found()
    for suffix in (".json", ".xml"):
        if name.lower().endswith(suffix):
            name = name[: -len(suffix)]
    if not name:
        raise method_not_found()
    return webhook, name.lower()


def authenticate(portal: Portal, webhook: tuple[str, str] | None, params: dict[str, Any]) -> Caller:
    connector = params.get("auth_connector")
    connector = str(connector) if connector not in (None, "") else None
    if webhook is not None:
        caller = portal.webhook_caller(*webhook)
        return Caller(caller.kind, caller.user_id, None, connector)
    token = params.get("auth")
    if not isinstance(token, str) or not token:
        raise RestError(401, "NO_AUTH_FOUND", "Wrong authorization data")
    return portal.token_caller(token, connector)


def batch_methods(params: dict[str, Any]) -> list[str]:
    cmd = params.get("cmd")
    commands = cmd.values() if isinstance(cmd, dict) else cmd if isinstance(cmd, list) else []
    return [str(c).split("?", 1)[0].lower() for c in commands]


async def rest(request: Request) -> Response:
    portal: Portal = request.app.state.portal
    portal.stats["requests"] += 1
    try:
        webhook, name = parse_rest_path(request.path_params["path"])
        params = await read_params(request)
        caller = authenticate(portal, webhook, params)
        for key in TRANSPORT_PARAMS:
            params.pop(key, None)
        portal.check_bucket()
        methods = [name, *batch_methods(params)] if name == "batch" else [name]
        stall = portal.faults.take_timeout(methods)
        if stall is not None:
            await asyncio.sleep(stall.delay)
        outcome = portal.execute(caller, name, params)
    except RestError as exc:
        _count(portal, exc.status)
        return error_response(exc)
    except WireError as exc:
        _count(portal, 400)
        return error_response(RestError(400, "INVALID_REQUEST", str(exc)))
    except Exception:
        log.exception("emulator failure")
        _count(portal, 500)
        return error_response(RestError(500, "INTERNAL_SERVER_ERROR", "Internal server error"))
    _count(portal, 200)
    body: dict[str, Any] = {"result": outcome.result}
    if outcome.total is not None:
        body["total"] = outcome.total
    if outcome.next is not None:
        body["next"] = outcome.next
    body["time"] = outcome.time
    return json_response(body)


def _count(portal: Portal, status: int) -> None:
    key = f"status_{status}"
    portal.stats[key] = portal.stats.get(key, 0) + 1


def create_app(portal: Portal) -> Starlette:
    """The ASGI app serving ``portal``; outgoing deliveries run while the app is up."""

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        sender = delivery.Sender(portal)
        await sender.start()
        try:
            yield
        finally:
            await sender.stop()

    routes = [
        Route("/rest/{path:path}", rest, methods=["GET", "POST"]),
        Route("/oauth/token/", oauth.token_endpoint, methods=["GET", "POST"]),
        Route("/oauth/token", oauth.token_endpoint, methods=["GET", "POST"]),
        *admin.routes(),
    ]
    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.portal = portal
    return app
