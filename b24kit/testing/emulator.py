"""A handle on an emulator started for tests: URLs, the admin API and the portal itself."""

from __future__ import annotations

from typing import Any

import httpx

from b24kit.emulator import Portal, Settings
from b24kit.emulator.server import EmulatorServer, TlsFiles


class RunningEmulator:
    """An emulator on a real socket, with helpers for its ``/_emulator/`` admin API."""

    def __init__(
        self,
        settings: Settings | None = None,
        tls: TlsFiles | None = None,
    ) -> None:
        self.server = EmulatorServer(settings or Settings(webhooks={1: "secret"}), tls=tls).start()
        self.http = httpx.Client(base_url=self.base_url, timeout=30, verify=False)

    @property
    def portal(self) -> Portal:
        """The in-process portal (for assertions on state; mutate it through REST)."""
        return self.server.portal

    @property
    def base_url(self) -> str:
        return self.server.base_url

    @property
    def webhook_url(self) -> str:
        return self.server.webhook_url

    @property
    def oauth_endpoint(self) -> str:
        return f"{self.base_url}/rest/"

    def admin(self, path: str, body: dict[str, Any] | None = None, method: str | None = None) -> Any:
        """Call ``/_emulator/<path>``: POST when a body is given, else GET."""
        verb = method or ("POST" if body is not None else "GET")
        response = self.http.request(verb, f"/_emulator/{path.lstrip('/')}", json=body)
        response.raise_for_status()
        return response.json()

    def rest(self, method: str, params: dict[str, Any] | None = None) -> Any:
        """One REST call through the webhook; returns the decoded envelope (errors too)."""
        response = self.http.post(f"{self.webhook_url}{method}", json=params or {})
        return response.json()

    def reset(self) -> None:
        self.admin("reset", {})

    def flush(self, timeout: float = 30) -> None:
        """Wait until every queued event and robot call has been delivered."""
        self.admin("deliveries/flush", {"timeout": timeout})

    def close(self) -> None:
        self.http.close()
        self.server.stop()
