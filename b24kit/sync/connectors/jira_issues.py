"""Issues as flat records (``summary``, ``status``, ``assignee`` e-mail, ``customfield_10010``) and back."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from b24kit.sync.connector import FieldInfo
from b24kit.sync.records import Record
from b24kit.sync.values import is_empty, parse_datetime

from .jira_api import JiraApi, JiraUser
from .jira_text import from_adf, to_adf

# flat name -> (type, title, read only)
SYSTEM: dict[str, tuple[str, str, bool]] = {
    "id": ("string", "Issue id", True),
    "key": ("string", "Issue key", True),
    "project": ("string", "Project key", True),
    "issuetype": ("string", "Issue type", True),
    "summary": ("string", "Summary", False),
    "description": ("text", "Description", False),
    "status": ("string", "Status (written through transitions)", False),
    "status_category": ("string", "Status category: new, indeterminate, done", True),
    "priority": ("string", "Priority", False),
    "assignee": ("email", "Assignee's e-mail", False),
    "reporter": ("email", "Reporter's e-mail", True),
    "labels": ("list", "Labels", False),
    "components": ("list", "Component names", False),
    "duedate": ("date", "Due date", False),
    "resolution": ("string", "Resolution", True),
    "created": ("datetime", "Created", True),
    "updated": ("datetime", "Updated", True),
    "comments": ("list", "Comments (with options.comments)", True),
}
WRITABLE = frozenset(name for name, (_, _, read_only) in SYSTEM.items() if not read_only)
_NAMED = {"priority", "issuetype", "resolution"}


def _name(value: Any) -> Any:
    if isinstance(value, dict):
        return value.get("name", value.get("value"))
    return value


class IssueCodec:
    """Converts between Jira's issue JSON and the connector's flat fields, per mode and API version."""

    def __init__(self, api: JiraApi) -> None:
        self.api = api

    @property
    def adf(self) -> bool:
        return self.api.options.api_version == "3"

    def search_fields(self) -> list[str]:
        wanted = ["*navigable"]
        return [*wanted, "comment"] if self.api.options.comments else wanted

    # reading ---------------------------------------------------------------------------------

    def record(self, raw: Mapping[str, Any]) -> Record:
        fields = self.flat(raw)
        return Record(
            id=str(raw["id"]),
            fields=fields,
            modified=parse_datetime(fields.get("updated")),
            ref=str(raw.get("key") or raw["id"]),
        )

    def flat(self, raw: Mapping[str, Any]) -> dict[str, Any]:
        src: Mapping[str, Any] = raw.get("fields") or {}
        status = src.get("status") or {}
        out: dict[str, Any] = {
            "id": str(raw.get("id")),
            "key": raw.get("key"),
            "project": (src.get("project") or {}).get("key"),
            "issuetype": _name(src.get("issuetype")),
            "summary": src.get("summary"),
            "description": self.text(src.get("description")),
            "status": status.get("name"),
            "status_category": (status.get("statusCategory") or {}).get("key"),
            "priority": _name(src.get("priority")),
            "assignee": self._email(src.get("assignee")),
            "reporter": self._email(src.get("reporter")),
            "labels": list(src.get("labels") or []),
            "components": [_name(c) for c in src.get("components") or []],
            "duedate": src.get("duedate"),
            "resolution": _name(src.get("resolution")),
            "created": src.get("created"),
            "updated": src.get("updated"),
        }
        if self.api.options.comments:
            page = src.get("comment") or {}
            out["comments"] = [
                {
                    "author": self._email(c.get("author")),
                    "body": self.text(c.get("body")),
                    "created": c.get("created"),
                }
                for c in page.get("comments") or []
            ]
        for name, value in src.items():
            if name.startswith("customfield_"):
                out[name] = self.custom_out(name, value)
        return out

    def text(self, value: Any) -> str | None:
        return from_adf(value) if isinstance(value, dict) else value

    def _email(self, raw: Any) -> str | None:
        user = self.api.user_of(raw)
        return user.email if user is not None else None

    def custom_out(self, name: str, value: Any) -> Any:
        if value is None:
            return None
        schema = self.api.schema(name)
        kind = schema.get("type")
        if kind == "array":
            items = value if isinstance(value, list) else [value]
            return [self._item_out(schema.get("items"), v) for v in items]
        return self._item_out(kind, value)

    def _item_out(self, kind: Any, value: Any) -> Any:
        if kind == "user":
            return self._email(value)
        if kind == "number" and isinstance(value, int | float):
            return value
        if isinstance(value, dict):
            if value.get("type") == "doc":
                return from_adf(value)
            return value.get("value", value.get("name", value))
        return value

    # writing ---------------------------------------------------------------------------------

    def payload(self, fields: Mapping[str, Any]) -> tuple[dict[str, Any], str | None]:
        """Jira ``fields`` for an edit or create, and the wanted status (set through transitions).

        Raises:
            ValueError: a field is read-only, unknown, or its value does not fit (the message names it).
        """
        out: dict[str, Any] = {}
        status = None
        problems = []
        for name, value in fields.items():
            try:
                if name == "status":
                    status = None if is_empty(value) else str(value).strip()
                else:
                    out[name] = self.value_in(name, value)
            except ValueError as exc:
                problems.append(f"{name}: {exc}")
        if problems:
            raise ValueError("; ".join(problems))
        return out, status

    def value_in(self, name: str, value: Any) -> Any:
        if name in SYSTEM and name not in WRITABLE:
            raise ValueError("is read-only in Jira")
        if name == "summary":
            return "" if value is None else str(value)
        if name == "description":
            return self.rich_in(value)
        if name in _NAMED:
            return None if is_empty(value) else {"name": str(value)}
        if name == "assignee":
            return self.user_in(value)
        if name == "labels":
            return [_label(v) for v in _items(value) if not is_empty(v)]
        if name == "components":
            return [{"name": str(v)} for v in _items(value) if not is_empty(v)]
        if name == "duedate":
            return _date(value)
        if name.startswith("customfield_"):
            return self.custom_in(name, value)
        raise ValueError("is not a Jira field the connector writes (see docs/jira.md)")

    def rich_in(self, value: Any) -> Any:
        text = None if is_empty(value) else str(value)
        return to_adf(text) if self.adf else text

    def user_in(self, value: Any) -> dict[str, str] | None:
        if is_empty(value):
            return None
        user: JiraUser | None = self.api.user_by_email(str(value))
        if user is None:
            raise ValueError(f"no Jira user has the e-mail {str(value).strip()} (add it to options.users)")
        return self.api.user_ref(user)

    def custom_in(self, name: str, value: Any) -> Any:
        if name not in self.api.fields:
            raise ValueError("is not a field of this Jira")
        schema = self.api.schema(name)
        kind = schema.get("type")
        if kind == "array":
            item = schema.get("items")
            return [self._item_in(item, v, schema) for v in _items(value) if not is_empty(v)]
        if is_empty(value):
            return None
        return self._item_in(kind, value, schema)

    def _item_in(self, kind: Any, value: Any, schema: Mapping[str, Any]) -> Any:
        if kind == "option":
            return {"value": str(value)}
        if kind == "number":
            try:
                return float(str(value).replace(" ", "").replace(",", "."))
            except ValueError:
                raise ValueError(f"{value!r} is not a number") from None
        if kind == "user":
            return self.user_in(value)
        if kind in ("component", "version"):
            return {"name": str(value)}
        if kind == "date":
            return _date(value)
        if kind == "string" and self.adf and str(schema.get("custom", "")).endswith(":textarea"):
            return to_adf(str(value))
        return str(value) if not isinstance(value, int | float | bool) else value

    # describe --------------------------------------------------------------------------------

    def describe(self) -> dict[str, FieldInfo]:
        out = {
            name: FieldInfo(name, kind, title, read_only=read_only, multiple=kind == "list")
            for name, (kind, title, read_only) in SYSTEM.items()
        }
        out["status"] = FieldInfo(
            "status", "string", SYSTEM["status"][1], items={s: s for s in self.api.statuses}
        )
        for fid, spec in self.api.fields.items():
            if fid.startswith("customfield_"):
                schema = spec.get("schema") or {}
                out[fid] = FieldInfo(
                    fid,
                    str(schema.get("type") or "string"),
                    str(spec.get("name") or fid),
                    multiple=schema.get("type") == "array",
                )
        return out


def _items(value: Any) -> list[Any]:
    if is_empty(value):
        return []
    if isinstance(value, list | tuple | set):
        return list(value)
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    return [value]


def _label(value: Any) -> str:
    text = str(value).strip()
    if any(c.isspace() for c in text):
        raise ValueError(f"label {text!r} contains spaces, which Jira does not allow")
    return text


_DAY_FORMATS = ("%d.%m.%Y", "%d/%m/%Y")


def _date(value: Any) -> str | None:
    """A calendar day as Jira takes it (YYYY-MM-DD): ISO dates and datetimes keep their own day."""
    if is_empty(value):
        return None
    text = str(value).strip()
    moment = parse_datetime(value)
    if moment is not None:
        return text[:10] if len(text) >= 10 and text[4] == "-" else moment.date().isoformat()
    for fmt in _DAY_FORMATS:
        try:
            return datetime.strptime(text, fmt).date().isoformat()  # noqa: DTZ007 - a day has no zone
        except ValueError:
            continue
    raise ValueError(f"{value!r} is not a date (YYYY-MM-DD)")
