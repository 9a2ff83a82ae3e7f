"""Secret masking for every log line and error text the client produces (and fast-bitrix24's)."""

from __future__ import annotations

import logging
import re
import threading
from typing import Any

MASK = "***"
_WEBHOOK = re.compile(r"(/rest/\d+/)([^/?#\s'\"]+)")
_QUERY_SECRETS = re.compile(
    r"((?:auth|access_token|refresh_token|client_secret|application_token)[\"']?\s*[=:]\s*[\"']?)"
    r"([^&\s\"',}]+)",
    re.IGNORECASE,
)


class Secrets:
    """The secrets known to this process; every registered value is masked wherever it appears."""

    def __init__(self) -> None:
        self._values: set[str] = set()
        self._lock = threading.Lock()

    def add(self, *values: str | None) -> None:
        with self._lock:
            self._values.update(v for v in values if v and len(v) >= 8)

    def mask(self, text: str) -> str:
        """``text`` with webhook secrets, tokens and registered values replaced by ``***``."""
        with self._lock:
            values = sorted(self._values, key=len, reverse=True)
        for value in values:
            if value in text:
                text = text.replace(value, MASK)
        text = _WEBHOOK.sub(lambda m: m.group(1) + MASK, text)
        return _QUERY_SECRETS.sub(lambda m: m.group(1) + MASK, text)


SECRETS = Secrets()


class _MaskedMessage:
    """A log message formatted (and masked) only when a handler actually renders it."""

    __slots__ = ("args", "msg")

    def __init__(self, msg: object, args: Any) -> None:
        self.msg = msg
        self.args = args

    def __str__(self) -> str:
        text = str(self.msg)
        if self.args:
            text = text % self.args
        return SECRETS.mask(text)


class MaskingFilter(logging.Filter):
    """Rewrites each record so that its rendered message has every secret masked."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not isinstance(record.msg, _MaskedMessage):
            record.msg = _MaskedMessage(record.msg, record.args)
            record.args = None
        return True


_FILTER = MaskingFilter()


def install(logger_names: tuple[str, ...] = ("b24kit.client", "fast_bitrix24")) -> None:
    """Attach the masking filter to the client's loggers (idempotent).

    fast-bitrix24 logs every request's params and every response at DEBUG on its own logger,
    so its records are masked too.
    """
    for name in logger_names:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)


def mask_url(url: str) -> str:
    """A webhook URL with its secret replaced: ``https://x/rest/1/***/``."""
    return SECRETS.mask(url)
