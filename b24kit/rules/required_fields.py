"""Required fields (S2): a deal on a guarded stage with fields empty goes back, and its owner is told.

The event rule runs on deal add, update and move to another pipeline. It reads the deal, its
contact links and its stage history in one batch; only when the deal is on a guarded stage does
it read the company, the contacts, the field labels and the stage names (a second batch). On a
violation it moves the deal back (``crm.item.update``) and notifies the responsible user
(``im.notify.system.add``) in one batch. The stage it goes back to is the latest one in the
deal's history where no requirement stops it, so the event of the move back finds nothing to do.

The rule checks where a deal *is*, on every event: a deal standing on a guarded stage must have
the fields. So a required field emptied while the deal stands there also sends it back; a deal
created directly on a guarded stage goes to ``fallback_stage`` or its pipeline's first stage.
A deal with nowhere to go back to stays ("stuck"); its owner is told once per arrival on the
stage and set of missing fields (remembered in ``ctx.memory``), not on every later update.

The scheduled completeness report lives in :mod:`b24kit.rules.completeness`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from b24kit.automation import PortalEvent, RuleContext, event_rule
from b24kit.client import Command
from b24kit.errors import NotFound

from . import texts
from .completeness import completeness_report, run_completeness_report
from .links import portal_base, record_link
from .required_model import (
    Card,
    Missing,
    Place,
    RequiredFieldsSettings,
    Requirement,
    applicable,
    describe,
    history_places,
    missing_fields,
    revert_target,
)
from .templates import render

__all__ = [
    "Outcome",
    "check_deal",
    "completeness_report",
    "required_fields",
    "required_fields_report",
    "run_completeness_report",
]

EVENTS = ("ONCRMDEALADD", "ONCRMDEALUPDATE", "ONCRMDEALMOVETOCATEGORY")


@dataclass
class Outcome:
    """What a check did: ``unguarded``, ``complete``, ``reverted``, ``stuck`` (nowhere to go back) or
    ``gone`` (the deal was deleted)."""

    action: str
    deal_id: int
    place: Place | None = None
    target: Place | None = None
    missing: list[Missing] = field(default_factory=list)
    fields: str = ""  # the missing fields' labels, as the notification says them
    message: str = ""  # the notification sent, if any
    told_before: bool = False  # stuck, and the owner was told of this already: nothing sent


@event_rule("required_fields", events=EVENTS, settings=RequiredFieldsSettings)
async def required_fields(event: PortalEvent, ctx: RuleContext, settings: Any) -> None:
    """The event rule: check the deal the event names."""
    checked = _settings(settings)
    if event.entity_id is not None and checked.requirements:
        outcome = await check_deal(ctx, checked, event.entity_id)
        told = " (told before)" if outcome.told_before else ""
        ctx.log.info("required fields: deal %s %s%s", outcome.deal_id, outcome.action, told)


@event_rule("required_fields_report", events=(), settings=RequiredFieldsSettings)
async def required_fields_report(event: PortalEvent, ctx: RuleContext, settings: Any) -> None:
    """The completeness report as a rule for a cron job (``trigger: {cron: ...}``)."""
    summary = await run_completeness_report(event, ctx, settings)
    ctx.log.info("completeness report: %s", summary)


async def check_deal(ctx: RuleContext, settings: RequiredFieldsSettings, deal_id: int) -> Outcome:
    """Check one deal and move it back if it breaks a requirement; see the module docstring."""
    first = await ctx.client.batch(
        {
            "deal": Command("crm.deal.get", {"id": deal_id}),
            "contacts": Command("crm.deal.contact.items.get", {"id": deal_id}),
            "history": Command(
                "crm.stagehistory.list",
                {"entityTypeId": 2, "filter": {"OWNER_ID": deal_id}, "order": {"ID": "DESC"}},
            ),
        }
    )
    if isinstance(first.errors.get("deal"), NotFound):
        return Outcome("gone", deal_id)
    first.raise_for_errors()
    deal = first.results["deal"]
    place = Place(int(deal.get("CATEGORY_ID") or 0), str(deal.get("STAGE_ID") or ""))
    history = first.results["history"].get("items") or []
    came_from, earlier = history_places(history, place)
    guards = applicable(settings, place, came_from)
    if not guards:
        return Outcome("unguarded", deal_id, place)
    contact_ids = [int(c["CONTACT_ID"]) for c in first.results["contacts"] or []]
    card, metas, stages = await _read_card(ctx, settings, deal, contact_ids, {place, *earlier})
    missing = missing_fields(guards, card)
    if not missing:
        return Outcome("complete", deal_id, place)
    target = revert_target(settings, place, earlier, card) or _fallback(settings, guards, place, card, stages)
    outcome = Outcome("", deal_id, place, target, missing)
    return await _revert(ctx, settings, outcome, card, metas, stages, _arrival(history, place))


async def _read_card(
    ctx: RuleContext,
    settings: RequiredFieldsSettings,
    deal: Mapping[str, Any],
    contact_ids: list[int],
    places: set[Place],
) -> tuple[Card, dict[str, Any], dict[int, list[tuple[str, str]]]]:
    """The deal's company and contacts, the field labels, and the stages of the pipelines involved."""
    company_id = int(deal.get("COMPANY_ID") or 0)
    want_company = bool(settings.fields_of("company")) and company_id > 0
    want_contacts = bool(settings.fields_of("contact"))
    commands = {"deal_fields": Command("crm.deal.fields")}
    if want_company:
        commands["company"] = Command("crm.company.get", {"id": company_id})
        commands["company_fields"] = Command("crm.company.fields")
    if want_contacts:
        commands.update({f"contact_{i}": Command("crm.contact.get", {"id": i}) for i in contact_ids})
        commands["contact_fields"] = Command("crm.contact.fields")
    pipelines = sorted({p.pipeline for p in places})
    for pipeline in pipelines:
        entity = "DEAL_STAGE" if pipeline == 0 else f"DEAL_STAGE_{pipeline}"
        commands[f"stages_{pipeline}"] = Command(
            "crm.status.list", {"filter": {"ENTITY_ID": entity}, "order": {"SORT": "ASC"}}
        )
    res = await ctx.client.batch(commands)
    failed = {
        k: e for k, e in res.errors.items() if not (k.startswith("contact_") and isinstance(e, NotFound))
    }
    if failed:
        res.raise_for_errors()
    contacts = [res.results[f"contact_{i}"] for i in contact_ids if f"contact_{i}" in res.results]
    card = Card(deal, res.results.get("company"), contacts)
    metas = {
        "deal": res.results["deal_fields"],
        "company": res.results.get("company_fields") or {},
        "contact": res.results.get("contact_fields") or {},
    }
    stages = {
        p: [(str(s["STATUS_ID"]), str(s["NAME"])) for s in res.results[f"stages_{p}"]] for p in pipelines
    }
    return card, metas, stages


