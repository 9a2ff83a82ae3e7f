"""The completeness report (S2): per responsible user, the deals, companies and contacts whose
cards lack required fields; one notification per user and, given a path, an Excel workbook.

Deals are checked against the fields any stage of their pipeline requires (so the report lists
what will stop a deal later), companies and contacts against the fields the requirements list
for them; ``report:`` in the settings may name other lists. Lists are streamed (the ID window,
2,500 records per request); only the incomplete cards are kept.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openpyxl import Workbook

from b24kit.automation import RuleContext
from b24kit.client import Command

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


@dataclass
class CompletenessReport:
    rows: list[CardRow] = field(default_factory=list)
    users: dict[int, str] = field(default_factory=dict)  # user ID -> name
    notified: list[int] = field(default_factory=list)
    output: Path | None = None

    def counts(self) -> dict[int, Counter[str]]:
        """Per user: incomplete cards by entity."""
        out: dict[int, Counter[str]] = {}
        for row in self.rows:
            out.setdefault(row.user_id, Counter())[row.entity] += 1
        return out


async def completeness_report(
    ctx: RuleContext, settings: RequiredFieldsSettings | Mapping[str, Any], output: str | Path | None = None
) -> CompletenessReport:
    """Scan the cards, notify each responsible user (``report.notify``) and write ``output`` (xlsx)."""
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
    if checked.report.notify:
        report.notified = await _notify(ctx, checked, report, language)
    if output is not None:
        report.output = write_workbook(report, Path(output), language)
    return report


async def run_completeness_report(event: Any, ctx: RuleContext, settings: Any) -> dict[str, Any]:
    """The entry for a cron job, called like a rule or hook (``event`` is not used): the report
    with ``report.output`` (``{date}`` filled in), and a JSON-able summary for the run log."""
    checked = (
        settings
        if isinstance(settings, RequiredFieldsSettings)
        else RequiredFieldsSettings.model_validate(settings or {})
    )
    output = checked.report.output
    path = output.replace("{date}", ctx.now().date().isoformat()) if output else None
    report = await completeness_report(ctx, checked, path)
    return {
        "cards": len(report.rows),
        "users": len(report.counts()),
        "notified": len(report.notified),
        "output": str(report.output) if report.output else None,
    }


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
    ctx: RuleContext, settings: RequiredFieldsSettings, report: CompletenessReport, language: str
) -> list[int]:
    limit = settings.report.max_items
    by_user: dict[int, list[CardRow]] = {}
    for row in report.rows:
        if row.user_id:
            by_user.setdefault(row.user_id, []).append(row)
    commands = {}
    for user_id, rows in by_user.items():
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
    if res is not None and res.errors:
        ctx.log.warning("completeness report: %d notifications failed: %s", len(res.errors), res.errors)
    return [u for u in by_user if res is not None and f"n{u}" in res.results]


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
    book.save(path)
    return path
