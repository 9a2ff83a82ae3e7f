"""Conditions on one field of a record (filters, protected records, event triggers); no expressions."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import Field, model_validator

from b24kit.sync.values import MISSING, get_path, is_empty, same

from .base import Spec

_OPERATORS = ("equals", "not_equals", "in", "not_in", "empty", "changed")


class Condition(Spec):
    """``{field: F, <operator>: value}`` with exactly one operator.

    Operators: ``equals``, ``not_equals``, ``in`` (a list), ``not_in`` (a list), ``empty``
    (true/false) and ``changed`` (true: the field changed in this event; events only).
    Values compare loosely: ``5`` equals ``"5"``, ``"Y"`` equals ``true``.
    """

    field: str = Field(
        min_length=1, description="The field, in the record's own names; dots walk into nested values."
    )
    equals: Any = Field(None, description="The value equals this one.")
    not_equals: Any = Field(None, description="The value differs from this one.")
    in_: tuple[Any, ...] | None = Field(None, alias="in", description="The value is one of these.")
    not_in: tuple[Any, ...] | None = Field(None, description="The value is none of these.")
    empty: bool | None = Field(None, description="true: the value is empty; false: it is not.")
    changed: bool | None = Field(None, description="true: the field changed in the triggering event.")

    @model_validator(mode="after")
    def _one_operator(self) -> Condition:
        given = [name for name in _OPERATORS if _alias(name) in self.model_fields_set]
        if len(given) != 1:
            raise ValueError(
                f"a condition needs exactly one operator of {', '.join(_OPERATORS)}; got {len(given)}"
            )
        return self

    @property
    def operator(self) -> str:
        return next(name for name in _OPERATORS if _alias(name) in self.model_fields_set)

    def holds(self, fields: Mapping[str, Any], previous: Mapping[str, Any] | None = None) -> bool:
        """Whether the condition holds for ``fields`` (``previous``: the values before an event)."""
        value = get_path(fields, self.field)
        op = self.operator
        if op == "equals":
            return same(value, self.equals)
        if op == "not_equals":
            return not same(value, self.not_equals)
        if op == "in":
            return any(same(value, v) for v in self.in_ or ())
        if op == "not_in":
            return not any(same(value, v) for v in self.not_in or ())
        if op == "empty":
            return is_empty(value) == self.empty
        if previous is None:
            return bool(self.changed)
        before = get_path(previous, self.field)
        changed = before is not MISSING and not same(before, value)
        return changed == self.changed


def _alias(name: str) -> str:
    return "in_" if name == "in" else name


def all_hold(conditions: Iterable[Condition], fields: Mapping[str, Any]) -> bool:
    """Whether every condition holds (an empty list holds)."""
    return all(c.holds(fields) for c in conditions)


def any_holds(conditions: Iterable[Condition], fields: Mapping[str, Any]) -> bool:
    """Whether at least one condition holds (an empty list does not)."""
    return any(c.holds(fields) for c in conditions)
