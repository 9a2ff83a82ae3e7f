"""JiraConnector: issues (and projects) of Jira Server/Data Center or Cloud, through the ``jira`` library."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any, ClassVar

from pydantic import BaseModel

from b24kit.sync.connector import Capability, ConnectorBase, ConnectorContext, FieldInfo
from b24kit.sync.records import Change, Record, Since, WriteResult
from b24kit.sync.values import get_path, is_empty

from .jira_api import JiraApi, JiraFailure, JiraOptions, check_entity
from .jira_issues import IssueCodec
from .jira_search import quote, scope, stream, where
from .jira_writes import IssueWriter

__all__ = ["JiraConnector", "JiraOptions"]


class JiraConnector(ConnectorBase):
    """Jira issues as flat records; see ``docs/jira.md`` for the fields and options.

    Reads search with JQL (``startAt`` pages on Server/DC, ``nextPageToken`` on Cloud), incrementally
    by ``updated`` in the account's time zone; writes create issues 50 to a bulk request, edit
    fields with one request per issue, and move statuses through workflow transitions.
    """

    name: ClassVar[str] = "jira"
    Options: ClassVar[type[BaseModel]] = JiraOptions
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {"read", "incremental", "ordered", "fetch", "lookup", "write", "describe"}
    )
    batch_size: ClassVar[int] = 50

    def __init__(self, options: JiraOptions, context: ConnectorContext | None = None) -> None:
        self.options = options
        self._own = False
        self.api = self._api(options, context or ConnectorContext())
        self.codec = IssueCodec(self.api)
        self.writer = IssueWriter(self.api, self.codec)

    def _api(self, options: JiraOptions, context: ConnectorContext) -> JiraApi:
        key = f"jira:{options.url}:{options.user or ''}"
        shared = context.clients.get(key)
        if isinstance(shared, JiraApi) and shared.options == options:
            return shared
        api = JiraApi(options)
        self._own = True
        if isinstance(context.clients, dict):
            context.clients[key] = api
        return api

    @property
    def requests(self) -> int:
        """REST requests sent so far (benchmarks and tests)."""
        return self.api.requests

    def close(self) -> None:
        if self._own:
            self._own = False
            self.api.close()

    # reading ---------------------------------------------------------------------------------

    def _scope(self) -> str:
        return scope(self.options, self.api.cloud)

    def read(self, entity: str, *, since: Since | None = None) -> Iterator[Record]:
        if check_entity(entity) == "project":
            yield from self._projects()
            return
        moment = since.value if since is not None else None
        fields = self.codec.search_fields()
        for raw in stream(self.api, self._scope(), fields, moment, self.options.page_size):
            yield self.codec.record(raw)

    def fetch(self, entity: str, ids: Sequence[str]) -> list[Record]:
        if check_entity(entity) == "project":
            wanted = set(ids)
            return [r for r in self._projects(filtered=False) if r.id in wanted]
        numeric = [i for i in dict.fromkeys(str(i).strip() for i in ids) if i.isdecimal()]
        if not numeric:
            return []
        jql = where(self._scope(), f"id in ({', '.join(numeric)})")
        return [self.codec.record(raw) for raw in self.api.search_all(jql, self.codec.search_fields())]

    def lookup(self, entity: str, field: str, values: Sequence[Any]) -> list[Record]:
        texts = [str(v).strip() for v in values if not is_empty(v)]
        if not texts:
            return []
        if check_entity(entity) == "project":
            wanted = {t.casefold() for t in texts}
            return [
                r
                for r in self._projects(filtered=False)
                if str(get_path(r.fields, field)).casefold() in wanted
            ]
        if field == "id":
            return self.fetch(entity, texts)
        clause = self._clause(field, texts)
        jql = where(self._scope(), clause)
        return [self.codec.record(raw) for raw in self.api.search_all(jql, self.codec.search_fields())]

    def _clause(self, field: str, values: list[str]) -> str:
        """JQL finding issues whose ``field`` holds any of ``values`` (text fields may over-match)."""
        if field == "key":
            return f"key in ({', '.join(quote(v.upper()) for v in values)})"
        name = field
        kind = "string"
        if field.startswith("customfield_"):
            name = f"cf[{field.removeprefix('customfield_')}]"
            kind = str(self.api.schema(field).get("type") or "string")
        elif field in ("summary", "description"):
            kind = "text"
        if kind in ("string", "text"):
            return "(" + " OR ".join(f"{name} ~ {quote(v)}" for v in values) + ")"
        return f"{name} in ({', '.join(quote(v) for v in values)})"

    def _projects(self, *, filtered: bool = True) -> Iterator[Record]:
        try:
            listed = self.api.get("project", {"expand": "lead,description,issueTypes"})
        except JiraFailure as exc:
            raise self.api.failure("listing projects", exc) from None
        keys = {k.upper() for k in self.options.projects}
        for raw in listed or []:
            if filtered and keys and str(raw.get("key", "")).upper() not in keys:
                continue
            lead = self.api.user_of(raw.get("lead"))
            yield Record(
                id=str(raw["id"]),
                fields={
                    "id": str(raw["id"]),
                    "key": raw.get("key"),
                    "name": raw.get("name"),
                    "description": raw.get("description"),
                    "lead": lead.email if lead else None,
                    "issue_types": [t.get("name") for t in raw.get("issueTypes") or []],
                },
                ref=str(raw.get("key") or raw["id"]),
            )

    # writing and describing ------------------------------------------------------------------

    def write(self, entity: str, changes: Sequence[Change]) -> list[WriteResult]:
        if check_entity(entity) == "project":
            return [WriteResult(c.key, error="Jira projects are read-only for the sync") for c in changes]
        return self.writer.write(changes)

    def describe(self, entity: str) -> Mapping[str, FieldInfo]:
        if check_entity(entity) == "project":
            names = ("id", "key", "name", "description", "lead", "issue_types")
            return {n: FieldInfo(n, read_only=True) for n in names}
        return self.codec.describe()
