"""``JiraFake``: the fake on a real socket in a background thread, with the hooks tests steer it by."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections import Counter
from datetime import datetime
from typing import Any

import uvicorn
from starlette.types import ASGIApp

from . import admin, issues, meta
from .app import create_app
from .catalog import Field, Mode, User
from .records import Issue
from .state import JiraState
from .webhooks import ISSUE_EVENTS, Delivery, Webhook, Webhooks


class ThreadedServer:
    """An ASGI app under uvicorn on 127.0.0.1 (a free port unless given), served from a daemon thread."""

    def __init__(self, app: ASGIApp, host: str = "127.0.0.1", port: int = 0) -> None:
        # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY on accepted sockets only when their proto says
        # TCP, and with proto 0 every response waits ~40 ms for the client's delayed ACK (Nagle).
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, port))
        self.sock.listen(128)
        self.url = f"http://{host}:{self.sock.getsockname()[1]}"
        config = uvicorn.Config(
            app, log_level="warning", access_log=False, lifespan="off", timeout_keep_alive=30
        )
        self.server = uvicorn.Server(config)
        self._thread: threading.Thread | None = None

    def start(self, timeout: float = 10.0) -> None:
        self._thread = threading.Thread(
            target=lambda: asyncio.run(self.server.serve(sockets=[self.sock])), daemon=True, name=self.url
        )
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError(f"the server at {self.url} did not start")
            time.sleep(0.01)

    def run(self) -> None:
        """Serve in the foreground until interrupted."""
        self.server.run(sockets=[self.sock])

    def stop(self) -> None:
        self.server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        self.sock.close()


class JiraFake:
    """A Jira Server/DC (``mode="server"``) or Cloud (``mode="cloud"``) instance for tests.

    >>> with JiraFake("cloud") as fake:  # doctest: +SKIP
    ...     jira = fake.client()
    ...     jira.create_issue(project="OPS", summary="Laptop", issuetype={"name": "Task"})
    """

    def __init__(
        self,
        mode: Mode = "server",
        *,
        time_zone: str = "UTC",
        host: str = "127.0.0.1",
        port: int = 0,
        webhook_retries: int = 3,
        webhook_retry_delay: float = 0.05,
    ) -> None:
        if mode not in ("server", "cloud"):
            raise ValueError(f"mode {mode!r}: use 'server' or 'cloud'")
        self.state = JiraState(mode, time_zone)
        self.requests: Counter[str] = Counter()
        self.webhooks = Webhooks(self.state, webhook_retries, webhook_retry_delay)
        routes = meta.ROUTES + issues.ROUTES + admin.ROUTES
        self._server = ThreadedServer(
            create_app(self.state, self.webhooks, self.requests, routes), host, port
        )
        self.url = self.state.base_url = self._server.url

    @property
    def mode(self) -> Mode:
        return self.state.mode

    def start(self) -> JiraFake:
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop()
        self.webhooks.close()

    def __enter__(self) -> JiraFake:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # Credentials and a ready client

    @property
    def admin(self) -> User:
        return self.state.catalog.users[0]

    def user(self, name: str) -> User:
        found = self.state.catalog.user(name=name)
        if found is None:
            raise KeyError(name)
        return found

    def auth(self, user: User | None = None, kind: str = "basic") -> dict[str, Any]:
        """``jira.JIRA`` auth arguments: basic (Server: name/password; Cloud: e-mail/API token) or PAT."""
        user = user or self.admin
        if kind == "token":
            return {"token_auth": user.pat}
        if kind != "basic":
            raise ValueError(f"auth kind {kind!r}: use 'basic' or 'token'")
        return {
            "basic_auth": (user.email, user.api_token) if self.mode == "cloud" else (user.name, user.password)
        }

    def client(
        self, user: User | None = None, *, auth: str = "basic", rest_api_version: str = "2", **kwargs: Any
    ) -> Any:
        """A real ``jira.JIRA`` pointed at this fake."""
        from jira import JIRA

        options = {"rest_api_version": rest_api_version} | kwargs.pop("options", {})
        return JIRA(server=self.url, options=options, **self.auth(user, auth), **kwargs)

    # State hooks

    def set_clock(self, when: datetime | str) -> None:
        """Freeze the clock at ``when`` (aware datetime or ISO-8601 with offset); changes stamp from there."""
        with self.state.lock:
            self.state.clock.set(datetime.fromisoformat(when) if isinstance(when, str) else when)

    def advance_clock(self, seconds: float) -> None:
        with self.state.lock:
            self.state.clock.advance(seconds)

    def set_time_zone(self, name: str, user: User | None = None) -> None:
        """The instance default zone, or one user's: JQL dates and rendered timestamps follow it."""
        with self.state.lock:
            if user is None:
                self.state.catalog.time_zone = name
            else:
                user.time_zone = name

    def add_user(
        self,
        name: str,
        *,
        email: str | None = None,
        display_name: str | None = None,
        time_zone: str | None = None,
        email_visible: bool = True,
    ) -> User:
        secret = f"{name}-secret"
        created = User(
            name,
            email or f"{name}@example.com",
            display_name or name.title(),
            secret,
            f"{name}-api-token",
            f"{name}-pat",
            time_zone,
            email_visible,
        )
        return self.state.add_user(created)

    def add_project(self, key: str, name: str, components: tuple[str, ...] = ()) -> None:
        self.state.add_project(key, name, components)

    def add_custom_field(self, name: str, kind: str, options: tuple[str, ...] = ()) -> Field:
        with self.state.lock:
            return self.state.catalog.add_custom_field(name, kind, options)

    def create_issue(self, fields: dict[str, Any], user: User | None = None) -> str:
        """Create an issue in-process (REST v2 rules, webhooks fire); returns its key. For seeding many."""
        return self.state.create(user or self.admin, "2", {"fields": fields}).key

    def issue(self, key: str) -> Issue:
        with self.state.lock:
            return self.state.find(key)

    # Webhooks and counters

    def register_webhook(
        self,
        url: str,
        secret: str | None = None,
        events: tuple[str, ...] = ISSUE_EVENTS,
        jql: str | None = None,
    ) -> Webhook:
        return self.webhooks.register(url, secret, events, jql)

    def drop_webhooks(self, count: int | None = None) -> None:
        """Lose the next ``count`` deliveries, or all of them until ``resume_webhooks()``."""
        self.webhooks.drop(count)

    def resume_webhooks(self) -> None:
        self.webhooks.resume()

    def flush_webhooks(self, timeout: float = 10.0) -> None:
        self.webhooks.flush(timeout)

    @property
    def deliveries(self) -> list[Delivery]:
        return list(self.webhooks.deliveries)

    @property
    def request_count(self) -> int:
        """REST requests served so far (the test API under ``/_fake`` is not counted)."""
        return sum(self.requests.values())

    def reset_requests(self) -> None:
        self.requests.clear()
