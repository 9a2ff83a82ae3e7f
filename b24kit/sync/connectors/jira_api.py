"""JiraApi: the ``jira`` library set up from connector options, with errors, users and transitions."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from b24kit.errors import ConfigError, ConnectorError

MISSING_ISSUE = re.compile(r"An issue with key '([^']+)' does not exist", re.IGNORECASE)


class JiraOptions(BaseModel):
    """Options of the ``jira`` connector (secrets as ``${ENV}`` references)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    url: str = Field(
        min_length=1, description="The Jira base URL: https://jira.example.com, https://x.atlassian.net"
    )
    user: str | None = Field(
        None, description="Basic auth: the Server/DC user name or the Cloud account's e-mail."
    )
    token: SecretStr = Field(
        description="With `user`: the password (Server/DC) or API token (Cloud); alone: a personal token."
    )
    api_version: Literal["2", "3"] = Field(
        "2", description="REST API version; 3 (Cloud) exchanges rich text as ADF documents."
    )
    projects: list[str] = Field(
        default_factory=list, description="Project keys to read; new issues go to the first."
    )
    issue_types: list[str] = Field(
        default_factory=list, description="Issue type names to read; new issues get the first."
    )
    jql: str | None = Field(None, description="Extra JQL every read must also satisfy.")
    comments: bool = Field(False, description="Read comments into the `comments` field (read only).")
    statuses: dict[str, list[str]] = Field(
        default_factory=dict,
        description="Status -> transitions (names or ids) that lead toward it, tried step by step.",
    )
    users: dict[str, str] = Field(
        default_factory=dict,
        description="Exceptions: Jira user (name, accountId or e-mail) -> the e-mail it stands for.",
    )
    notify: bool = Field(True, description="false: edits made by the sync send no notifications.")
    page_size: int = Field(100, ge=1, le=100, description="Issues per search request.")
    timeout: float = Field(30.0, gt=0, description="Seconds to wait for each request.")
    retries: int = Field(
        3, ge=0, le=10, description="Retries of a request on 429, 503 and network errors, with backoff."
    )
    verify: bool | str = Field(True, description="TLS: verify certificates (or a CA bundle path).")

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("url must start with http:// or https://")
        return value.rstrip("/")

    @field_validator("statuses")
    @classmethod
    def _routes(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        return {k.strip(): [str(v).strip() for v in steps] for k, steps in value.items()}


@dataclass(frozen=True, slots=True)
class JiraUser:
    """A Jira account as the connector needs it: how to name it in writes, and its e-mail."""

    ident: str  # the name on Server/DC, the accountId on Cloud
    email: str | None


def safe_error(exc: Exception) -> str:
    """A JIRAError's status and Jira's own messages; never its request headers (they hold credentials)."""
    status = getattr(exc, "status_code", None)
    text = getattr(exc, "text", None)
    if status is None and text is None:
        return type(exc).__name__
    text = " ".join(str(text or "").split()) or "no details"
    return f"Jira answered {status}: {text}" if status else text


class JiraFailure(Exception):
    """One request failed; ``status`` is the HTTP status (``None`` for a network failure)."""

    def __init__(self, message: str, status: int | None) -> None:
        super().__init__(message)
        self.status = status


class JiraApi:
    """One authenticated Jira client; counts its requests and caches metadata for its lifetime."""

    def __init__(self, options: JiraOptions) -> None:
        self.options = options
        self.requests = 0
        self._users_by_email: dict[str, JiraUser | None] = {}
        self.client = self._connect()

    def _connect(self) -> Any:
        from jira import JIRA, JIRAError
        from requests import RequestException

        opts = self.options
        auth: dict[str, Any]
        secret = opts.token.get_secret_value()
        auth = {"basic_auth": (opts.user, secret)} if opts.user else {"token_auth": secret}
        try:
            client = JIRA(
                server=opts.url,
                options={"rest_api_version": opts.api_version, "verify": opts.verify},
                timeout=opts.timeout,
                max_retries=opts.retries,
                **auth,
            )
        except JIRAError as exc:
            raise ConnectorError(f"cannot connect to Jira at {opts.url}: {safe_error(exc)}") from None
        except RequestException as exc:
            raise ConnectorError(f"cannot reach Jira at {opts.url}: {type(exc).__name__}") from None
        client._session.hooks["response"].append(self._count)
        self.requests += 1  # serverInfo, sent by the constructor before the hook existed
        return client

    def _count(self, response: Any, *args: Any, **kwargs: Any) -> None:
        self.requests += 1

    def close(self) -> None:
        self.client.close()

    @property
    def cloud(self) -> bool:
        return bool(self.client._is_cloud)

    # plain requests --------------------------------------------------------------------------

    @contextmanager
    def _errors(self, what: str) -> Iterator[None]:
        from jira import JIRAError
        from requests import RequestException

        try:
            yield
        except JIRAError as exc:
            raise JiraFailure(f"{what}: {safe_error(exc)}", getattr(exc, "status_code", None)) from None
        except RequestException as exc:
            raise JiraFailure(f"{what}: {type(exc).__name__}", None) from None

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        with self._errors(f"GET {path}"):
            return self.client._get_json(path, params=dict(params or {}))

    def send(self, method: str, path: str, body: Any = None, params: Mapping[str, Any] | None = None) -> Any:
        """PUT/POST/DELETE ``path`` under the REST API; the decoded answer, or ``None`` for 204."""
        url = self.client._get_url(path)
        data = None if body is None else json.dumps(body)
        with self._errors(f"{method} {path}"):
            response = self.client._session.request(method, url, data=data, params=dict(params or {}))
        if response.status_code == 204 or not response.content:
            return None
        return response.json()

    def failure(self, what: str, exc: JiraFailure) -> ConnectorError:
        return ConnectorError(f"Jira {what} failed: {exc}")

    # metadata --------------------------------------------------------------------------------

    @cached_property
    def zone(self) -> ZoneInfo:
        """The time zone of the account the connector uses: JQL dates are read in it."""
        try:
            name = str(self.get("myself").get("timeZone") or "UTC")
        except JiraFailure as exc:
            raise self.failure("reading the account (myself)", exc) from None
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            return ZoneInfo("UTC")

    @cached_property
    def fields(self) -> dict[str, dict[str, Any]]:
        """Every field by id (``GET field``), with its schema."""
        try:
            listed = self.get("field")
        except JiraFailure as exc:
            raise self.failure("listing fields", exc) from None
        return {str(f["id"]): f for f in listed if isinstance(f, dict) and "id" in f}

    @cached_property
    def statuses(self) -> list[str]:
        try:
            return [str(s["name"]) for s in self.get("status")]
        except JiraFailure as exc:
            raise self.failure("listing statuses", exc) from None

    def schema(self, field_id: str) -> dict[str, Any]:
        found = self.fields.get(field_id)
        return dict(found.get("schema") or {}) if found else {}

    # search ----------------------------------------------------------------------------------

    def search(
        self, jql: str, fields: Sequence[str], *, start: int = 0, token: str | None = None, limit: int = 100
    ) -> tuple[list[dict[str, Any]], bool, str | None]:
        """One page: ``(issues, last, next_token)``. Server/DC pages by ``startAt``, Cloud by token."""
        with self._errors("search"):
            if self.cloud:
                found = self.client.enhanced_search_issues(
                    jql, nextPageToken=token, maxResults=limit, fields=list(fields), json_result=True
                )
                issues = list(found.get("issues") or [])
                following = found.get("nextPageToken")
                return issues, bool(found.get("isLast", following is None)) or not following, following
            found = self.client.search_issues(
                jql,
                startAt=start,
                maxResults=limit,
                fields=list(fields),
                json_result=True,
                validate_query=False,
            )
        issues = list(found.get("issues") or [])
        total = int(found.get("total") or 0)
        return issues, start + len(issues) >= total or len(issues) < limit, None

    @property
    def id_page(self) -> int:
        """Issues per page of an ids-only search (Cloud serves 5,000, Server/DC 1,000)."""
        return 5000 if self.cloud else 1000

    def search_all(self, jql: str, fields: Sequence[str], *, limit: int = 100) -> list[dict[str, Any]]:
        """Every issue of a small query (fetches and lookups); keys that do not exist are dropped."""
        query: str | None = jql
        for _attempt in range(3):
            if query is None:
                break
            try:
                return self._pages(query, fields, limit)
            except JiraFailure as exc:
                missing = MISSING_ISSUE.findall(str(exc))
                if exc.status != 400 or not missing:
                    raise self.failure("search", exc) from None
                query = _without_keys(query, missing)
        return []

    def _pages(self, jql: str, fields: Sequence[str], limit: int) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        start, token = 0, None
        while True:
            page, last, token = self.search(jql, fields, start=start, token=token, limit=limit)
            out.extend(page)
            start += len(page)
            if last or not page:
                return out

    # users -----------------------------------------------------------------------------------

    def user_of(self, raw: Any) -> JiraUser | None:
        """A user object from an issue, with its e-mail from the exceptions table or Jira itself."""
        if not isinstance(raw, dict):
            return None
        ident = str(raw.get("accountId") if self.cloud else raw.get("name") or raw.get("key") or "")
        table = self.options.users
        email = None
        for key in (raw.get("accountId"), raw.get("name"), raw.get("key"), raw.get("emailAddress")):
            if key is not None and str(key) in table:
                email = table[str(key)]
                break
        if email is None and raw.get("emailAddress"):
            email = str(raw["emailAddress"])
        return JiraUser(ident, email.strip().lower() if email else None)

    def user_by_email(self, email: str) -> JiraUser | None:
        """The Jira account for an e-mail: the exceptions table first, then a user search (cached)."""
        wanted = email.strip().lower()
        if wanted in self._users_by_email:
            return self._users_by_email[wanted]
        found = None
        for ident, mapped in self.options.users.items():
            if mapped.strip().lower() == wanted and "@" not in ident:
                found = JiraUser(ident, wanted)
                break
        if found is None:
            found = self._search_user(wanted)
        self._users_by_email[wanted] = found
        return found

    def _search_user(self, email: str) -> JiraUser | None:
        params = {"query": email} if self.cloud else {"username": email}
        try:
            users = self.get("user/search", {**params, "maxResults": 50})
        except JiraFailure as exc:
            raise self.failure("searching users", exc) from None
        for raw in users or []:
            user = self.user_of(raw)
            if user is not None and user.email == email:
                return user
        return None

    def user_ref(self, user: JiraUser) -> dict[str, str]:
        return {"accountId": user.ident} if self.cloud else {"name": user.ident}


def _without_keys(jql: str, missing: Sequence[str]) -> str | None:
    """The query with the missing keys dropped from its ``in (...)`` list; ``None`` when none are left."""
    match = re.search(r"\b(key|id|issuekey) in \(([^)]*)\)", jql, re.IGNORECASE)
    if match is None:
        return None
    gone = {m.upper() for m in missing}
    kept = [k for k in (p.strip() for p in match.group(2).split(",")) if k.strip('"').upper() not in gone]
    if not kept:
        return None
    return jql[: match.start(2)] + ", ".join(kept) + jql[match.end(2) :]


def check_entity(entity: str) -> Literal["issue", "project"]:
    name = entity.strip().lower()
    if name in ("issue", "issues"):
        return "issue"
    if name in ("project", "projects"):
        return "project"
    raise ConfigError(
        f"the jira connector does not handle entity {entity!r}",
        field="entity",
        suggestion="use issue (filtered by options.projects, issue_types and jql) or project",
    )
