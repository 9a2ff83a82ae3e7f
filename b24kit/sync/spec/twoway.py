"""Two-way extras of a profile: the link kept on both records, and fields recomputed when a record changes."""

from __future__ import annotations

from pydantic import Field

from .base import Spec
from .fields import RECORD_ID, FromField


class LinkSlot(Spec):
    """A field of one record that holds its partner's reference (an id or a key)."""

    field: str = Field(min_length=1, description="The field that holds the partner's reference.")
    from_: str = Field(
        RECORD_ID,
        alias="from",
        min_length=1,
        description=f"The partner's field to store ({RECORD_ID}: its id; e.g. key for a Jira issue key).",
    )


class LinkFieldsSpec(Spec):
    """Keep the link on the records themselves as well as in the link table.

    The engine writes these fields on create (and right after a create on the other side, when the
    new record's reference is known), and puts them back whenever they drift.
    """

    source: LinkSlot | None = Field(None, description="The source field that holds the target's reference.")
    target: LinkSlot | None = Field(None, description="The target field that holds the source's reference.")


class ComputedSpec(Spec):
    """Field rules on change: a field recomputed from the same record's fields whenever it is synced.

    Each rule is a field map read from the record itself (``from``, ``map``, ``transform``,
    ``default``); a transform may be a Python hook (``{name: call, function: pkg.mod:func}``).
    """

    target: dict[str, FromField] = Field(default_factory=dict, description="Target field -> its rule.")
    source: dict[str, FromField] = Field(
        default_factory=dict, description="Source field -> its rule (two-way profiles)."
    )
