"""The sync profile, version 1: sides, match keys, field maps, direction, deletes, cursor, triggers."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from .base import Spec
from .conditions import Condition
from .fields import RECORD_ID, AnyField, FieldSpec, FromField, LinkField, Normaliser
from .triggers import Triggers
from .twoway import ComputedSpec, LinkFieldsSpec

PROFILE_VERSION = 1


class CursorSpec(Spec):
    """Incremental reads: only records whose ``field`` changed since the last run (minus ``lag_seconds``)."""

    field: str = Field(
        min_length=1, description="The modified-time field (DATE_MODIFY, updated, whenChanged)."
    )
    lag_seconds: int = Field(
        0,
        ge=0,
        description="Re-read this many seconds before the cursor to catch late or clock-skewed updates.",
    )
    backfill: Literal["all", "none"] | datetime = Field(
        "all", description="The first run: read everything (all), start from now (none), or since a date."
    )

    @field_validator("backfill", mode="before")
    @classmethod
    def _date(cls, value: object) -> object:
        if isinstance(value, date) and not isinstance(value, datetime):
            return datetime.combine(value, time())
        return value


class SideSpec(Spec):
    """One side of the sync: a connector, the entity it reads or writes, and the connector's options."""

    connector: str = Field(min_length=1, description="A connector from the b24kit.connectors entry points.")
    entity: str = Field(
        min_length=1,
        description="What to sync on this side: contact, deal, user, a sheet name, an issue type...",
    )
    options: dict[str, Any] = Field(
        default_factory=dict, description="The connector's options (see its docs)."
    )
    where: tuple[Condition, ...] = Field(
        (), description="Only records where all conditions hold take part; the others count as absent."
    )
    cursor: CursorSpec | None = Field(None, description="Read incrementally by a modified-time field.")


class MatchKey(Spec):
    """Pair a source record with an existing target record whose normalised values are equal."""

    source: str = Field(min_length=1, description=f"The source field ({RECORD_ID} for the record id).")
    target: str = Field(
        min_length=1, description="The target field (multi-fields such as EMAIL match any value)."
    )
    normalise: Normaliser = Field(
        "exact", description="email: case; phone: E.164; text: trimmed, case-folded; inn."
    )
    phone_region: str = Field(
        "RU", min_length=2, max_length=2, description="Region for phones written without +code."
    )


class MatchSpec(Spec):
    """How unlinked records find their partner: linked ids first, then these keys in order."""

    keys: tuple[MatchKey, ...] = Field((), description="Tried in order; the first key with a hit decides.")
    on_ambiguous: Literal["skip", "first"] = Field(
        "skip", description="Several records match one key: skip the record (reported) or take the lowest id."
    )


def _percent_schema(schema: dict[str, Any]) -> None:
    schema.setdefault("anyOf", []).insert(0, {"type": "string", "pattern": r"^\s*\d+(\.\d+)?\s*%\s*$"})


class DeleteGuard(Spec):
    """Stop the delete phase when it would touch more records than this (either limit trips it)."""

    max_count: int | None = Field(100, ge=0, description="Most records one run may delete or deactivate.")
    max_share: float | None = Field(
        None,
        ge=0,
        le=1,
        description="Largest share (0..1, or '10%') of linked records one run may touch.",
        json_schema_extra=_percent_schema,
    )

    @field_validator("max_share", mode="before")
    @classmethod
    def _percent(cls, value: object) -> object:
        if isinstance(value, str) and value.strip().endswith("%"):
            try:
                return float(value.strip()[:-1]) / 100
            except ValueError:
                raise ValueError(f"{value!r} is not a percentage such as '10%'") from None
        return value


class DeletesSpec(Spec):
    """What happens to a target record when its source record disappears or becomes inactive."""

    mode: Literal["ignore", "deactivate", "delete"] = Field(
        "ignore", description="ignore, deactivate or delete."
    )
    deactivate: dict[str, Any] = Field(
        default_factory=dict, description="Target fields written to deactivate a record, e.g. {ACTIVE: N}."
    )
    reactivate: dict[str, Any] = Field(
        default_factory=dict, description="Target fields written when a deactivated record's source returns."
    )
    inactive_when: tuple[Condition, ...] = Field(
        (),
        description="Source records matching all of these count as deleted (an AD account that is disabled).",
    )
    guard: DeleteGuard = Field(default_factory=DeleteGuard)
    target_missing: Literal["recreate", "unlink", "deactivate_source", "delete_source"] = Field(
        "recreate",
        description=(
            "A linked target record vanished: create it again, or drop the link and leave it; two-way "
            "profiles may also deactivate (deactivate_source fields) or delete the source record."
        ),
    )
    deactivate_source: dict[str, Any] = Field(
        default_factory=dict,
        description="Source fields written when its target vanished (target_missing: deactivate_source).",
    )

    @model_validator(mode="after")
    def _deactivate_fields(self) -> DeletesSpec:
        if self.mode == "deactivate" and not self.deactivate:
            raise ValueError(
                "mode: deactivate needs `deactivate`: the target fields that deactivate a record"
            )
        if self.target_missing == "deactivate_source" and not self.deactivate_source:
            raise ValueError(
                "target_missing: deactivate_source needs `deactivate_source`: the source fields to write"
            )
        return self


