"""The runner's HTTP endpoints (Starlette): what the portal and other systems call.

| route | what |
| --- | --- |
| ``POST /events/{portal}`` | portal events (and ONAPPINSTALL / ONAPPUNINSTALL, ONOFFLINEEVENT) |
| ``POST /install/{portal}`` | the application's install handler |
| ``POST /robots/{code}[?portal=NAME]`` | robot calls |
| ``POST /webhooks/{kind}/{name}`` | inbound webhooks of other systems (see :mod:`.webhooks`) |
| ``GET /healthz``, ``GET /metrics`` | liveness (and the store), Prometheus counters |

Every request is checked before anything is stored: an unknown portal or a wrong
``application_token`` gets 401, a malformed or oversized body 400; an accepted one is committed
before its 200 goes back. No request can take the process down: every failure is an answer.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Lifespan, Receive, Scope, Send

from b24kit.robots.call import application_token, robot_call
from b24kit.robots.form import FormError, FormLimits, parse_body

from .gate import InstallRefused
from .keys import digest, event_from_body, event_inbound, robot_inbound
from .model import Inbound
from .services import Services
from .webhooks import KINDS

log = logging.getLogger("b24kit.jobs.http")
Endpoint = Callable[[Request], Awaitable[Response]]


def _json(data: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(data), status, media_type="application/json")


class Refused(Exception):
    def __init__(self, status: int, reason: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason


def _guarded(services: Services, handler: Endpoint) -> Endpoint:
    async def run(request: Request) -> Response:
        try:
            return await handler(request)
        except Refused as exc:
            services.metrics.inc("b24kit_runner_rejected_total", reason=exc.reason)
            return _json({"error": exc.reason, "error_description": str(exc)}, exc.status)
        except FormError as exc:
            services.metrics.inc("b24kit_runner_rejected_total", reason="malformed")
            return _json({"error": "malformed", "error_description": str(exc)}, 400)
        except Exception:
            log.exception("%s %s failed", request.method, request.url.path)
            return _json(
                {"error": "internal", "error_description": "the runner could not take this request"}, 503
            )

    return run


async def _read(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdecimal() or int(declared) > limit):
        raise FormError(f"the body is larger than {limit} bytes")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise FormError(f"the body is larger than {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


class Endpoints:
    """The route handlers, bound to the runner's services."""

    def __init__(self, services: Services) -> None:
        self.s = services
        self.limits = FormLimits(max_bytes=services.settings.runner.max_body_bytes)

    async def _body(self, request: Request) -> dict[str, Any]:
        raw = await _read(request, self.limits.max_bytes)
        return parse_body(raw, request.headers.get("content-type", ""), self.limits)

    async def _submit(self, item: Inbound, started: float) -> Response:
        outcome = await self.s.queue.submit(item)
        m = self.s.metrics
        if outcome == "duplicate":
            m.inc("b24kit_runner_deduplicated_total", portal=item.portal, kind=item.kind)
        else:
            m.inc("b24kit_runner_accepted_total", portal=item.portal, kind=item.kind)
        m.observe_accept(time.perf_counter() - started)
        return _json({"result": outcome})

    def _served(self, portal: str | None) -> str:
        if portal is None or not self.s.gate.serves(portal):
            raise Refused(401, "unknown_portal", "this runner serves no such portal")
        return portal

    def _check(self, portal: str, body: dict[str, Any]) -> None:
        if not self.s.gate.check(portal, application_token(body)):
            raise Refused(401, "bad_token", "application_token does not match")

    async def event(self, request: Request) -> Response:
        started = time.perf_counter()
        portal = self._served(request.path_params["portal"])
        body = await self._body(request)
        name = str(body.get("event") or "").upper()
        if not name:
            raise FormError("event is missing")
        if name == "ONAPPINSTALL":
            return await self._install(portal, body)
        self._check(portal, body)
        if name == "ONAPPUNINSTALL":
            await self.s.queue.run(self.s.gate.uninstall, portal)
            return _json({"result": "uninstalled"})
        if name == "ONOFFLINEEVENT":
            self.s.wake_offline(portal)
            return _json({"result": "woken"})
        event = event_from_body(body)
        if not self.s.jobs.for_event(portal, event.name):
            self.s.metrics.inc("b24kit_runner_ignored_total", portal=portal)
            return _json({"result": "ignored"})
        item = event_inbound(portal, event, source="online", delay=self.s.settings.runner.debounce_seconds)
        return await self._submit(item, started)

    async def install(self, request: Request) -> Response:
        portal = self._served(request.path_params["portal"])
        return await self._install(portal, await self._body(request))

    async def _install(self, portal: str, body: dict[str, Any]) -> Response:
        try:
            install = await self.s.gate.install(portal, body)
        except InstallRefused as exc:
            raise Refused(401, "install_refused", str(exc)) from None
        await self.s.clients.reset(portal)
        log.info("installed on %s (%s)", portal, install.domain)
        return _json({"result": "installed"})

    async def robot(self, request: Request) -> Response:
        started = time.perf_counter()
        body = await self._body(request)
        portal = self._served(request.query_params.get("portal") or self.s.gate.portal_for(body.get("auth")))
        self._check(portal, body)
        call = robot_call(body, request.path_params["code"])
        return await self._submit(robot_inbound(portal, call), started)

    async def webhook(self, request: Request) -> Response:
        started = time.perf_counter()
        kind_name, name = request.path_params["kind"], request.path_params["name"]
        source = self.s.settings.runner.webhooks.get(name)
        kind = KINDS.get(kind_name)
        if source is None or kind is None or source.kind != kind_name:
            raise Refused(401, "unknown_webhook", "no such webhook source")
        raw = await _read(request, self.limits.max_bytes)
        headers = {k.lower(): v for k, v in request.headers.items()}
        if not kind.verify(headers, dict(request.query_params), raw, source.secret.get_secret_value()):
            raise Refused(401, "bad_token", "the webhook's secret does not match")
        event, data = kind.parse(raw)
        if not self.s.jobs.for_webhook(name, event):
            self.s.metrics.inc("b24kit_runner_ignored_total", portal=name)
            return _json({"result": "ignored"})
        portal = source.portal or self.s.settings.default_portal or self.s.portals[0]
        delivery, record = kind.identify(headers, data) if kind.identify else (None, None)
        item = Inbound(
            portal=portal,
            kind="webhook",
            name=event,
            payload={"source": name, "kind": kind_name, "event": event, "data": data},
            record_key=f"{name}:{record}" if record else None,
            dedupe_key=digest(name, delivery or raw.decode("utf-8", "replace")),
        )
        return await self._submit(item, started)

    async def healthz(self, request: Request) -> Response:
        try:
            counts = await self.s.queue.run(self.s.queue.store.inbox.counts)
        except Exception as exc:
            return _json({"status": "failing", "error": type(exc).__name__}, 503)
        installed = sorted(self.s.gate.installs)
        return _json({"status": "ok", "tasks": counts, "portals": self.s.portals, "installed": installed})

    async def metrics(self, request: Request) -> Response:
        counts = await self.s.queue.run(self.s.queue.store.inbox.counts)
        gauges = {
            "b24kit_runner_queue_depth": counts.get("queued", 0) + counts.get("running", 0),
            "b24kit_runner_dead_letters": counts.get("dead", 0),
        }
        text = self.s.metrics.render(gauges, self.s.clients.stats())
        return Response(text, 200, media_type="text/plain; version=0.0.4; charset=utf-8")


