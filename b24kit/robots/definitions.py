"""What a robot looks like on the portal: its code, names, properties and document types,
from the decorator registry, optionally overridden in YAML, as ``bizproc.robot.add`` takes them."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from b24kit.automation import PropertySpec, RobotSpec

from .properties import render

_CLASSES = {
    "DEAL": "CCrmDocumentDeal",
    "LEAD": "CCrmDocumentLead",
    "CONTACT": "CCrmDocumentContact",
    "COMPANY": "CCrmDocumentCompany",
    "QUOTE": "Bitrix\\Crm\\Integration\\BizProc\\Document\\Quote",
    "SMART_INVOICE": "Bitrix\\Crm\\Integration\\BizProc\\Document\\SmartInvoice",
}
_DYNAMIC = "Bitrix\\Crm\\Integration\\BizProc\\Document\\Dynamic"


def document_type(name: str) -> list[str]:
    """``DEAL`` -> ``["crm", "CCrmDocumentDeal", "DEAL"]``; ``DYNAMIC_128`` -> the smart-process class."""
    upper = name.upper()
    if upper.startswith("DYNAMIC_") and upper[len("DYNAMIC_") :].isdecimal():
        return ["crm", _DYNAMIC, upper]
    if upper not in _CLASSES:
        known = ", ".join([*_CLASSES, "DYNAMIC_<entityTypeId>"])
        raise ValueError(f"unknown document type {name!r} (known: {known})")
    return ["crm", _CLASSES[upper], upper]


@dataclass(frozen=True)
class RobotDefinition:
    """One robot to register. ``handler`` names the code that runs it (a registered robot or a
    ``module:function`` hook); ``code`` is what the portal knows it by."""

    code: str
    name: str | dict[str, str]
    handler: str
    properties: Mapping[str, PropertySpec] = field(default_factory=dict)
    returns: Mapping[str, PropertySpec] = field(default_factory=dict)
    document_types: tuple[str, ...] = ("DEAL",)
    description: str | dict[str, str] = ""
    auth_user_id: int = 1

    @classmethod
    def from_spec(cls, spec: RobotSpec, **overrides: Any) -> RobotDefinition:
        """The registry's robot, with YAML ``overrides`` (name, properties...) where given."""
        values: dict[str, Any] = {
            "code": spec.code,
            "name": spec.name,
            "handler": spec.code,
            "properties": spec.properties,
            "returns": spec.returns,
            "document_types": spec.document_types,
            "description": spec.description,
        }
        values.update({k: v for k, v in overrides.items() if v not in (None, {}, ())})
        return cls(**values)

    def params(self, handler_url: str) -> dict[str, Any]:
        """The ``bizproc.robot.add`` parameters (the robot waits for our answer: USE_SUBSCRIPTION=Y)."""
        types = [document_type(t) for t in self.document_types]
        params: dict[str, Any] = {
            "CODE": self.code,
            "HANDLER": handler_url,
            "AUTH_USER_ID": self.auth_user_id,
            "USE_SUBSCRIPTION": "Y",
            "NAME": self.name,
            "PROPERTIES": render(self.properties),
            "RETURN_PROPERTIES": render(self.returns),
            "FILTER": {"INCLUDE": types},
        }
        if self.description:
            params["DESCRIPTION"] = self.description
        if len(types) == 1:
            params["DOCUMENT_TYPE"] = types[0]
        return params


def digest(params: Mapping[str, Any]) -> str:
    """A fingerprint of what was registered, so an unchanged robot is not sent again."""
    text = json.dumps(params, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()