class ProtectedSpec(Spec):
    """Target records the sync never updates, deactivates or deletes."""

    ids: tuple[str, ...] = Field(
        (), description="Target record ids.", json_schema_extra={"items": {"type": ["string", "integer"]}}
    )
    match_any: tuple[Condition, ...] = Field(
        (), description="A target record matching any of these is protected."
    )

    @field_validator("ids", mode="before")
    @classmethod
    def _text_ids(cls, value: object) -> object:
        if isinstance(value, list | tuple):
            return tuple(str(v) for v in value)
        return value


class Profile(Spec):
    """A sync profile: which records of one system correspond to which of another, and how."""

    version: Literal[1] = Field(description="The profile language version; this b24kit reads version 1.")
    name: str = Field(
        pattern=r"^[a-z0-9][a-z0-9_.-]*$",
        max_length=100,
        description="Unique name; the state store keys links and cursors by it.",
    )
    description: str = ""
    source: SideSpec
    target: SideSpec
    direction: Literal["one_way", "two_way"] = Field(
        "one_way", description="one_way: source -> target; two_way: changes flow both ways, per field."
    )
    mode: Literal["upsert", "update", "create"] = Field(
        "upsert",
        description="upsert: create missing and update linked; update: never create; create: never update.",
    )
    match: MatchSpec = Field(default_factory=MatchSpec)
    fields: dict[str, FieldSpec] = Field(
        min_length=1, description="Target field -> where its value comes from."
    )
    conflict: Literal["newest", "source", "target"] = Field(
        "newest", description="Two-way: who wins when both sides changed a field that has no `owner`."
    )
    drift: Literal["overwrite", "keep"] = Field(
        "overwrite",
        description="One-way: target edits are overwritten each run, or kept until the source value changes.",
    )
    deletes: DeletesSpec = Field(default_factory=DeletesSpec)
    protected: ProtectedSpec = Field(default_factory=ProtectedSpec)
    triggers: Triggers = Field(default_factory=Triggers)
    link_fields: LinkFieldsSpec = Field(
        default_factory=LinkFieldsSpec, description="Keep the link on the records too (two-way)."
    )
    computed: ComputedSpec = Field(
        default_factory=ComputedSpec, description="Fields recomputed from the record's own fields."
    )
    batch_size: int | None = Field(
        None, ge=1, le=50, description="Records per write batch; default the connector's (50)."
    )

    @model_validator(mode="after")
    def _consistent(self) -> Profile:
        for name, spec in self.fields.items():
            problem = _field_problem(spec, self.direction)
            if problem is not None:
                key, message = problem
                raise PydanticCustomError(
                    "profile_rule", "{message}", {"message": message, "path": f"fields.{name}.{key}"}
                )
        if self.direction != "two_way":
            for path, used in (
                ("link_fields.source", self.link_fields.source is not None),
                ("computed.source", bool(self.computed.source)),
                ("deletes.target_missing", self.deletes.target_missing.endswith("_source")),
            ):
                if used:
                    raise PydanticCustomError(
                        "profile_rule",
                        "{message}",
                        {"message": "this writes to the source: it needs direction: two_way", "path": path},
                    )
        return self


def _field_problem(spec: AnyField, direction: str) -> tuple[str, str] | None:
    """The first rule a field map breaks, as (its key, the message), or None."""
    if direction == "one_way":
        if spec.direction == "to_source":
            return "direction", "direction to_source needs the profile's direction: two_way"
        if spec.owner is not None:
            return "owner", "owner applies to two-way profiles only"
        return None
    if spec.direction == "to_target":
        return None
    if not isinstance(spec, FromField | LinkField):
        if spec.direction == "to_source":
            kind = type(spec).__name__.removesuffix("Field").lower()
            return "direction", f"a {kind} field can only flow to the target"
        return None
    if isinstance(spec, FromField) and len(spec.paths) != 1:
        return "from", "a field built from several source fields cannot flow back; add `direction: to_target`"
    if spec.map is not None:
        return _injective_problem(spec.map)
    return None


def _injective_problem(value_map: dict[str, Any]) -> tuple[str, str] | None:
    seen: dict[str, str] = {}
    for key, value in value_map.items():
        text = repr(value)
        if text in seen:
            return "map", (
                f"map sends both {seen[text]!r} and {key!r} to {value!r}, so it cannot be reversed for "
                "two-way sync; make it one-to-one or add `direction: to_target`"
            )
        seen[text] = key
    return None
