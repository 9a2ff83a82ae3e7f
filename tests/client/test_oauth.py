"""OAuth apps: one refresh however many calls see the token expire, tokens kept across restarts."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from b24kit.client import (
    AsyncClient,
    Client,
    FileTokenStore,
    Limits,
    OAuthAuth,
    PortalConfig,
    SqliteTokenStore,
    Tokens,
    TokenStore,
    token_store,
)
from b24kit.errors import AuthError, TokenExpired

from .conftest import run

CLIENT_ID, CLIENT_SECRET = "local.b24kit.test", "client-secret-0123456789"
HOUR = 3_700


@pytest.fixture
def app(emulator) -> dict[str, Any]:
    return dict(emulator.admin("apps", {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}))


def oauth(emulator, app: dict[str, Any] | None, store: TokenStore | None, **kwargs) -> OAuthAuth:
    return OAuthAuth(
        endpoint=emulator.oauth_endpoint,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        access_token=app["access_token"] if app else "",
        refresh_token=app["refresh_token"] if app else "",
        token_url=f"{emulator.base_url}/oauth/token/",
        store=store,
        **kwargs,
    )


def tokens_issued(emulator) -> list[dict[str, Any]]:
    return list(emulator.admin("state/oauth_tokens"))


@pytest.mark.parametrize("store_file", ["tokens.json", "tokens.db"])
def test_twenty_concurrent_calls_on_an_expired_token_refresh_exactly_once(
    emulator, app, tmp_path, store_file
):
    store = token_store(tmp_path / store_file)
    auth = oauth(emulator, app, store)

    async def scenario() -> list[str]:
        async with AsyncClient(PortalConfig(auth, Limits.preset("off"))) as b24:
            assert (await b24.call("profile"))["ID"] == "1"
            emulator.admin("clock", {"advance_seconds": HOUR})
            users = await asyncio.gather(*(b24.call("profile") for _ in range(20)))
            assert b24.stats.token_refreshes == 1
            return [u["ID"] for u in users]

    assert run(scenario()) == ["1"] * 20
    issued = tokens_issued(emulator)
    assert len(issued) == 2 and [t["refresh_used"] for t in issued] == [True, False]
    saved = store.load(auth.key)
    assert saved is not None and saved.access_token == issued[1]["access_token"]
    assert saved.refresh_token == issued[1]["refresh_token"] and saved.expires_at == issued[1]["expires"]


def test_a_restart_uses_the_saved_tokens(emulator, app, tmp_path):
    store = FileTokenStore(tmp_path / "tokens.json")
    with Client(PortalConfig(oauth(emulator, app, store), Limits.preset("off"))) as b24:
        emulator.admin("clock", {"advance_seconds": HOUR})
        b24.call("profile")
    # the refresh token in the config is spent; only the store knows the new pair
    with Client(PortalConfig(oauth(emulator, app, store), Limits.preset("off"))) as again:
        assert again.call("profile")["ID"] == "1"
        assert again.stats.token_refreshes == 0
    assert json.loads((tmp_path / "tokens.json").read_text())[
        f"{CLIENT_ID}@{emulator.oauth_endpoint.rstrip('/')}"
    ]
    assert (tmp_path / "tokens.json").stat().st_mode & 0o777 == 0o600


def test_another_process_refreshed_first_its_saved_tokens_are_adopted(emulator, app, tmp_path):
    store = SqliteTokenStore(tmp_path / "shared.db")
    config = PortalConfig(oauth(emulator, app, store), Limits.preset("off"))
    with Client(config) as first, Client(config) as second:
        first.call("profile")
        second.call("profile")
        emulator.admin("clock", {"advance_seconds": HOUR})
        first.call("profile")  # refreshes; the old refresh token is now spent
        assert second.call("profile")["ID"] == "1"  # its refresh fails, it takes the stored pair
        assert (first.stats.token_refreshes, second.stats.token_refreshes) == (1, 0)
    assert len(tokens_issued(emulator)) == 2


def test_a_bad_refresh_token_is_an_auth_error(emulator, app):
    auth = OAuthAuth(
        endpoint=emulator.oauth_endpoint,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        access_token=app["access_token"],
        refresh_token="not-the-refresh-token",
        token_url=f"{emulator.base_url}/oauth/token/",
    )
    emulator.admin("clock", {"advance_seconds": HOUR})
    with Client(PortalConfig(auth, Limits.preset("off"))) as b24, pytest.raises(AuthError) as raised:
        b24.call("profile")
    assert raised.value.code == "invalid_grant" and raised.value.method == "oauth/token"
    assert "not-the-refresh-token" not in str(raised.value)


def test_expired_without_a_refresh_token_says_so(emulator, app):
    auth = OAuthAuth(
        endpoint=emulator.oauth_endpoint,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        access_token=app["access_token"],
    )
    emulator.admin("clock", {"advance_seconds": HOUR})
    with (
        Client(PortalConfig(auth, Limits.preset("off"))) as b24,
        pytest.raises(TokenExpired, match="no refresh"),
    ):
        b24.call("profile")


def test_app_calls_carry_the_token_in_the_body_and_app_only_methods_work(emulator, app):
    with Client(PortalConfig(oauth(emulator, app, None), Limits.preset("off"))) as b24:
        info = b24.call("app.info")
    assert info["CODE"] == CLIENT_ID


def test_file_store_round_trip_and_unreadable_file(tmp_path):
    store = FileTokenStore(tmp_path / "sub" / "t.json")
    assert store.load("k") is None
    store.save("k", Tokens("access-aaaaaaaa", "refresh-bbbbbbbb", 1.5))
    store.save("j", Tokens("access-cccccccc", "refresh-dddddddd"))
    assert store.load("k") == Tokens("access-aaaaaaaa", "refresh-bbbbbbbb", 1.5)
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(ValueError, match="unreadable token store"):
        FileTokenStore(tmp_path / "bad.json").load("k")


def test_secrets_stay_out_of_reprs(emulator, app):
    auth = oauth(emulator, app, FileTokenStore(Path("/tmp/x.json")))
    text = repr(PortalConfig(auth)) + repr(Tokens(app["access_token"], app["refresh_token"]))
    assert app["access_token"] not in text and CLIENT_SECRET not in text and app["refresh_token"] not in text
