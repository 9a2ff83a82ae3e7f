"""The base of every profile model: frozen, and unknown keys are errors."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Spec(BaseModel):
    """A part of a profile: immutable, and it rejects keys it does not know."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)
