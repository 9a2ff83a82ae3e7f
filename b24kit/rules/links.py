"""Links to CRM records for notifications and task texts (never carrying a webhook secret)."""

from __future__ import annotations

from urllib.parse import urlsplit

from b24kit.automation import RuleContext

_PATHS = {
    "deal": "/crm/deal/details/{id}/",
    "company": "/crm/company/details/{id}/",
    "contact": "/crm/contact/details/{id}/",
    "invoice": "/crm/type/31/details/{id}/",
}


def portal_base(ctx: RuleContext) -> str:
    """``https://example.bitrix24.ru``: the context's ``portal_url``, else the client's host.

    Only the scheme and host of the client's URL are used, so a webhook's secret never leaks.
    """
    raw = ctx.portal_url or ctx.client.config.url
    parts = urlsplit(raw)
    if not parts.scheme or not parts.netloc:
        return raw.rstrip("/")
    return f"{parts.scheme}://{parts.netloc}"


def record_link(base: str, kind: str, record_id: int) -> str:
    """The card of a ``deal``, ``company``, ``contact`` or (smart) ``invoice``."""
    return base + _PATHS[kind].format(id=record_id)
