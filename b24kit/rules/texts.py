"""Default texts of the built-in rules in Russian and English, and how numbers and dates read.

Every text is a template (see :mod:`b24kit.rules.templates`) whose placeholders are listed in
``NAMES``; a job's settings may replace any of them under ``texts:`` (checked against the same
names). ``language`` picks the defaults: ``ru`` or ``en`` (anything else reads English).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from decimal import Decimal

from b24kit.errors import ConfigError

from .templates import check_template

_INVOICE = ("number", "count", "deal_id", "deal_title", "amount", "currency", "due_date")
_TASK = (*_INVOICE, "invoice_id", "deal_link", "invoice_link")
_DEAL = ("deal_id", "deal_title", "link", "fields", "stage")

NAMES: dict[str, tuple[str, ...]] = {
    "invoice_title": _INVOICE,
    "send_task_title": _TASK,
    "send_task_description": _TASK,
    "check_task_title": _TASK,
    "check_task_description": _TASK,
    "reverted": (*_DEAL, "previous_stage"),
    "not_reverted": _DEAL,
    "report": ("user_id", "total", "deals", "companies", "contacts", "list"),
    "report_more": ("count",),
}

DEFAULTS: dict[str, dict[str, str]] = {
    "ru": {
        "invoice_title": "Счёт {number} из {count} по сделке «{deal_title}»",
        "send_task_title": "Отправить счёт {number} по сделке «{deal_title}»",
        "send_task_description": (
            "Отправьте клиенту [url={invoice_link}]счёт {number}[/url] на {amount} {currency}, "
            "срок оплаты {due_date}.\nСделка: [url={deal_link}]{deal_title}[/url]"
        ),
        "check_task_title": "Проверить оплату счёта {number} по сделке «{deal_title}»",
        "check_task_description": (
            "Проверьте, оплачен ли [url={invoice_link}]счёт {number}[/url] на {amount} {currency} "
            "(срок оплаты {due_date}).\nСделка: [url={deal_link}]{deal_title}[/url]"
        ),
        "reverted": (
            "Сделка [url={link}]{deal_title}[/url] возвращена на стадию «{previous_stage}»: "
            "для стадии «{stage}» нужно заполнить: {fields}."
        ),
        "not_reverted": (
            "Сделка [url={link}]{deal_title}[/url] находится на стадии «{stage}», но не заполнены: "
            "{fields}. Вернуть её было некуда, заполните поля."
        ),
        "report": (
            "Незаполненные карточки: {total} (сделки: {deals}, компании: {companies}, "
            "контакты: {contacts}).\n{list}"
        ),
        "report_more": "… и ещё {count}",
    },
    "en": {
        "invoice_title": "Invoice {number} of {count} for deal “{deal_title}”",
        "send_task_title": "Send invoice {number} for deal “{deal_title}”",
        "send_task_description": (
            "Send the client [url={invoice_link}]invoice {number}[/url] for {amount} {currency}, "
            "due {due_date}.\nDeal: [url={deal_link}]{deal_title}[/url]"
        ),
        "check_task_title": "Check payment of invoice {number} for deal “{deal_title}”",
        "check_task_description": (
            "Check whether [url={invoice_link}]invoice {number}[/url] for {amount} {currency} "
            "(due {due_date}) has been paid.\nDeal: [url={deal_link}]{deal_title}[/url]"
        ),
        "reverted": (
            "Deal [url={link}]{deal_title}[/url] was moved back to “{previous_stage}”: "
            "the stage “{stage}” needs {fields}."
        ),
        "not_reverted": (
            "Deal [url={link}]{deal_title}[/url] is on the stage “{stage}” without {fields}, "
            "and there is no earlier stage to move it back to: please fill them in."
        ),
        "report": (
            "Incomplete cards: {total} (deals: {deals}, companies: {companies}, "
            "contacts: {contacts}).\n{list}"
        ),
        "report_more": "… and {count} more",
    },
}

WORDS: dict[str, dict[str, str]] = {
    "ru": {"deal": "сделка", "company": "компания", "contact": "контакт"},
    "en": {"deal": "deal", "company": "company", "contact": "contact"},
}


def language_of(language: str | None) -> str:
    """``ru`` or ``en``: the defaults to use for a portal or job language."""
    return "ru" if (language or "").lower().startswith("ru") else "en"


def check_texts(texts: Mapping[str, str], keys: Iterable[str], *, field: str = "texts") -> dict[str, str]:
    """Validate a ``texts:`` mapping: known keys only, each a template with that key's names."""
    allowed = tuple(keys)
    out: dict[str, str] = {}
    for key, text in texts.items():
        if key not in allowed:
            raise ConfigError(f"unknown text {key!r}", field=field, suggestion=f"one of {', '.join(allowed)}")
        out[key] = check_template(text, NAMES[key], field=f"{field}.{key}")
    return out


def text(key: str, language: str, overrides: Mapping[str, str]) -> str:
    """The template for ``key``: the job's override, else the default for ``language``."""
    return overrides.get(key) or DEFAULTS[language_of(language)][key]


def word(key: str, language: str) -> str:
    return WORDS[language_of(language)][key]


def money(amount: Decimal, language: str) -> str:
    """``50 000,00`` in Russian, ``50,000.00`` in English."""
    plain = f"{amount:,.2f}"
    if language_of(language) == "ru":
        return plain.replace(",", " ").replace(".", ",")
    return plain


def day(value: date, language: str) -> str:
    """``01.12.2026`` in Russian, ``2026-12-01`` in English."""
    return value.strftime("%d.%m.%Y") if language_of(language) == "ru" else value.isoformat()
