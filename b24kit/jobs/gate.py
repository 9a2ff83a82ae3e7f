"""Who is calling: which configured portal a request comes from, and whether its
``application_token`` is the one we hold (compared in constant time). Also the install event,
which is where an application's token comes from."""

from __future__ import annotations

import hmac
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from b24kit.client import AsyncClient, OAuthAuth, PortalConfig, Tokens
from b24kit.config import Settings
from b24kit.errors import B24Error

from .store import Install, JobStore


class InstallRefused(B24Error):
    """An ONAPPINSTALL that cannot be trusted or used (the runner answers 401)."""


class Gate:
    """The portals the runner serves, their tokens, and how to recognise them."""

    def __init__(self, settings: Settings, store: JobStore, portals: list[str]) -> None:
        self.settings = settings
        self.store = store
        self.portals = portals
        self.installs: dict[str, Install] = store.installs()

    def serves(self, portal: str) -> bool:
        return portal in self.portals

    def expected_token(self, portal: str) -> str | None:
        """The install's token, else the one configured for an outgoing webhook."""
        install = self.installs.get(portal)
        if install is not None and install.application_token:
            return install.application_token
        configured = self.settings.runner.portals.get(portal)
        secret = configured.application_token if configured is not None else None
        return secret.get_secret_value() if secret is not None else None

    def check(self, portal: str, token: str) -> bool:
        """Constant-time comparison; no expected token (not installed yet) refuses everything."""
        expected = self.expected_token(portal)
        if not expected or not token:
            return False
        return hmac.compare_digest(expected.encode(), token.encode())

    def portal_for(self, auth: Any) -> str | None:
        """The configured portal a payload's ``auth`` block names (member_id, else its address)."""
        if not isinstance(auth, Mapping):
            return self.portals[0] if len(self.portals) == 1 else None
        member = str(auth.get("member_id") or "")
        for name, install in self.installs.items():
            if member and install.member_id == member and name in self.portals:
                return name
        host = _host(str(auth.get("client_endpoint") or "")) or str(auth.get("domain") or "").lower()
        matches = [name for name in self.portals if host and _host(self._url(name)) == host]
        if len(matches) == 1:
            return matches[0]
        return self.portals[0] if len(self.portals) == 1 else None

    def portal_url(self, portal: str) -> str:
        """Where people open the portal (for links in notifications)."""
        configured = self.settings.runner.portals.get(portal)
        if configured is not None and configured.portal_url:
            return configured.portal_url.rstrip("/")
        install = self.installs.get(portal)
        if install is not None and install.domain:
            scheme = urlsplit(install.client_endpoint).scheme or "https"
            return f"{scheme}://{install.domain}"
        parts = urlsplit(self._url(portal))
        return f"{parts.scheme}://{parts.netloc}"

    def _url(self, portal: str) -> str:
        found = self.settings.portals.get(portal)
        return found.url if found is not None else ""

    async def install(self, portal: str, body: Mapping[str, Any]) -> Install:
        """Keep the tokens of an ONAPPINSTALL for ``portal`` after proving them with ``app.info``.

        The event cannot be checked against a token we do not have yet, so it is checked
        against the portal itself: it must come from the configured portal's address, and its
        access token must work there (a forged install has no valid token).
        """
        config = self.settings.portal(portal)
        auth = body.get("auth")
        if not isinstance(config.auth, OAuthAuth):
            raise InstallRefused(f"portal {portal!r} is configured with a webhook, not an application")
        if not isinstance(auth, Mapping):
            raise InstallRefused("the install event has no auth block")
        access, refresh = str(auth.get("access_token") or ""), str(auth.get("refresh_token") or "")
        app_token = str(auth.get("application_token") or "")
        endpoint = str(auth.get("client_endpoint") or "")
        if not access or not refresh or not app_token:
            raise InstallRefused("the install event lacks access_token, refresh_token or application_token")
        if _host(endpoint) != _host(config.url):
            raise InstallRefused(
                f"the install comes from {_host(endpoint)!r}, the portal is {_host(config.url)!r}"
            )
        tokens = await _prove(config, Tokens(access, refresh, _float(auth.get("expires"))))
        if config.auth.store is not None:
            config.auth.store.save(config.auth.key, tokens)
        install = Install(
            portal=portal,
            application_token=app_token,
            member_id=str(auth.get("member_id") or ""),
            domain=str(auth.get("domain") or ""),
            client_endpoint=endpoint,
            installed_at=time.time(),
        )
        self.store.save_install(install)
        self.installs[portal] = install
        return install

    def uninstall(self, portal: str) -> None:
        """ONAPPUNINSTALL: forget the token, so later events are refused."""
        self.installs.pop(portal, None)
        self.store.delete_install(portal)


class _Kept:
    """A token store in memory: catches a refresh the proving call may make."""

    def __init__(self) -> None:
        self.tokens: Tokens | None = None

    def load(self, key: str) -> Tokens | None:
        return None

    def save(self, key: str, tokens: Tokens) -> None:
        self.tokens = tokens


async def _prove(config: PortalConfig, tokens: Tokens) -> Tokens:
    """Call ``app.info`` with the tokens; the pair to keep (a new one if they were refreshed)."""
    assert isinstance(config.auth, OAuthAuth)
    kept = _Kept()
    probe = OAuthAuth(
        endpoint=config.auth.endpoint,
        client_id=config.auth.client_id,
        client_secret=config.auth.client_secret,
        access_token=tokens.access_token,
        refresh_token=tokens.refresh_token,
        token_url=config.auth.token_url,
        store=kept,
        store_key="install",
    )
    checking = PortalConfig(
        probe, config.limits, config.retry, config.timeout, config.connect_timeout, config.verify_tls
    )
    async with AsyncClient(checking) as client:
        try:
            await client.call("app.info")
        except B24Error as exc:
            raise InstallRefused(f"the install's access token does not work on the portal: {exc}") from None
    return kept.tokens or tokens


def _host(url: str) -> str:
    try:
        return urlsplit(url).netloc.lower()
    except ValueError:
        return ""


def _float(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None
