"""What the client needs to know about one portal: where, how to authenticate, how hard to push."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlparse

from b24kit.errors import ConfigError

from ._auth import OAuthAuth, WebhookAuth
from ._limits import Limits
from ._log import mask_url
from ._retry import Retry


@dataclass(frozen=True, slots=True)
class PortalConfig:
    """One portal: its credentials, limits, retry policy and timeouts.

    ``timeout`` bounds a whole request (the cloud stops a call after 60 s), ``connect_timeout``
    the TCP/TLS connect; ``verify_tls`` is ``True``, ``False`` or a CA bundle path.
    ``auth_connector``, when set, is sent with every request (a transport parameter the portal
    strips): changes made by these calls are not queued for offline events bound with the same
    ``auth_connector``, so an application does not receive its own writes back.
    """

    auth: WebhookAuth | OAuthAuth
    limits: Limits = field(default_factory=Limits)
    retry: Retry = field(default_factory=Retry)
    timeout: float = 60.0
    connect_timeout: float = 10.0
    verify_tls: bool | str = True
    name: str = "default"
    auth_connector: str | None = None

    def __post_init__(self) -> None:
        parts = urlparse(self.url)
        if parts.scheme not in ("http", "https") or not parts.netloc or "/rest" not in parts.path:
            raise ConfigError(
                f"{mask_url(self.url)!r} is not a Bitrix24 REST URL",
                field="url",
                suggestion="a webhook is https://PORTAL/rest/USER_ID/SECRET/, an app https://PORTAL/rest/",
            )
        if self.timeout <= 0 or self.connect_timeout <= 0:
            raise ConfigError("timeouts must be positive", field="timeout")

    @property
    def url(self) -> str:
        """The REST root requests go to (the webhook URL, or the OAuth ``client_endpoint``)."""
        raw = self.auth.url if isinstance(self.auth, WebhookAuth) else self.auth.endpoint
        return raw if raw.endswith("/") else raw + "/"

    @property
    def safe_url(self) -> str:
        return mask_url(self.url)

    @classmethod
    def from_url(cls, url: str, *, limits: Limits | str = "cloud", **kwargs: Any) -> PortalConfig:
        """A webhook portal: ``PortalConfig.from_url("https://x.bitrix24.ru/rest/1/abc/")``."""
        chosen = Limits.preset(limits) if isinstance(limits, str) else limits
        return cls(WebhookAuth(url), chosen, **kwargs)

    def with_limits(self, limits: Limits | str) -> PortalConfig:
        return replace(self, limits=Limits.preset(limits) if isinstance(limits, str) else limits)
