"""The profile language, version 1: pydantic models of the YAML that describes a sync."""

from __future__ import annotations

from .base import Spec
from .conditions import Condition
from .fields import (
    RECORD_ID,
    AnyField,
    ConstField,
    FieldRule,
    FieldSpec,
    FromField,
    LinkField,
    LookupField,
    LookupKey,
    LookupSpec,
    Normaliser,
    TransformRef,
)
from .profile import (
    PROFILE_VERSION,
    CursorSpec,
    DeleteGuard,
    DeletesSpec,
    MatchKey,
    MatchSpec,
    Profile,
    ProtectedSpec,
    SideSpec,
)
from .triggers import EventTrigger, Schedule, Triggers
from .twoway import ComputedSpec, LinkFieldsSpec, LinkSlot

__all__ = [
    "PROFILE_VERSION",
    "RECORD_ID",
    "AnyField",
    "ComputedSpec",
    "Condition",
    "ConstField",
    "CursorSpec",
    "DeleteGuard",
    "DeletesSpec",
    "EventTrigger",
    "FieldRule",
    "FieldSpec",
    "FromField",
    "LinkField",
    "LinkFieldsSpec",
    "LinkSlot",
    "LookupField",
    "LookupKey",
    "LookupSpec",
    "MatchKey",
    "MatchSpec",
    "Normaliser",
    "Profile",
    "ProtectedSpec",
    "Schedule",
    "SideSpec",
    "Spec",
    "TransformRef",
    "Triggers",
]
