"""Run the emulator under uvicorn: in the foreground (the CLI) or in a background thread."""

from __future__ import annotations

import socket
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvicorn

from .app import create_app
from .portal import Portal, Settings
from .tls import self_signed


@dataclass
class TlsFiles:
    cert: Path
    key: Path


def bind(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.setblocking(False)
    return sock


def resolve_tls(tls: bool, cert: str | None, key: str | None) -> TlsFiles | None:
    if not tls:
        return None
    if cert and key:
        return TlsFiles(Path(cert), Path(key))
    if cert or key:
        raise ValueError("--tls-cert and --tls-key go together")
    cert_path, key_path = self_signed(Path(tempfile.mkdtemp(prefix="b24kit-tls-")))
    return TlsFiles(cert_path, key_path)


class EmulatorServer:
    """An emulator listening on a real socket; ``start()`` returns once it accepts calls.

    >>> server = EmulatorServer(Settings(webhooks={1: "secret"})).start()
    >>> server.webhook_url  # doctest: +SKIP
    'http://127.0.0.1:41234/rest/1/secret/'
    """

    def __init__(
        self,
        settings: Settings | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        tls: TlsFiles | None = None,
    ) -> None:
        self.settings = settings or Settings()
        self.portal = Portal(self.settings)
        self.tls = tls
        self.sock = bind(host, port)
        self.host = host
        self.port = self.sock.getsockname()[1]
        scheme = "https" if tls else "http"
        self.base_url = f"{scheme}://{host}:{self.port}"
        self.portal.base_url = self.base_url
        config = uvicorn.Config(
            create_app(self.portal),
            log_level="warning",
            access_log=False,
            lifespan="on",
            ssl_certfile=str(tls.cert) if tls else None,
            ssl_keyfile=str(tls.key) if tls else None,
            timeout_keep_alive=30,
            proxy_headers=False,  # a local portal: no proxy middleware on the hot path
            server_header=False,
        )
        self.server = uvicorn.Server(config)
        self._thread: threading.Thread | None = None

    @property
    def webhook_url(self) -> str:
        user_id, secret = next(iter(self.settings.webhooks.items()))
        return f"{self.base_url}/rest/{user_id}/{secret}/"

    def run(self) -> None:
        """Serve in the foreground until interrupted."""
        self.server.run(sockets=[self.sock])

    def start(self, timeout: float = 15.0) -> EmulatorServer:
        """Serve in a daemon thread."""
        self._thread = threading.Thread(target=lambda: self.server.run(sockets=[self.sock]), daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the emulator did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        self.portal.store.close()

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()
