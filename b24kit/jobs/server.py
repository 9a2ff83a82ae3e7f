"""Serve the runner under uvicorn on a socket we bind ourselves (so port 0 works and the URL
can be printed once everything is ready)."""

from __future__ import annotations

import contextlib
import socket
import sys
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator

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


@contextlib.contextmanager
def serving_in_thread(runner: Runner, *, log_level: str = "warning") -> Iterator[str]:
    """The runner's app under uvicorn in a thread of this process (the demo, tests); yields its base
    URL (``http://127.0.0.1:PORT``) once it is up and stops it on exit."""
    sock = bind("127.0.0.1", 0)
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    server = uvicorn.Server(
        uvicorn.Config(runner.app(), lifespan="on", log_level=log_level, access_log=False)
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the runner did not start")
        time.sleep(0.02)
    try:
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()
