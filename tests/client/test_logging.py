"""Every call is logged at debug with method, duration and operating time; secrets never are."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from b24kit.client import Client, Command, Limits, OAuthAuth, PortalConfig
from b24kit.emulator import Settings
from b24kit.errors import AuthError, TransportError
from b24kit.testing import RunningEmulator

SECRET = "whk-7f3a9c1e5b2d4068"


@pytest.fixture(scope="module")
def private_emulator() -> Iterator[RunningEmulator]:
    running = RunningEmulator(Settings(webhooks={7: SECRET}))
    yield running
    running.close()


def test_debug_lines_name_method_duration_and_operating_time(private_emulator, caplog):
    caplog.set_level(logging.DEBUG, logger="b24kit.client")
    with Client.from_url(private_emulator.webhook_url, limits="off") as b24:
        b24.call("profile")
        b24.batch([Command("server.time"), Command("server.time")])
    lines = [r.getMessage() for r in caplog.records if r.name == "b24kit.client"]
    assert any(line.startswith("profile: ") and "s, operating " in line for line in lines)
    assert any(line.startswith("batch[server.time x2]: ") for line in lines)


def test_no_secret_in_any_log_line_of_b24kit_or_fast_bitrix24(private_emulator, caplog):
    caplog.set_level(logging.DEBUG)
    app = private_emulator.admin(
        "apps", {"client_id": "local.log.test", "client_secret": "app-secret-55aa66bb"}
    )
    auth = OAuthAuth(
        endpoint=private_emulator.oauth_endpoint,
        client_id="local.log.test",
        client_secret="app-secret-55aa66bb",
        access_token=app["access_token"],
        refresh_token=app["refresh_token"],
        token_url=f"{private_emulator.base_url}/oauth/token/",
    )
    with Client.from_url(private_emulator.webhook_url, limits="off") as hook:
        hook.call(
            "crm.deal.add", {"fields": {"TITLE": "x", "COMMENTS": f"{private_emulator.webhook_url} {SECRET}"}}
        )
    private_emulator.admin("clock", {"advance_seconds": 3_700})
    with Client(PortalConfig(auth, Limits.preset("off"))) as app_client:
        app_client.call("crm.deal.add", {"fields": {"TITLE": app["access_token"]}})
        assert app_client.stats.token_refreshes == 1
    rendered = "\n".join(r.getMessage() for r in caplog.records)
    assert "fast_bitrix24" in {r.name for r in caplog.records}  # its request/response lines were seen
    for secret in (SECRET, app["access_token"], app["refresh_token"], "app-secret-55aa66bb"):
        assert secret not in rendered
    assert "***" in rendered


def test_errors_never_carry_the_webhook_secret(private_emulator):
    wrong = private_emulator.webhook_url.replace(SECRET, "whk-wrongwrongwrong")
    with Client.from_url(wrong) as b24, pytest.raises(AuthError) as refused:
        b24.call("profile")
    assert "whk-wrongwrongwrong" not in str(refused.value)
    unreachable = f"http://127.0.0.1:9/rest/7/{SECRET}/"
    from b24kit.client import Retry

    with (
        Client(PortalConfig.from_url(unreachable, retry=Retry(attempts=1))) as b24,
        pytest.raises(TransportError) as failed,
    ):
        b24.call("profile")
    assert SECRET not in str(failed.value) and failed.value.maybe_applied is False
    assert failed.value.__cause__ is None and failed.value.__suppress_context__
