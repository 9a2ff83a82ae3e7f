"""The HTTP face of the emulator: REST calls, the OAuth token endpoint and the admin API.

``/rest/...`` is served by a plain ASGI handler (the hot path: no router, no middleware, no
request object); everything else (``/oauth/token/``, ``/_emulator/*``) goes to a Starlette app.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from typing import Any

from starlette.applications import Starlette
from starlette.routing import Route

from . import admin, delivery, oauth
from .errors import RestError, method_not_found
from .portal import Portal
from .registry import Caller
from .transport import BodyTooLarge, read_params
from .wire import WireError, dump

log = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

TRANSPORT_PARAMS = ("auth", "bx24_request_id", "auth_connector")
_JSON_HEADERS = [(b"content-type", b"application/json; charset=utf-8")]


def parse_rest_path(path: str) -> tuple[tuple[str, str] | None, str]:
    """``1/secret/crm.deal.list.json`` -> ``(("1", "secret"), "crm.deal.list")``.

    A webhook path has three parts, an OAuth path one; ``.json``/``.xml`` and a trailing slash
    are allowed. Anything else is "Method not found!", as the portal answers a malformed URL.
    """
    parts = [p for p in path.split("/") if p]
    if len(parts) == 3:
        webhook: tuple[str, str] | None = (parts[0], parts[1])
        name = parts[2]
    elif len(parts) == 1:
        webhook, name = None, parts[0]
    else:
        raise method_not_found()
    lowered = name.lower()
    for suffix in (".json", ".xml"):
        if lowered.endswith(suffix):
            lowered = lowered[: -len(suffix)]
    if not lowered:
        raise method_not_found()
    return webhook, lowered


def authenticate(portal: Portal, webhook: tuple[str, str] | None, params: dict[str, Any]) -> Caller:
    """The caller of a request: the webhook in the path, else the ``auth`` token."""
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
    """The lower-case method names of a batch's commands (for timeout faults)."""
    cmd = params.get("cmd")
    commands = cmd.values() if isinstance(cmd, dict) else cmd if isinstance(cmd, list) else []
    return [str(c).split("?", 1)[0].lower() for c in commands]


def envelope(result: Any, total: int | None, nxt: int | None, time: dict[str, Any]) -> bytes:
    """``{"result", "total"?, "next"?, "time"}``, in the portal's key order."""
    body: dict[str, Any] = {"result": result}
    if total is not None:
        body["total"] = total
    if nxt is not None:
        body["next"] = nxt
    body["time"] = time
    return dump(body)


async def stall_if_injected(portal: Portal, name: str, params: dict[str, Any]) -> None:
    """Wait out an injected timeout for this method (or one of a batch's commands)."""
    methods = [name, *batch_methods(params)] if name == "batch" else [name]
    stall = portal.faults.take_timeout(methods)
    if stall is None:
        return
    generation = portal.generation
    await asyncio.sleep(stall.delay)
    if portal.generation != generation:  # a stale call must not touch the new portal
        raise RestError(500, "INTERNAL_SERVER_ERROR", "The portal was reset during the call")


async def handle_rest(portal: Portal, scope: Scope, receive: Receive) -> tuple[int, bytes]:
    """Answer one ``/rest/...`` request: ``(status, JSON body)``; never raises."""
    portal.stats["requests"] += 1
    try:
        webhook, name = parse_rest_path(scope["path"][len("/rest/") :])
        params = await read_params(scope, receive)
        caller = authenticate(portal, webhook, params)
        for key in TRANSPORT_PARAMS:
            params.pop(key, None)
        portal.check_bucket()
        if portal.faults.pending:
            await stall_if_injected(portal, name, params)
        outcome = portal.execute(caller, name, params)
    except RestError as exc:
        return _failed(portal, exc)
    except BodyTooLarge as exc:
        return _failed(portal, RestError(413, "INVALID_REQUEST", str(exc)))
    except WireError as exc:
        return _failed(portal, RestError(400, "INVALID_REQUEST", str(exc)))
    except Exception:
        log.exception("emulator failure")
        return _failed(portal, RestError(500, "INTERNAL_SERVER_ERROR", "Internal server error"))
    portal.count_status(200)
    return 200, envelope(outcome.result, outcome.total, outcome.next, outcome.time)


def _failed(portal: Portal, exc: RestError) -> tuple[int, bytes]:
    portal.count_status(exc.status)
    return exc.status, dump(exc.body())


class EmulatorApp:
    """The ASGI application: ``/rest/`` directly, the rest through Starlette."""

    def __init__(self, portal: Portal, fallback: Starlette) -> None:
        self.portal = portal
        self.fallback = fallback
        self.state = fallback.state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope["path"] if scope["type"] == "http" else ""
        if not (path.startswith("/rest/") or path == "/rest"):
            await self.fallback(scope, receive, send)
            return
        status, body = await handle_rest(self.portal, scope, receive)
        headers = [*_JSON_HEADERS, (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def create_app(portal: Portal) -> EmulatorApp:
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
        Route("/oauth/token/", oauth.token_endpoint, methods=["GET", "POST"]),
        Route("/oauth/token", oauth.token_endpoint, methods=["GET", "POST"]),
        *admin.routes(),
    ]
    fallback = Starlette(routes=routes, lifespan=lifespan)
    fallback.state.portal = portal
    return EmulatorApp(portal, fallback)