def _fallback(
    settings: RequiredFieldsSettings,
    guards: list[Requirement],
    place: Place,
    card: Card,
    stages: Mapping[int, list[tuple[str, str]]],
) -> Place | None:
    """No stage in the history to go back to: a requirement's ``fallback_stage``, else the
    pipeline's first stage, if the deal may stand there."""
    named = [g.fallback_stage for g in guards if g.fallback_stage]
    first = [stages[place.pipeline][0][0]] if stages.get(place.pipeline) else []
    candidates = [Place(place.pipeline, stage) for stage in [*named, *first]]
    return revert_target(settings, place, candidates, card)


async def _revert(
    ctx: RuleContext,
    settings: RequiredFieldsSettings,
    outcome: Outcome,
    card: Card,
    metas: Mapping[str, Any],
    stages: Mapping[int, list[tuple[str, str]]],
    arrival: str,
) -> Outcome:
    language = texts.language_of(settings.language or ctx.language)
    names = {(p, sid): name for p, rows in stages.items() for sid, name in rows}
    place, target = outcome.place, outcome.target
    assert place is not None
    outcome.fields = describe(outcome.missing, metas, language)
    values = {
        "deal_id": outcome.deal_id,
        "deal_title": str(card.deal.get("TITLE") or ""),
        "link": record_link(portal_base(ctx), "deal", outcome.deal_id),
        "fields": outcome.fields,
        "stage": names.get((place.pipeline, place.stage), place.stage),
    }
    commands: dict[str, Command] = {}
    if target is not None:
        fields: dict[str, Any] = {"stageId": target.stage}
        if target.pipeline != place.pipeline:
            fields["categoryId"] = target.pipeline
        commands["revert"] = Command(
            "crm.item.update", {"entityTypeId": 2, "id": outcome.deal_id, "fields": fields}
        )
        values["previous_stage"] = names.get((target.pipeline, target.stage), target.stage)
    template = texts.text("reverted" if target else "not_reverted", language, settings.texts)
    user = int(card.deal.get("ASSIGNED_BY_ID") or 0)
    memory_key, note = f"required_fields:stuck:{outcome.deal_id}", _stuck_note(outcome, arrival)
    if target is None and settings.notify and user and await ctx.memory.get(memory_key) == note:
        outcome.told_before = True  # the same stage, arrival and fields: the owner knows
    elif settings.notify and user:
        outcome.message = render(template, values)
        commands["notify"] = Command("im.notify.system.add", {"USER_ID": user, "MESSAGE": outcome.message})
    if commands:
        (await ctx.client.batch(commands, halt=True)).raise_for_errors()
        if target is None and outcome.message:
            await ctx.memory.set(memory_key, note)
    outcome.action = "reverted" if target else "stuck"
    return outcome


def _arrival(history: Sequence[Mapping[str, Any]], place: Place) -> str:
    """The ID of the stage-history entry of the deal's arrival where it is (newest first)."""
    newest = history[0] if history else {}
    here = Place(int(newest.get("CATEGORY_ID") or 0), str(newest.get("STAGE_ID") or "")) == place
    return str(newest.get("ID") or "") if here else ""


def _stuck_note(outcome: Outcome, arrival: str) -> str:
    """What a stuck deal's owner was told about: the arrival on the stage and what is missing."""
    assert outcome.place is not None
    missing = sorted(f"{m.entity}:{m.record_id}:{m.field}" for m in outcome.missing)
    text = "|".join([arrival, str(outcome.place.pipeline), outcome.place.stage, *missing])
    return hashlib.sha256(text.encode()).hexdigest()


def _settings(raw: Any) -> RequiredFieldsSettings:
    if isinstance(raw, RequiredFieldsSettings):
        return raw
    return RequiredFieldsSettings.model_validate(raw or {})
