"""The portal client: every REST call b24kit makes goes through here (transport: fast-bitrix24)."""

from __future__ import annotations

from ._async import AsyncClient
from ._auth import FileTokenStore, OAuthAuth, SqliteTokenStore, Tokens, TokenStore, WebhookAuth, token_store
from ._batch import BatchResult, Command, is_read
from ._clock import Clock, SystemClock
from ._config import PortalConfig
from ._diagnose import Finding, diagnose
from ._engine import Stats
from ._limits import Limits
from ._listing import Page
from ._log import mask_url
from ._retry import Retry
from ._sync import Client
from ._wire import Envelope, build_query, normalize

__all__ = [
    "AsyncClient",
    "BatchResult",
    "Client",
    "Clock",
    "Command",
    "Envelope",
    "FileTokenStore",
    "Finding",
    "Limits",
    "OAuthAuth",
    "Page",
    "PortalConfig",
    "Retry",
    "SqliteTokenStore",
    "Stats",
    "SystemClock",
    "TokenStore",
    "Tokens",
    "WebhookAuth",
    "build_query",
    "diagnose",
    "is_read",
    "mask_url",
    "normalize",
    "token_store",
]
