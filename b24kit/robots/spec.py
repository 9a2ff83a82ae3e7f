"""A robot declared in YAML (a job's ``trigger: {robot: ...}``): the code, and for Python hooks
the names, properties and return values the decorator would otherwise give."""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from b24kit.automation import PropertySpec
from b24kit.automation.registry import PropertyType

from .definitions import document_type

_CODE = re.compile(r"^[A-Za-z0-9.\-_]+$")
_PROPERTY = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
Text = str | dict[str, str]


class PropertyModel(BaseModel):
    """A property or return value: ``{type: int, name: {ru: ..., en: ...}, required: true}``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: PropertyType = "string"
    name: Text = ""
    description: Text = ""
    required: bool = False
    multiple: bool = False
    default: Any = None
    options: dict[str, str] = Field(default_factory=dict)

    def spec(self) -> PropertySpec:
        return PropertySpec(
            self.type, self.name, self.description, self.required, self.multiple, self.default, self.options
        )


class RobotModel(BaseModel):
    """``robot: payment_schedule`` or the full form for hook handlers."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str = Field(min_length=1, max_length=100, description="The robot's code on the portal.")
    name: Text | None = Field(None, description="Shown in the automation designer (default: the handler's).")
    description: Text | None = None
    properties: dict[str, PropertyModel] | None = None
    returns: dict[str, PropertyModel] | None = None
    document_types: tuple[str, ...] | None = Field(
        None, description="DEAL, LEAD, SMART_INVOICE, DYNAMIC_N..."
    )
    auth_user_id: int = Field(1, ge=1, description="The user whose token the robot's calls carry.")

    @field_validator("code")
    @classmethod
    def _code(cls, value: str) -> str:
        if not _CODE.match(value):
            raise ValueError("a robot code has only letters, digits, '.', '-' and '_'")
        return value

    @field_validator("properties", "returns")
    @classmethod
    def _keys(cls, value: dict[str, PropertyModel] | None) -> dict[str, PropertyModel] | None:
        for key in value or {}:
            if not _PROPERTY.match(key):
                raise ValueError(f"property code {key!r} must start with a letter (letters, digits, _)")
        return value

    @field_validator("document_types")
    @classmethod
    def _types(cls, value: tuple[str, ...] | None) -> tuple[str, ...] | None:
        for name in value or ():
            document_type(name)
        return tuple(v.upper() for v in value) if value else value

    def overrides(self) -> dict[str, Any]:
        """The YAML values that replace the registry's (unset ones keep the registry's)."""
        return {
            "name": self.name,
            "description": self.description,
            "properties": {k: p.spec() for k, p in self.properties.items()} if self.properties else None,
            "returns": {k: p.spec() for k, p in self.returns.items()} if self.returns else None,
            "document_types": self.document_types,
            "auth_user_id": self.auth_user_id,
        }
