"""Field maps: how one target field gets its value (``from``, ``const``, ``lookup``, ``links_of``)."""

from __future__ import annotations

from typing import Annotated, Any, Literal, TypeAlias

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, model_validator

from .base import Spec

Normaliser: TypeAlias = Literal["exact", "text", "email", "phone", "inn", "digits"]
RECORD_ID = "$id"
"""A ``from`` path that means the record's own id rather than one of its fields."""


class TransformRef(BaseModel):
    """A named transform with its options: ``date`` or ``{name: date, format: "%d.%m.%Y"}``.

    The options are checked against the transform's own option model when the profile loads.
    """

    model_config = ConfigDict(extra="allow", frozen=True)

    name: str = Field(
        min_length=1, description="A transform registered under the b24kit.transforms entry points."
    )

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: object) -> object:
        return {"name": data} if isinstance(data, str) else data

    @property
    def options(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


class FieldRule(Spec):
    """What every kind of field map shares: value map, transform, default, direction and ownership."""

    map: dict[str, Any] | None = Field(
        None, description="Value map applied before the transform: source value (as text) -> target value."
    )
    unmapped: Literal["fail", "keep", "drop", "default"] = Field(
        "fail", description="A value missing from `map`: fail the record, keep it, drop it, or use `default`."
    )
    transform: TransformRef | None = Field(
        None, description="A named transform (dates, numbers, users, enumerations...)."
    )
    default: Any = Field(None, description="The value when the source value is empty or absent.")
    empty: Literal["keep", "clear"] = Field(
        "keep", description="An empty source value: keep the target's value, or clear it."
    )
    direction: Literal["both", "to_target", "to_source"] = Field(
        "both", description="Two-way profiles: which way this field flows."
    )
    owner: Literal["source", "target"] | None = Field(
        None,
        description="Two-way profiles: the side that wins when both changed (else the profile's `conflict`).",
    )
    update: bool = Field(True, description="false: written when the record is created, never updated.")
    required: bool = Field(
        False, description="An empty value fails the record (e.g. a contact without a name)."
    )

    @property
    def has_default(self) -> bool:
        return "default" in self.model_fields_set

    @model_validator(mode="after")
    def _rules(self) -> FieldRule:
        if self.unmapped == "default" and not self.has_default:
            raise ValueError("unmapped: default needs a `default` value")
        if self.map is not None and not self.map:
            raise ValueError("map is empty; remove it or list the values")
        return self


class FromField(FieldRule):
    """The value of a source field (or several, for a transform that combines them)."""

    from_: str | tuple[str, ...] = Field(
        alias="from",
        description="Source field (dots walk into nested values; $id is the record id) or a list.",
    )

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: object) -> object:
        return {"from": data} if isinstance(data, str) else data

    @property
    def paths(self) -> tuple[str, ...]:
        return (self.from_,) if isinstance(self.from_, str) else self.from_


class ConstField(FieldRule):
    """A constant written to the target."""

    const: Any = Field(description="The value to write.")


class LookupKey(Spec):
    """Find the related record whose ``field`` equals the source value at ``from``."""

    field: str = Field(min_length=1, description="The field of the related record to search by.")
    from_: str = Field(
        alias="from", min_length=1, description="The source field that holds the value to search for."
    )
    normalise: Normaliser = Field("text", description="How both values are normalised before comparing.")


class LookupSpec(Spec):
    """A related record found by key (a company by INN, then by name), created when asked."""

    entity: str = Field(min_length=1, description="The related entity on the lookup side (company, user...).")
    side: Literal["source", "target"] = Field(
        "target", description="Which connector holds the related entity."
    )
    by: tuple[LookupKey, ...] = Field(
        min_length=1, description="Keys tried in order; the first that finds a record wins."
    )
    create: dict[str, FromField | ConstField] | None = Field(
        None, description="Create the related record with these fields when no key finds it."
    )
    returns: str | None = Field(None, description="The related record's field to write; default its id.")


class LookupField(FieldRule):
    """The id (or ``returns`` field) of a related record found by ``lookup``."""

    lookup: LookupSpec


class LinkField(FieldRule):
    """An id from the source remapped through another profile's link table (portal-to-portal copies)."""

    from_: str = Field(
        alias="from", min_length=1, description="The source field holding the other record's source id."
    )
    links_of: str = Field(min_length=1, description="The profile whose links pair those ids.")
    missing: Literal["fail", "empty"] = Field(
        "fail", description="An id that profile has not linked yet: fail the record, or write empty."
    )


def _kind(value: Any) -> str | None:
    if isinstance(value, str):
        return "from-field"
    if isinstance(value, BaseModel):
        return FIELD_TAGS.get(type(value))
    if isinstance(value, dict):
        for key, tag in (("const", "const-field"), ("lookup", "lookup-field"), ("links_of", "link-field")):
            if key in value:
                return tag
        return "from-field"
    return None


AnyField: TypeAlias = FromField | ConstField | LookupField | LinkField

FIELD_TAGS: dict[type[BaseModel], str] = {
    FromField: "from-field",
    ConstField: "const-field",
    LookupField: "lookup-field",
    LinkField: "link-field",
}
"""The union tags; pydantic puts them into error locations, and the loader drops them again."""

FieldSpec: TypeAlias = Annotated[
    Annotated[FromField, Tag("from-field")]
    | Annotated[ConstField, Tag("const-field")]
    | Annotated[LookupField, Tag("lookup-field")]
    | Annotated[LinkField, Tag("link-field")],
    Discriminator(
        _kind,
        custom_error_type="field_spec",
        custom_error_message=(
            "a field map is a source field name or a mapping with from, const, lookup or links_of"
        ),
    ),
]
