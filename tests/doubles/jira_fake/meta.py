"""Instance metadata and users: serverInfo, myself, fields, issue types, statuses, projects, user lookup."""

from __future__ import annotations

from typing import Any

from .app import Call, Handler
from .catalog import User
from .errors import bad_request, not_found
from .render import issuekey_field

GDPR = "The query parameter '{}' is not supported in GDPR strict mode."


def server_info(call: Call) -> dict[str, Any]:
    now = call.state.clock.now()
    cloud = call.cloud
    version = [1001, 0, 0] if cloud else [9, 12, 2]
    return {
        "baseUrl": call.state.base_url,
        "version": "1001.0.0-SNAPSHOT" if cloud else "9.12.2",
        "versionNumbers": version,
        "deploymentType": "Cloud" if cloud else "Server",
        "buildNumber": 100250 if cloud else 9120002,
        "buildDate": "2024-01-01T00:00:00.000+0000",
        "serverTime": call.view().time(now),
        "scmInfo": "fake",
        "serverTitle": "Jira (b24kit fake)",
    }


def myself(call: Call) -> Any:
    return call.view().user(call.caller, detailed=True)


def fields(call: Call) -> list[Any]:
    call.require()
    view = call.view()
    return [view.field(f) for f in call.state.catalog.fields] + [issuekey_field()]


def issue_types(call: Call) -> list[Any]:
    call.require()
    return [call.view().issue_type(t) for t in call.state.catalog.issue_types]


def statuses(call: Call) -> list[Any]:
    call.require()
    return [call.view().status(s) for s in call.state.catalog.statuses]


def priorities(call: Call) -> list[Any]:
    call.require()
    return [call.view().named("priority", p) for p in call.state.catalog.priorities]


def resolutions(call: Call) -> list[Any]:
    call.require()
    return [call.view().named("resolution", r) for r in call.state.catalog.resolutions]


def projects(call: Call) -> list[Any]:
    call.require()
    return [call.view().project(p, full=True) for p in call.state.catalog.projects]


def project(call: Call) -> Any:
    call.require()
    ref = call.arg("project")
    found = next((p for p in call.state.catalog.projects if ref in (p.id, p.key)), None)
    if found is None:
        raise not_found(f"No project could be found with key '{ref}'.")
    return call.view().project(found, full=True)


def user(call: Call) -> Any:
    """``GET user?username=`` (or ``key=``) on Server/DC, ``GET user?accountId=`` on Cloud."""
    call.require()
    catalog = call.state.catalog
    if call.cloud:
        for legacy in ("username", "key"):
            if call.query(legacy) is not None:
                raise bad_request(GDPR.format(legacy))
        found = catalog.user(account_id=call.query("accountId") or "")
        if found is None:
            raise not_found("Specified user does not exist or you do not have required permissions")
    else:
        name, key = call.query("username"), call.query("key")
        found = catalog.user(name=name) if name else catalog.user(key=key or "")
        if found is None:
            raise not_found(f"The user named '{name or key}' does not exist")
    return call.view().user(found, detailed=True)


def user_search(call: Call) -> list[Any]:
    """Server/DC matches ``username`` against name, e-mail and display name; Cloud matches ``query``."""
    call.require()
    if call.cloud:
        if call.query("username") is not None:
            raise bad_request(GDPR.format("username"))
        term = call.query("query")
    else:
        term = call.query("username")
        if term is None:
            raise bad_request("The username query parameter was not provided")
    if not term:
        raise bad_request("One of 'query' or 'accountId' query parameters must be provided")
    start, limit = int(call.query("startAt") or 0), int(call.query("maxResults") or 50)
    found = [u for u in call.state.catalog.users if _matches(u, term, call.cloud)]
    if (call.query("includeInactive") or "false").lower() != "true":
        found = [u for u in found if u.active]
    return [call.view().user(u) for u in found[start : start + limit]]


def _matches(user: User, term: str, cloud: bool) -> bool:
    words = [user.display_name, *user.display_name.split()]
    words += [user.email] if user.email_visible or not cloud else []
    words += [] if cloud else [user.name]
    return any(w.lower().startswith(term.lower()) for w in words)


ROUTES: list[tuple[str, str, Handler]] = [
    ("GET", "/rest/api/{version}/serverInfo", server_info),
    ("GET", "/rest/api/{version}/myself", myself),
    ("GET", "/rest/api/{version}/field", fields),
    ("GET", "/rest/api/{version}/issuetype", issue_types),
    ("GET", "/rest/api/{version}/status", statuses),
    ("GET", "/rest/api/{version}/priority", priorities),
    ("GET", "/rest/api/{version}/resolution", resolutions),
    ("GET", "/rest/api/{version}/project", projects),
    ("GET", "/rest/api/{version}/project/{project}", project),
    ("GET", "/rest/api/{version}/user", user),
    ("GET", "/rest/api/{version}/user/search", user_search),
]
