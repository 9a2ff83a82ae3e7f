"""An application installed on the emulator, and a client acting as it."""

from __future__ import annotations

from typing import Any

import pytest

from b24kit.client import AsyncClient, Limits, OAuthAuth, PortalConfig
from b24kit.testing import RunningEmulator


@pytest.fixture
def app(b24_emulator: RunningEmulator) -> dict[str, Any]:
    answer: dict[str, Any] = b24_emulator.admin("apps", {"client_id": "local.robots", "client_secret": "s"})
    return answer


def app_client(emulator: RunningEmulator, app: dict[str, Any]) -> AsyncClient:
    auth = OAuthAuth(
        endpoint=f"{emulator.base_url}/rest/",
        client_id="local.robots",
        client_secret="s",
        access_token=app["access_token"],
        refresh_token=app["refresh_token"],
        token_url=f"{emulator.base_url}/oauth/token/",
    )
    return AsyncClient(PortalConfig(auth, Limits.preset("off")))
