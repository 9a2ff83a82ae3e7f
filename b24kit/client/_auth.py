"""Credentials: incoming webhooks, OAuth applications, and where refreshed tokens are kept."""

from __future__ import annotations

import json
import os
import sqlite3
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, runtime_checkable

from ._log import SECRETS, mask_url

DEFAULT_TOKEN_URL = "https://oauth.bitrix.info/oauth/token/"


@dataclass(frozen=True, slots=True)
class WebhookAuth:
    """An incoming webhook; its URL (``https://portal/rest/USER_ID/SECRET/``) is the credential."""

    url: str = field(repr=False)

    def __post_init__(self) -> None:
        SECRETS.add(_webhook_secret(self.url))

    def __repr__(self) -> str:
        return f"WebhookAuth({mask_url(self.url)!r})"


@dataclass(frozen=True, slots=True)
class Tokens:
    """An OAuth token pair; ``expires_at`` is unix time when the portal said so."""

    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)
    expires_at: float | None = None

    def __post_init__(self) -> None:
        SECRETS.add(self.access_token, self.refresh_token)


@runtime_checkable
class TokenStore(Protocol):
    """Where refreshed OAuth tokens are kept so a restart does not lose them."""

    def load(self, key: str) -> Tokens | None:
        """The tokens saved under ``key``, if any."""
        ...

    def save(self, key: str, tokens: Tokens) -> None:
        """Keep ``tokens`` under ``key`` (replacing what was there)."""
        ...


@dataclass(frozen=True, slots=True)
class OAuthAuth:
    """An OAuth application: refreshes its access token on ``expired_token``, exactly once.

    ``endpoint`` is the portal's REST root (``client_endpoint``: ``https://portal/rest/``);
    ``token_url`` the OAuth server (``https://oauth.bitrix.info/oauth/token/``; the emulator
    serves one at ``http://HOST:PORT/oauth/token/``). With a ``store``, tokens saved there win
    over the ones given here, and every refresh is saved under ``store_key``.
    """

    endpoint: str
    client_id: str
    client_secret: str = field(repr=False)
    access_token: str = field(default="", repr=False)
    refresh_token: str = field(default="", repr=False)
    token_url: str = DEFAULT_TOKEN_URL
    store: TokenStore | None = None
    store_key: str | None = None

    def __post_init__(self) -> None:
        SECRETS.add(self.client_secret, self.access_token, self.refresh_token)

    @property
    def key(self) -> str:
        return self.store_key or f"{self.client_id}@{self.endpoint.rstrip('/')}"

    def initial_tokens(self) -> Tokens:
        saved = self.store.load(self.key) if self.store is not None else None
        return saved or Tokens(self.access_token, self.refresh_token)


class FileTokenStore:
    """Tokens in a JSON file (mode 0600), rewritten atomically on every save."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()

    def load(self, key: str) -> Tokens | None:
        row = self._read().get(key)
        return _tokens(row) if isinstance(row, dict) else None

    def save(self, key: str, tokens: Tokens) -> None:
        with self._lock:
            data = self._read()
            data[key] = _row(tokens)
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".tokens-", dir=self.path.parent)
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump(data, out, indent=2, sort_keys=True)
            os.chmod(tmp, 0o600)
            os.replace(tmp, self.path)

    def _read(self) -> dict[str, object]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            raise ValueError(f"{self.path}: unreadable token store ({exc})") from None
        return data if isinstance(data, dict) else {}

    def __repr__(self) -> str:
        return f"FileTokenStore({str(self.path)!r})"


class SqliteTokenStore:
    """Tokens in a SQLite table ``b24kit_tokens`` (one row per key)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        with self._connect() as db:
            db.execute(
                "CREATE TABLE IF NOT EXISTS b24kit_tokens (key TEXT PRIMARY KEY, access_token TEXT,"
                " refresh_token TEXT, expires_at REAL, updated_at REAL)"
            )

    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        return sqlite3.connect(self.path, timeout=30)

    def load(self, key: str) -> Tokens | None:
        with self._lock, self._connect() as db:
            row = db.execute(
                "SELECT access_token, refresh_token, expires_at FROM b24kit_tokens WHERE key = ?", (key,)
            ).fetchone()
        return None if row is None else Tokens(row[0], row[1], row[2])

    def save(self, key: str, tokens: Tokens) -> None:
        with self._lock, self._connect() as db:
            db.execute(
                "INSERT INTO b24kit_tokens VALUES (?, ?, ?, ?, ?) ON CONFLICT(key) DO UPDATE SET"
                " access_token = excluded.access_token, refresh_token = excluded.refresh_token,"
                " expires_at = excluded.expires_at, updated_at = excluded.updated_at",
                (key, tokens.access_token, tokens.refresh_token, tokens.expires_at, time.time()),
            )

    def __repr__(self) -> str:
        return f"SqliteTokenStore({str(self.path)!r})"


def token_store(path: str | os.PathLike[str]) -> TokenStore:
    """A store for ``path``: SQLite for ``.db``/``.sqlite``/``.sqlite3``, else a JSON file."""
    suffix = Path(path).suffix.lower()
    if suffix in (".db", ".sqlite", ".sqlite3"):
        return SqliteTokenStore(path)
    return FileTokenStore(path)


def _row(tokens: Tokens) -> dict[str, object]:
    return {
        "access_token": tokens.access_token,
        "refresh_token": tokens.refresh_token,
        "expires_at": tokens.expires_at,
    }


def _tokens(row: dict[str, object]) -> Tokens:
    expires = row.get("expires_at")
    return Tokens(
        str(row.get("access_token") or ""),
        str(row.get("refresh_token") or ""),
        float(expires) if isinstance(expires, int | float) else None,
    )


def _webhook_secret(url: str) -> str | None:
    parts = [p for p in url.split("?", 1)[0].split("/") if p]
    if "rest" in parts:
        tail = parts[parts.index("rest") + 1 :]
        if len(tail) >= 2:
            return tail[1]
    return None
