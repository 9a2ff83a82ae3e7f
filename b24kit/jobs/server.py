"""Serve the runner under uvicorn on a socket we bind ourselves (so port 0 works and the URL
can be printed once everything is ready)."""

from __future__ import annotations

import contextlib
import socket
import sys
from collections.abc import AsyncIterator, Callable

import uvicorn
from starlette.applications import Starlette

from b24kit.config import Settings

from .app import build_app
from .runner import Runner


def public_url(settings: Settings, port: int | None = None) -> str:
    """The base URL the portal calls: ``runner.public_url``, else ``http://HOST:PORT``."""
    if settings.runner.public_url:
        return settings.runner.public_url.rstrip("/")
    listen = settings.runner.listen
    return f"http://{listen.host}:{listen.port if port is None else port}"


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)  # TCP: asyncio sets TCP_NODELAY
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def serve(runner: Runner, *, host: str, port: int, ready: Callable[[str], None]) -> None:
    """Run until SIGINT/SIGTERM; ``ready(url)`` is called once the runner is up."""
    # The database thread releases the GIL on every SQLite call and must win it back from the
    # HTTP loop; the default 5 ms switch interval makes each such handoff slow (latency convoys).
    sys.setswitchinterval(0.0005)
    sock = bind(host, port)
    bound = sock.getsockname()[1]
    url = (
        public_url(runner.settings, bound) if runner.settings.runner.public_url else f"http://{host}:{bound}"
    )

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await runner.start()
        ready(url)
        try:
            yield
        finally:
            await runner.stop()

    app = build_app(runner.services, lifespan)
    config = uvicorn.Config(
        app,
        lifespan="on",
        log_level="warning",
        access_log=False,
        proxy_headers=False,  # nothing here reads the client address
        server_header=False,
        timeout_graceful_shutdown=10,
    )
    server = uvicorn.Server(config)
    try:
        server.run(sockets=[sock])  # on uvloop when installed (uvicorn[standard])
    finally:
        sock.close()
