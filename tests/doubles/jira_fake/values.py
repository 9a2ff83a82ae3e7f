"""Field values written by clients (``fields`` and ``update``) checked and turned into stored values."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from . import adf
from .catalog import EDITABLE, Catalog, Project
from .errors import cannot_set, field_errors

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class Problem(Exception):
    """One field's error message; collected into ``{"errors": {field: message}}``."""


@dataclass(frozen=True)
class Writer:
    """Who writes what: the catalog, the project of the issue and the REST version used."""

    catalog: Catalog
    project: Project
    version: str

    @property
    def cloud(self) -> bool:
        return self.catalog.mode == "cloud"

    def parse(self, fid: str, raw: Any) -> Any:
        """The stored form of one field's new value, or ``Problem``."""
        if fid in ("summary",):
            return _summary(raw)
        if fid == "description":
            return rich_in(self.catalog, self.version, fid, raw)
        if fid in ("assignee", "reporter"):
            return self.user(raw)
        if fid == "labels":
            return [_label(v) for v in _list(raw)]
        if fid == "components":
            return [self.component(v) for v in _list(raw)]
        if fid == "duedate":
            return _date(raw)
        if fid in ("issuetype", "priority", "resolution"):
            return self.named(fid, raw)
        spec = self.catalog.find_field(fid)
        if spec is None or not spec.custom:
            raise Problem(cannot_set(fid))
        return _custom(spec.kind, spec.options, raw)

    def named(self, fid: str, raw: Any) -> str | None:
        if raw is None and fid != "issuetype":
            return None
        ref = _ref(raw)
        lookup = {"issuetype": self.catalog.issue_type, "priority": self.catalog.priority}.get(
            fid, self.catalog.resolution
        )
        found = lookup(ref) if ref is not None else None
        if found is None:
            raise Problem(
                {
                    "issuetype": "Specify a valid issue type",
                    "priority": "The priority selected is invalid.",
                }.get(fid, f"Could not find resolution by id or name '{ref}'.")
            )
        return found.id

    def user(self, raw: Any) -> str | None:
        if raw is None:
            return None
        if not isinstance(raw, dict):
            raise Problem("Could not find valid 'id' or 'name' in user object.")
        if self.cloud:
            if "accountId" not in raw:
                raise Problem(
                    "Specify the user by accountId: user names are not supported in GDPR strict mode."
                )
            found = self.catalog.user(account_id=str(raw["accountId"]))
            if found is None:
                raise Problem("Specified user does not exist or you do not have required permissions")
            return found.name
        name, key = raw.get("name"), raw.get("key")
        found = self.catalog.user(name=str(name)) if name is not None else None
        if found is None and key is not None:
            found = self.catalog.user(key=str(key))
        if found is None:
            raise Problem(f"User '{name if name is not None else key}' does not exist.")
        return found.name

    def component(self, raw: Any) -> str:
        if isinstance(raw, dict) and "id" in raw:
            found = next((c for c in self.project.components if c.id == str(raw["id"])), None)
            if found is None:
                raise Problem(f"Component with id '{raw['id']}' does not exist.")
            return found.id
        name = raw.get("name") if isinstance(raw, dict) else None
        found = next((c for c in self.project.components if c.name == name), None)
        if found is None:
            raise Problem(f"Component name '{name}' is not valid")
        return found.id


def rich_in(catalog: Catalog, version: str, fid: str, raw: Any) -> Any:
    """Server/DC stores wiki text; Cloud stores ADF (v3 takes ADF, v2 takes text)."""
    if raw is None:
        return None
    if catalog.mode == "cloud" and version == "3":
        doc = adf.require_doc(raw, fid)
        return None if adf.is_empty(doc) else doc
    if not isinstance(raw, str):
        raise Problem("Operation value must be a string")
    if not raw:
        return None
    return adf.from_text(raw) if catalog.mode == "cloud" else raw


def rich_out(catalog: Catalog, version: str, stored: Any) -> Any:
    if stored is None or catalog.mode == "server":
        return stored
    return stored if version == "3" else adf.to_text(stored)


def apply(
    writer: Writer, current: dict[str, Any], fields: dict[str, Any], update: dict[str, Any]
) -> dict[str, Any]:
    """New stored values after ``fields`` (set) and ``update`` (set/add/remove); 400 on any bad field."""
    values = dict(current)
    errors: dict[str, str] = {}
    for fid, raw in fields.items():
        try:
            _check_editable(writer.catalog, fid)
            values[fid] = writer.parse(fid, raw)
        except Problem as exc:
            errors[fid] = str(exc)
    for fid, operations in update.items():
        try:
            _check_editable(writer.catalog, fid)
            for op in operations if isinstance(operations, list) else [operations]:
                values[fid] = _operate(writer, fid, values.get(fid), op)
        except Problem as exc:
            errors[fid] = str(exc)
    if errors:
        raise field_errors(errors)
    return values


def _check_editable(catalog: Catalog, fid: str) -> None:
    spec = catalog.find_field(fid)
    if fid not in EDITABLE and (spec is None or not spec.custom or spec.id != fid):
        raise Problem(cannot_set(fid))


def _operate(writer: Writer, fid: str, current: Any, op: Any) -> Any:
    if not isinstance(op, dict) or len(op) != 1:
        raise Problem("Operation must be an object with a single verb: set, add or remove")
    verb, raw = next(iter(op.items()))
    if verb == "set":
        return writer.parse(fid, raw)
    if fid not in ("labels", "components") or verb not in ("add", "remove"):
        raise Problem(f"Operation '{verb}' is not supported for field '{fid}'")
    item = writer.parse(fid, [raw])[0]
    items = list(current or [])
    if verb == "add" and item not in items:
        items.append(item)
    if verb == "remove" and item in items:
        items.remove(item)
    return items


def _summary(raw: Any) -> str:
    if not isinstance(raw, str) or not raw.strip():
        raise Problem("You must specify a summary of the issue.")
    if "\n" in raw or "\r" in raw:
        raise Problem("The summary is invalid because it contains newline characters.")
    if len(raw) > 255:
        raise Problem("Summary must be less than 255 characters.")
    return raw


def _label(raw: Any) -> str:
    if not isinstance(raw, str) or not raw:
        raise Problem("Label must be a non-empty string")
    if " " in raw:
        raise Problem(f"The label '{raw}' contains spaces which is invalid.")
    return raw


def _list(raw: Any) -> list[Any]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise Problem("data was not an array")
    return raw


def _date(raw: Any) -> str | None:
    if raw is None:
        return None
    if not isinstance(raw, str) or not _DATE.match(raw):
        raise Problem(f"Error parsing date string: {raw}")
    return raw


def _ref(raw: Any) -> str | None:
    if isinstance(raw, dict):
        ref = raw.get("id", raw.get("name"))
        return None if ref is None else str(ref)
    return None


def _custom(kind: str, options: tuple[Any, ...], raw: Any) -> Any:
    if raw is None:
        return None
    if kind == "number":
        if isinstance(raw, bool) or not isinstance(raw, int | float):
            raise Problem("Operation value must be a number")
        return raw
    if kind == "option":
        if not isinstance(raw, dict):
            raise Problem("Specify the option by value or id")
        found = next((o for o in options if o.id == str(raw.get("id")) or o.name == raw.get("value")), None)
        if found is None:
            raise Problem(f"Option value '{raw.get('value', raw.get('id'))}' is not valid")
        return found.id
    if kind == "date":
        return _date(raw)
    if not isinstance(raw, str):
        raise Problem("Operation value must be a string")
    return raw or None
