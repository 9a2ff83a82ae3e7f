"""What the bitrix connector knows about each entity: its methods, id and modified fields, wire shapes."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from b24kit.errors import ConfigError
from b24kit.sync.suggest import did_you_mean

LEGACY = ("contact", "company", "deal", "lead")
SUPPORTED = (*LEGACY, "user", "item:<entityTypeId>")
_ITEM = re.compile(r"^(?:item|smart):(\d+)$")
MULTIFIELDS = ("PHONE", "EMAIL", "WEB", "IM")


@dataclass(frozen=True, slots=True)
class Kind:
    """One portal entity as the REST API exposes it."""

    name: str
    prefix: str
    id_field: str
    modified: str | None
    entity_type_id: int | None = None
    category_field: str | None = None

    @property
    def legacy(self) -> bool:
        return self.prefix.startswith("crm.") and self.prefix != "crm.item"

    @property
    def item(self) -> bool:
        return self.prefix == "crm.item"

    @property
    def user(self) -> bool:
        return self.prefix == "user"

    @property
    def duplicate_type(self) -> str | None:
        """The ``entity_type`` of ``crm.duplicate.findbycomm`` (leads, contacts, companies)."""
        return self.name.upper() if self.name in ("contact", "company", "lead") else None

    def method(self, verb: str) -> str:
        if self.user:
            return {
                "list": "user.get",
                "add": "user.add",
                "update": "user.update",
                "fields": "user.fields",
            }.get(verb, f"user.{verb}")
        return f"{self.prefix}.{verb}"

    def base(self) -> dict[str, Any]:
        return {"entityTypeId": self.entity_type_id} if self.item else {}

    def list_params(self, filter_: Mapping[str, Any], select: list[str] | None) -> dict[str, Any]:
        params: dict[str, Any] = {**self.base(), "filter": dict(filter_)}
        if not self.user:
            params["order"] = {self.id_field: "ASC"}
            params["select"] = select or (["*", "UF_*", *MULTIFIELDS] if self.legacy else ["*"])
        return params

    def add_params(self, fields: Mapping[str, Any]) -> dict[str, Any]:
        if self.user:
            return dict(fields)
        params: dict[str, Any] = {**self.base(), "fields": dict(fields)}
        if self.legacy:
            params["params"] = {"REGISTER_SONET_EVENT": "N"}
        return params

    def update_params(self, record_id: str, fields: Mapping[str, Any]) -> dict[str, Any]:
        if self.user:
            return {"ID": record_id, **fields}
        return {**self.base(), "id": record_id, "fields": dict(fields)}

    def new_id(self, result: Any) -> str | None:
        if isinstance(result, Mapping):
            item = result.get("item", result)
            value = item.get("id", item.get("ID")) if isinstance(item, Mapping) else None
            return None if value is None else str(value)
        return None if result is None or isinstance(result, bool) else str(result)

    def rows(self, result: Any) -> list[dict[str, Any]]:
        """Rows of a list result (``crm.item.list`` wraps them in ``items``)."""
        if isinstance(result, Mapping):
            rows = result.get("items", [])
            return list(rows) if isinstance(rows, list) else []
        return list(result or [])


def kind_of(entity: str) -> Kind:
    """The :class:`Kind` for a profile's ``entity``; an unknown one lists the supported names."""
    name = entity.strip().lower()
    if name in LEGACY:
        return Kind(
            name, f"crm.{name}", "ID", "DATE_MODIFY", category_field="CATEGORY_ID" if name == "deal" else None
        )
    if name == "user":
        return Kind("user", "user", "ID", None)
    match = _ITEM.match(name)
    if match:
        return Kind(name, "crm.item", "id", "updatedTime", int(match.group(1)), category_field="categoryId")
    raise ConfigError(
        f"the bitrix connector does not handle entity {entity!r} yet",
        field="entity",
        suggestion=did_you_mean(name, [*LEGACY, "user"]) or f"supported: {', '.join(SUPPORTED)}",
    )
