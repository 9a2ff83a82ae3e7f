"""Required fields (S2), pure part: settings, which requirements apply, what is missing, where to go back.

A requirement guards stages of one pipeline (deal category): a deal on one of them must have the
listed fields of its own, of its company and of each of its contacts filled in. With
``from_pipelines`` it guards only deals that arrived from another pipeline (a move between
pipelines). A deal that breaks a requirement goes back to the most recent stage of its history
where no requirement would stop it, so the move back never triggers another.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from . import texts

TEXT_KEYS = ("reverted", "not_reverted", "report", "report_more")
Entity = Literal["deal", "company", "contact"]
_CODE = re.compile(r"[A-Za-z][A-Za-z0-9_]*")


def _codes(values: list[str]) -> list[str]:
    for value in values:
        if not _CODE.fullmatch(value):
            raise ValueError(f"{value!r} is not a field code (e.g. OPPORTUNITY, UF_CRM_INN, PHONE)")
    return list(dict.fromkeys(v.upper() for v in values))


class Requirement(BaseModel):
    """Fields a deal needs on some stages of one pipeline."""

    model_config = ConfigDict(extra="forbid")

    pipeline: int = Field(0, ge=0)  # CATEGORY_ID; 0 is the default pipeline
    stages: list[str] = []  # STAGE_IDs guarded (C1:WON in pipeline 1); []: every stage of the pipeline
    from_pipelines: list[int] | None = None  # only deals moved in from these pipelines ([]: from any)
    deal: list[str] = []
    company: list[str] = []
    contact: list[str] = []
    fallback_stage: str | None = None  # where to send a deal whose history has no stage to go back to

    @field_validator("deal", "company", "contact")
    @classmethod
    def _check_codes(cls, value: list[str]) -> list[str]:
        return _codes(value)

    @model_validator(mode="after")
    def _something_required(self) -> Requirement:
        if not (self.deal or self.company or self.contact):
            raise ValueError("list at least one field under deal, company or contact")
        return self


class ReportSettings(BaseModel):
    """The completeness report; a ``None`` field list means the requirements' fields."""

    model_config = ConfigDict(extra="forbid")

    deal: list[str] | None = None  # None: the fields any stage of the deal's pipeline requires
    company: list[str] | None = None
    contact: list[str] | None = None
    deal_filter: dict[str, Any] = {"CLOSED": "N"}
    company_filter: dict[str, Any] = {}
    contact_filter: dict[str, Any] = {}
    notify: bool = True
    max_items: int = Field(10, ge=0, le=100)  # cards listed in a notification
    output: str | None = None  # .xlsx path for scheduled runs; {date} is replaced by the run's date

    @field_validator("deal", "company", "contact")
    @classmethod
    def _check_codes(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else _codes(value)


class RequiredFieldsSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    requirements: list[Requirement] = []
    notify: bool = True  # notify the deal's responsible user of a move back
    language: str | None = None  # ru | en; None: the portal's (RuleContext.language)
    texts: dict[str, str] = {}
    report: ReportSettings = ReportSettings()

    @field_validator("texts")
    @classmethod
    def _texts(cls, value: dict[str, str]) -> dict[str, str]:
        return texts.check_texts(value, TEXT_KEYS)

    def fields_of(self, entity: Entity, pipeline: int | None = None) -> list[str]:
        """Every field of ``entity`` some requirement (of ``pipeline``, if given) lists."""
        found: list[str] = []
        for req in self.requirements:
            if pipeline is None or req.pipeline == pipeline:
                found.extend(getattr(req, entity))
        return list(dict.fromkeys(found))


@dataclass(frozen=True)
class Place:
    """Where a deal is: its pipeline and stage."""

    pipeline: int
    stage: str


@dataclass(frozen=True)
class Card:
    """A deal with its company and contacts, as ``crm.*.get`` returns them (UPPER names)."""

    deal: Mapping[str, Any]
    company: Mapping[str, Any] | None
    contacts: Sequence[Mapping[str, Any]]


@dataclass(frozen=True)
class Missing:
    """A required field left empty; ``record_id`` ``None``: the deal has no company or contact."""

    entity: Entity
    record_id: int | None
    record_title: str
    field: str


def applicable(settings: RequiredFieldsSettings, place: Place, came_from: Place | None) -> list[Requirement]:
    """The requirements guarding ``place`` for a deal that arrived there from ``came_from``."""
    found = []
    for req in settings.requirements:
        if req.pipeline != place.pipeline or (req.stages and place.stage not in req.stages):
            continue
        if req.from_pipelines is not None:
            if came_from is None or came_from.pipeline == place.pipeline:
                continue  # not a move between pipelines
            if req.from_pipelines and came_from.pipeline not in req.from_pipelines:
                continue
        found.append(req)
    return found


def is_empty(value: Any) -> bool:
    """Missing, blank, an empty list or map, or zero (how the portal stores no link or amount)."""
    if value is None or value is False:
        return True
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return True
        try:
            return float(text) == 0
        except ValueError:
            return False
    if isinstance(value, int | float):
        return value == 0
    if isinstance(value, list | tuple | dict):
        return all(is_empty(v.get("VALUE") if isinstance(v, dict) else v) for v in _items(value))
    return False


def _items(value: list[Any] | tuple[Any, ...] | dict[str, Any]) -> Iterable[Any]:
    if isinstance(value, dict):
        return [value] if "VALUE" in value else value.values()
    return value


def missing_fields(requirements: Iterable[Requirement], card: Card) -> list[Missing]:
    """What ``card`` lacks for ``requirements``, deal fields first, then company, then contacts."""
    reqs = list(requirements)

    def wanted(entity: Entity) -> list[str]:
        return list(dict.fromkeys(f for r in reqs for f in getattr(r, entity)))

    deal_id = int(card.deal.get("ID") or 0)
    out = [
        Missing("deal", deal_id, str(card.deal.get("TITLE") or ""), f)
        for f in wanted("deal")
        if is_empty(card.deal.get(f))
    ]
    if fields := wanted("company"):
        if card.company is None:
            out.append(Missing("company", None, "", "COMPANY_ID"))
        else:
            out.extend(_record("company", card.company, fields))
    if fields := wanted("contact"):
        if not card.contacts:
            out.append(Missing("contact", None, "", "CONTACT_ID"))
        for contact in card.contacts:
            out.extend(_record("contact", contact, fields))
    return out


def _record(entity: Entity, row: Mapping[str, Any], fields: list[str]) -> list[Missing]:
    return [
        Missing(entity, int(row.get("ID") or 0), title_of(entity, row), f)
        for f in fields
        if is_empty(row.get(f))
    ]


def title_of(entity: Entity, row: Mapping[str, Any]) -> str:
    if entity == "contact":
        return " ".join(str(row.get(k) or "").strip() for k in ("NAME", "LAST_NAME")).strip()
    return str(row.get("TITLE") or "")


def history_places(entries: Iterable[Mapping[str, Any]], current: Place) -> tuple[Place | None, list[Place]]:
    """From stage history (newest first): where the deal came from, and the earlier places to go
    back to, newest first, each once, without the current one."""
    places = [Place(int(e.get("CATEGORY_ID") or 0), str(e.get("STAGE_ID") or "")) for e in entries]
    while places and places[0] == current:
        places.pop(0)  # the arrival on the current stage (and repeats of it)
    came_from = places[0] if places else None
    seen: list[Place] = []
    for place in places:
        if place != current and place not in seen:
            seen.append(place)
    return came_from, seen


def revert_target(
    settings: RequiredFieldsSettings, current: Place, candidates: Iterable[Place], card: Card
) -> Place | None:
    """The first candidate where the deal, coming back from ``current``, breaks no requirement."""
    for place in candidates:
        if place != current and not missing_fields(applicable(settings, place, current), card):
            return place
    return None


def label(meta: Mapping[str, Any], code: str, language: str) -> str:
    """A field's label from ``crm.*.fields``: the user field's form label, else its title."""
    entry = meta.get(code)
    if not isinstance(entry, Mapping):
        return code
    for key in ("formLabel", "listLabel", "editFormLabel", "title"):
        value = entry.get(key)
        if isinstance(value, Mapping):
            value = value.get(texts.language_of(language)) or next(iter(value.values()), None)
        if isinstance(value, str) and value.strip() and (key != "title" or value != code):
            return value.strip()
    return code


def describe(missing: Sequence[Missing], metas: Mapping[str, Mapping[str, Any]], language: str) -> str:
    """``Amount, INN; company “ACME”: Phone; contact “Ivan Petrov”: E-mail``, in the language."""
    open_q, close_q = ("«", "»") if texts.language_of(language) == "ru" else ("“", "”")
    groups: dict[tuple[str, int | None, str], list[str]] = {}
    for item in missing:
        if item.record_id is None:
            groups.setdefault(("deal", 0, ""), []).append(label(metas.get("deal", {}), item.field, language))
            continue
        key = (item.entity, item.record_id if item.entity != "deal" else 0, item.record_title)
        groups.setdefault(key, []).append(label(metas.get(item.entity, {}), item.field, language))
    parts = []
    for (entity, _, title), labels in groups.items():
        joined = ", ".join(dict.fromkeys(labels))
        if entity == "deal":
            parts.append(joined)
        else:
            parts.append(f"{texts.word(entity, language)} {open_q}{title}{close_q}: {joined}")
    return "; ".join(parts)
