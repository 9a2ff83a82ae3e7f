"""What the portal sends: robot calls and events, parsed from their PHP-style form bodies."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

_ENTITY_BY_DOCUMENT = {
    "DEAL": 2,
    "LEAD": 1,
    "CONTACT": 3,
    "COMPANY": 4,
    "SMART_INVOICE": 31,
}


@dataclass(frozen=True)
class RobotCall:
    """One run of a robot: ``document_id`` (``["crm", "CCrmDocumentDeal", "DEAL_42"]``), the
    properties as the user set them (document references already substituted), and the
    ``event_token`` the answer (``bizproc.event.send``) must carry."""

    code: str
    workflow_id: str
    event_token: str
    document_id: tuple[str, str, str]
    document_type: tuple[str, str, str]
    properties: dict[str, Any]
    use_subscription: bool
    auth: dict[str, str] = field(default_factory=dict)
    ts: int = 0

    @property
    def entity_type_id(self) -> int | None:
        """2 for ``DEAL_42``, 31 for ``SMART_INVOICE_7``, N for ``DYNAMIC_N_7``."""
        head, _, _ = self.document_id[2].rpartition("_")
        if head.startswith("DYNAMIC_"):
            tail = head[len("DYNAMIC_") :]
            return int(tail) if tail.isdecimal() else None
        return _ENTITY_BY_DOCUMENT.get(head)

    @property
    def entity_id(self) -> int | None:
        """42 for ``DEAL_42`` (the text after the last ``_``, as the PHP SDK parses it)."""
        tail = self.document_id[2].rpartition("_")[2]
        return int(tail) if tail.isdecimal() else None


@dataclass(frozen=True)
class PortalEvent:
    """One event POSTed by the portal (``event``, ``data``, ``ts``, ``auth``) or read offline."""

    name: str  # upper case, e.g. ONCRMDEALUPDATE
    data: dict[str, Any]
    ts: int = 0
    auth: dict[str, str] = field(default_factory=dict)
    handler_id: str | None = None

    @property
    def entity_id(self) -> int | None:
        fields = self.data.get("FIELDS") if isinstance(self.data, dict) else None
        value = fields.get("ID") if isinstance(fields, dict) else None
        return int(value) if isinstance(value, int | str) and str(value).isdecimal() else None