def build_app(services: Services, lifespan: Lifespan[Starlette] | None = None) -> ASGIApp:
    """The runner's ASGI app: Starlette routes, with the two hot routes (portal events and robot
    calls) dispatched directly, past Starlette's router and middleware (their handlers already
    turn every failure into an answer)."""
    e = Endpoints(services)

    def route(path: str, handler: Endpoint, methods: list[str]) -> Route:
        return Route(path, _guarded(services, handler), methods=methods)

    routes = [
        route("/events/{portal}", e.event, ["POST"]),
        route("/install/{portal}", e.install, ["POST"]),
        route("/robots/{code}", e.robot, ["POST"]),
        route("/webhooks/{kind}/{name}", e.webhook, ["POST"]),
        route("/healthz", e.healthz, ["GET"]),
        route("/metrics", e.metrics, ["GET"]),
    ]
    hot = {"events": ("portal", _guarded(services, e.event)), "robots": ("code", _guarded(services, e.robot))}
    return _Hot(Starlette(routes=routes, lifespan=lifespan), hot)


class _Hot:
    """``POST /events/{portal}`` and ``POST /robots/{code}`` straight to their handlers."""

    def __init__(self, app: Starlette, hot: dict[str, tuple[str, Endpoint]]) -> None:
        self.app = app
        self.hot = hot

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST":
            head, _, tail = str(scope["path"])[1:].partition("/")
            found = self.hot.get(head)
            if found is not None and tail and "/" not in tail:
                name, handler = found
                request = Request({**scope, "path_params": {name: tail}}, receive)
                response = await handler(request)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
