"""The completeness report (S2): per responsible user, the deals, companies and contacts whose
cards lack required fields; given a path, an Excel workbook, then one notification per user.

Deals are checked against the fields any stage of their pipeline requires (so the report lists
what will stop a deal later), companies and contacts against the fields the requirements list
for them; ``report:`` in the settings may name other lists. Lists are streamed (the ID window,
2,500 records per request); only the incomplete cards are kept.

The workbook is written first (to a temporary file moved into place), so a failed write leaves
no one notified; the users notified in a run are remembered (``ctx.memory``) until it ends, so a
retry of the run notifies only those not told yet.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import secrets
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC
from pathlib import Path
from typing import Any

from openpyxl import Workbook

from b24kit.automation import PortalEvent, RuleContext
from b24kit.client import Command
from b24kit.errors import AuthError, B24Error, Retriable

from . import texts
from .links import portal_base, record_link
from .required_model import Entity, RequiredFieldsSettings, is_empty, label, title_of
from .templates import render

_LIST = {"deal": "crm.deal.list", "company": "crm.company.list", "contact": "crm.contact.list"}
_NAMES = {"deal": ["TITLE"], "company": ["TITLE"], "contact": ["NAME", "LAST_NAME"]}
_HEADERS = {
    "ru": ["Ответственный", "ID ответственного", "Тип", "ID", "Название", "Не заполнено", "Ссылка"],
    "en": ["Responsible", "Responsible ID", "Type", "ID", "Title", "Missing", "Link"],
}
_SHEETS = {"ru": ("Карточки", "Сводка"), "en": ("Cards", "Summary")}
_SUMMARY = {
    "ru": ["Ответственный", "ID ответственного", "Сделки", "Компании", "Контакты", "Всего"],
    "en": ["Responsible", "Responsible ID", "Deals", "Companies", "Contacts", "Total"],
}


@dataclass(frozen=True)
class CardRow:
    """One incomplete card: whose it is, what it is, and the labels of its empty fields."""

    user_id: int
    entity: Entity
    record_id: int
    title: str
    missing: tuple[str, ...]
    link: str


class TransientNotifyError(B24Error, Retriable):
    """Some report notifications failed for a reason that passes (a 5xx, the network, a limit):
    the runner runs the report again, which notifies only the users not told yet."""


@dataclass
class CompletenessReport:
    rows: list[CardRow] = field(default_factory=list)
    users: dict[int, str] = field(default_factory=dict)  # user ID -> name
    notified: list[int] = field(default_factory=list)  # told in this run (or an earlier attempt of it)
    failed: dict[int, Exception] = field(default_factory=dict)  # user ID -> why the notification failed
    output: Path | None = None

    def counts(self) -> dict[int, Counter[str]]:
        """Per user: incomplete cards by entity."""
        out: dict[int, Counter[str]] = {}
        for row in self.rows:
            out.setdefault(row.user_id, Counter())[row.entity] += 1
        return out


async def completeness_report(
    ctx: RuleContext,
    settings: RequiredFieldsSettings | Mapping[str, Any],
    output: str | Path | None = None,
    *,
    run: str | None = None,
) -> CompletenessReport:
    """Scan the cards, write ``output`` (xlsx) when given, then notify each responsible user
    (``report.notify``). Failed notifications are in ``failed``; nothing is raised for them.

    ``run`` names this run for ``ctx.memory``: users an earlier attempt of the same run notified
    are not notified again.
    """
    checked = (
        settings
        if isinstance(settings, RequiredFieldsSettings)
        else RequiredFieldsSettings.model_validate(settings)
    )
    language = texts.language_of(checked.language or ctx.language)
    wanted = _wanted(checked)
    metas = await _metas(ctx, [e for e in ("deal", "company", "contact") if _any(wanted[e])])
    base = portal_base(ctx)
    report = CompletenessReport()
    for entity in ("deal", "company", "contact"):
        if _any(wanted[entity]):
            report.rows.extend(
                await _scan(ctx, checked, entity, wanted[entity], metas[entity], base, language)
            )
    report.rows.sort(key=lambda r: (r.user_id, r.entity != "deal", r.entity, r.record_id))
    report.users = await _user_names(ctx, sorted({r.user_id for r in report.rows}))
    if output is not None:
        report.output = write_workbook(report, Path(output), language)
    if checked.report.notify:
        await _notify(ctx, checked, report, language, _memory_key(run) if run else None)
    return report


async def run_completeness_report(event: Any, ctx: RuleContext, settings: Any) -> dict[str, Any]:
    """The entry for a cron job, called like a rule or hook: the report with ``report.output``
    (see :func:`output_path`), and a JSON-able summary for the run log.

    Raises :class:`TransientNotifyError` when notifications failed for a reason that passes; the
    runner's retry (the same queued run: ``event.data["at"]``) notifies only the others.
    """
    checked = (
        settings
        if isinstance(settings, RequiredFieldsSettings)
        else RequiredFieldsSettings.model_validate(settings or {})
    )
    output = checked.report.output
    run = _run_of(event)
    report = await completeness_report(ctx, checked, output_path(output, ctx) if output else None, run=run)
    passing = {u: e for u, e in report.failed.items() if isinstance(e, Retriable | AuthError)}
    if passing:
        first = next(iter(passing.items()))
        raise TransientNotifyError(
            f"completeness report: {len(passing)} notifications failed (user {first[0]}: {first[1]}); "
            "they are sent again, to those users only"
        )
    if run is not None:
        await ctx.memory.delete(_memory_key(run))
    return {
        "cards": len(report.rows),
        "users": len(report.counts()),
        "notified": len(report.notified),
        "output": str(report.output) if report.output else None,
    }


async def report_now(
    ctx: RuleContext,
    settings: RequiredFieldsSettings,
    *,
    output: str | Path | None = None,
    notify: bool | None = None,
) -> CompletenessReport:
    """One report outside the runner (``b24kit rules report``): ``notify`` replaces
    ``report.notify`` when given; ``output`` (``{date}`` filled in) is read against the working
    directory; without it, ``report.output`` is used as the job uses it (see :func:`output_path`)."""
    if notify is not None:
        report = settings.report.model_copy(update={"notify": notify})
        settings = settings.model_copy(update={"report": report})
    if output is not None:
        path: Path | None = Path(str(output).replace("{date}", _today(ctx)))
    else:
        path = output_path(settings.report.output, ctx) if settings.report.output else None
    return await completeness_report(ctx, settings, path)


def output_path(output: str, ctx: RuleContext) -> Path:
    """``report.output`` as a path: ``{date}`` is the run's date in the time zone of the job's
    cron trigger (UTC when it has none); a relative path is relative to the job file's folder
    (to the working directory outside a job)."""
    text = output.replace("{date}", _today(ctx))
    return ctx.job.path(text) if ctx.job is not None else Path(text)


def _today(ctx: RuleContext) -> str:
    now = ctx.now()
    return (ctx.job.today(now) if ctx.job is not None else now.astimezone(UTC).date()).isoformat()


def _run_of(event: Any) -> str | None:
    """What names one queued run of a job across its retries: the job and when it was queued
    (a cron or manual run's ``B24KIT_CRON`` event says both)."""
    data = event.data if isinstance(event, PortalEvent) else {}
    return f"{data.get('job') or ''}@{data['at']}" if data.get("at") else None


def _memory_key(run: str) -> str:
    return "completeness-report:" + hashlib.sha256(run.encode()).hexdigest()[:32]


def _wanted(settings: RequiredFieldsSettings) -> dict[str, dict[int | None, list[str]]]:
    """Fields checked per entity, by deal pipeline for deals (``None``: every pipeline)."""
    chosen = settings.report
    deal: dict[int | None, list[str]]
    if chosen.deal is not None:
        deal = {None: chosen.deal}
    else:
        deal = {r.pipeline: settings.fields_of("deal", r.pipeline) for r in settings.requirements}
    company = chosen.company if chosen.company is not None else settings.fields_of("company")
    contact = chosen.contact if chosen.contact is not None else settings.fields_of("contact")
    return {"deal": deal, "company": {None: company}, "contact": {None: contact}}


def _any(fields: Mapping[int | None, list[str]]) -> bool:
    return any(fields.values())


async def _metas(ctx: RuleContext, entities: list[str]) -> dict[str, dict[str, Any]]:
    if not entities:
        return {"deal": {}, "company": {}, "contact": {}}
    res = await ctx.client.batch({e: Command(f"crm.{e}.fields") for e in entities})
    res.raise_for_errors()
    return {e: res.results.get(e) or {} for e in ("deal", "company", "contact")}


async def _scan(
    ctx: RuleContext,
    settings: RequiredFieldsSettings,
    entity: Entity,
    wanted: Mapping[int | None, list[str]],
    meta: Mapping[str, Any],
    base: str,
    language: str,
) -> list[CardRow]:
    every = list(dict.fromkeys(f for fields in wanted.values() for f in fields))
    select = ["ID", "ASSIGNED_BY_ID", *_NAMES[entity], *(["CATEGORY_ID"] if entity == "deal" else []), *every]
    chosen = settings.report
    filters = {"deal": chosen.deal_filter, "company": chosen.company_filter, "contact": chosen.contact_filter}
    params = {"filter": filters[entity], "select": list(dict.fromkeys(select))}
    rows: list[CardRow] = []
    async for record in ctx.client.iter_list(_LIST[entity], params):
        pipeline = int(record.get("CATEGORY_ID") or 0) if entity == "deal" else None
        fields = wanted.get(None) or wanted.get(pipeline) or []
        empty = [f for f in fields if is_empty(record.get(f))]
        if empty:
            record_id = int(record["ID"])
            rows.append(
                CardRow(
                    int(record.get("ASSIGNED_BY_ID") or 0),
                    entity,
                    record_id,
                    title_of(entity, record),
                    tuple(label(meta, f, language) for f in empty),
                    record_link(base, entity, record_id),
                )
            )
    return rows


async def _user_names(ctx: RuleContext, user_ids: list[int]) -> dict[int, str]:
    if not user_ids:
        return {}
    res = await ctx.client.batch({f"u{u}": Command("user.get", {"ID": u}) for u in user_ids})
    names = {}
    for user_id in user_ids:
        found = res.results.get(f"u{user_id}") or []
        user = found[0] if found else {}
        names[user_id] = " ".join(str(user.get(k) or "").strip() for k in ("NAME", "LAST_NAME")).strip()
    return names


async def _notify(
    ctx: RuleContext,
    settings: RequiredFieldsSettings,
    report: CompletenessReport,
    language: str,
    memory_key: str | None,
) -> None:
    limit = settings.report.max_items
    by_user: dict[int, list[CardRow]] = {}
    for row in report.rows:
        if row.user_id:
            by_user.setdefault(row.user_id, []).append(row)
    told = set(json.loads(await ctx.memory.get(memory_key) or "[]")) if memory_key else set()
    commands = {}
    for user_id, rows in by_user.items():
        if user_id in told:
            continue  # an earlier attempt of this run notified them
        counts = Counter(r.entity for r in rows)
        lines = [
            f"[url={r.link}]{r.title or r.record_id}[/url]: {', '.join(r.missing)}" for r in rows[:limit]
        ]
        if len(rows) > limit:
            lines.append(
                render(texts.text("report_more", language, settings.texts), {"count": len(rows) - limit})
            )
        values = {
            "user_id": user_id,
            "total": len(rows),
            "deals": counts["deal"],
            "companies": counts["company"],
            "contacts": counts["contact"],
            "list": "\n".join(lines),
        }
        message = render(texts.text("report", language, settings.texts), values)
        commands[f"n{user_id}"] = Command("im.notify.system.add", {"USER_ID": user_id, "MESSAGE": message})
    res = await ctx.client.batch(commands) if commands else None
    sent = {u for u in by_user if res is not None and f"n{u}" in res.results}
    report.notified = [u for u in by_user if u in told or u in sent]
    report.failed = {u: res.errors[f"n{u}"] for u in by_user if res is not None and f"n{u}" in res.errors}
    if report.failed:
        ctx.log.warning("completeness report: %d notifications failed: %s", len(report.failed), report.failed)
    if memory_key and sent:
        await ctx.memory.set(memory_key, json.dumps(sorted(told | sent)))


def write_workbook(report: CompletenessReport, path: Path, language: str) -> Path:
    """The report as ``.xlsx`` (openpyxl write-only mode): the cards, then a summary per user."""
    lang = texts.language_of(language)
    book = Workbook(write_only=True)
    cards = book.create_sheet(_SHEETS[lang][0])
    cards.append(_HEADERS[lang])
    for row in report.rows:
        cards.append(
            [
                report.users.get(row.user_id, ""),
                row.user_id,
                texts.word(row.entity, lang),
                row.record_id,
                row.title,
                ", ".join(row.missing),
                row.link,
            ]
        )
    summary = book.create_sheet(_SHEETS[lang][1])
    summary.append(_SUMMARY[lang])
    for user_id, counts in report.counts().items():
        values = [counts["deal"], counts["company"], counts["contact"]]
        summary.append([report.users.get(user_id, ""), user_id, *values, sum(values)])
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")  # the umask's mode, not 0600
    try:  # a reader (or a failed write) never sees half a workbook
        book.save(temp)
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    return path
