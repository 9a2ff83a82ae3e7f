"""Issue endpoints: create/get/edit/delete, bulk create, assignee, comments, transitions and search."""

from __future__ import annotations

from typing import Any

from .app import Call, Handler, Reply, null_for_uri
from .errors import JiraError, bad_request
from .render import field_filter
from .search import page_token, read_token, select

CLOUD_SEARCH_GONE = (
    "The requested API has been removed. Please migrate to the /rest/api/3/search/jql API. "
    "A full migration guideline is available at https://developer.atlassian.com/changelog/#CHANGE-2046"
)
UNBOUNDED = "Unbounded JQL queries are not allowed here. Please add a search restriction to your query."


def _expand(values: list[str] | str | None) -> set[str]:
    items = [values] if isinstance(values, str) else values or []
    return {part.strip() for item in items for part in item.split(",") if part.strip()}


def _int(value: Any, name: str, default: int) -> int:
    if value is None or value == "":
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        raise bad_request(f"The '{name}' parameter must be an integer, got '{value}'.") from None


async def create(call: Call) -> Reply:
    body = await call.body()
    with call.state.lock:
        issue = call.state.create(call.caller, call.version, body)
        return Reply(
            201, {"id": str(issue.id), "key": issue.key, "self": f"{call.view().api}/issue/{issue.id}"}
        )


async def create_bulk(call: Call) -> Reply:
    updates = (await call.body()).get("issueUpdates") or []
    if len(updates) > 50:
        raise bad_request("You can create up to 50 issues in a single bulk request.")
    created, errors = [], []
    for number, update in enumerate(updates):
        try:
            issue = call.state.create(call.caller, call.version, update)
        except JiraError as exc:
            errors.append({"status": exc.status, "elementErrors": exc.body(), "failedElementNumber": number})
            continue
        created.append({"id": str(issue.id), "key": issue.key, "self": f"{call.view().api}/issue/{issue.id}"})
    return Reply(201 if created or not errors else 400, {"issues": created, "errors": errors})


def get(call: Call) -> Any:
    call.require()
    with call.state.lock:
        issue = call.state.find(call.arg("issue"))
        wanted = field_filter(call.query_list("fields"), "*all")
        return call.view().issue(issue, wanted, _expand(call.query_list("expand")))


async def edit(call: Call) -> Reply:
    call.state.edit(call.caller, call.version, call.arg("issue"), await call.body())
    return Reply(204)


def delete(call: Call) -> Reply:
    call.state.delete(call.caller, call.arg("issue"))
    return Reply(204)


async def assign(call: Call) -> Reply:
    call.state.assign(call.caller, call.version, call.arg("issue"), await call.body())
    return Reply(204)


def transitions(call: Call) -> Any:
    call.require()
    with call.state.lock:
        issue = call.state.find(call.arg("issue"))
        view, catalog = call.view(), call.state.catalog
        available = catalog.available_transitions(issue.values["status"])
        only = call.query("transitionId")
        out = []
        for move in available:
            if only is not None and move.id != only:
                continue
            target = catalog.status(move.to)
            assert target is not None
            item = {"id": move.id, "name": move.name, "to": view.status(target), "hasScreen": False}
            item |= {"isGlobal": not move.sources, "isInitial": False, "isConditional": False}
            if call.cloud:
                item |= {"isAvailable": True, "isLooped": False}
            if "transitions.fields" in _expand(call.query_list("expand")):
                item["fields"] = {}
            out.append(item)
        return {"expand": "transitions", "transitions": out}


async def transition(call: Call) -> Reply:
    call.state.transition(call.caller, call.version, call.arg("issue"), await call.body())
    return Reply(204)


def comments(call: Call) -> Any:
    call.require()
    with call.state.lock:
        issue = call.state.find(call.arg("issue"))
        start = _int(call.query("startAt"), "startAt", 0)
        limit = _int(call.query("maxResults"), "maxResults", 5000)
        ordered = sorted(issue.comments, key=lambda c: c.created, reverse=call.query("orderBy") == "-created")
        view = call.view()
        page = [view.comment(issue, c) for c in ordered[start : start + limit]]
        return {"startAt": start, "maxResults": limit, "total": len(ordered), "comments": page}


async def add_comment(call: Call) -> Reply:
    body = await call.body()
    with call.state.lock:
        issue, comment = call.state.add_comment(call.caller, call.version, call.arg("issue"), body)
        return Reply(201, call.view().comment(issue, comment))


def get_comment(call: Call) -> Any:
    call.require()
    with call.state.lock:
        issue, comment = call.state.comment(call.arg("issue"), call.arg("comment"))
        return call.view().comment(issue, comment)


async def edit_comment(call: Call) -> Any:
    body = await call.body()
    with call.state.lock:
        comment = call.state.edit_comment(
            call.caller, call.version, call.arg("issue"), call.arg("comment"), body
        )
        return call.view().comment(call.state.find(call.arg("issue")), comment)


def delete_comment(call: Call) -> Reply:
    call.state.delete_comment(call.caller, call.arg("issue"), call.arg("comment"))
    return Reply(204)


def changelog(call: Call) -> Any:
    """Cloud's paged changelog (``/issue/{key}/changelog``); Server/DC has only ``expand=changelog``."""
    if not call.cloud:
        return null_for_uri(call.request)
    call.require()
    with call.state.lock:
        issue = call.state.find(call.arg("issue"))
        start = _int(call.query("startAt"), "startAt", 0)
        limit = min(_int(call.query("maxResults"), "maxResults", 100), 100)
        page = [call.view().history(h) for h in issue.histories[start : start + limit]]
        return {
            "self": str(call.request.url),
            "maxResults": limit,
            "startAt": start,
            "total": len(issue.histories),
            "isLast": start + limit >= len(issue.histories),
            "values": page,
        }


async def _params(call: Call) -> dict[str, Any]:
    """Search parameters from the query string (GET) or the JSON body (POST)."""
    if call.request.method == "POST":
        return await call.body()
    params: dict[str, Any] = dict(call.request.query_params)
    params["fields"] = call.query_list("fields")
    params["expand"] = call.query_list("expand")
    return params


async def search(call: Call) -> Any:
    """Server/DC ``search``: offset paging with ``startAt``/``maxResults`` and a ``total``."""
    if call.cloud:
        raise JiraError(410, [CLOUD_SEARCH_GONE])
    params = await _params(call)
    start = _int(params.get("startAt"), "startAt", 0)
    limit = min(_int(params.get("maxResults"), "maxResults", 50), 1000)
    strict = str(params.get("validateQuery", "strict")).lower() not in ("false", "none", "warn")
    fields = params.get("fields") or []
    with call.state.lock:
        _, found = select(str(params.get("jql") or ""), call.state.reader(call.caller, strict))
        view, wanted = (
            call.view(),
            field_filter([fields] if isinstance(fields, str) else fields, "*navigable"),
        )
        page = [view.issue(i, wanted, _expand(params.get("expand"))) for i in found[start : start + limit]]
    return {
        "expand": "schema,names",
        "startAt": start,
        "maxResults": limit,
        "total": len(found),
        "issues": page,
    }


async def search_jql(call: Call) -> Any:
    """Cloud ``search/jql``: ``nextPageToken`` paging, no total, only ids unless ``fields`` are asked for."""
    if not call.cloud:
        return null_for_uri(call.request)
    params = await _params(call)
    jql = str(params.get("jql") or "")
    fields = params.get("fields") or []
    fields = [fields] if isinstance(fields, str) else fields
    ids_only = all(f in ("id", "key") for f in fields)
    limit = min(_int(params.get("maxResults"), "maxResults", 50), 5000 if ids_only else 100)
    with call.state.lock:
        query, found = select(jql, call.state.reader(call.caller))
        if query.where is None:
            raise bad_request(UNBOUNDED)
        token = params.get("nextPageToken")
        offset = read_token(str(token), jql) if token else 0
        view, wanted = call.view(), field_filter(fields, "id")
        expand = _expand(params.get("expand"))
        chunk = found[offset : offset + limit]
        issues = [{"id": str(i.id)} if not fields else view.issue(i, wanted, expand) for i in chunk]
    body: dict[str, Any] = {"issues": issues, "isLast": offset + limit >= len(found)}
    if not body["isLast"]:
        body["nextPageToken"] = page_token(offset + limit, jql)
    return body


ROUTES: list[tuple[str, str, Handler]] = [
    ("POST", "/rest/api/{version}/issue", create),
    ("POST", "/rest/api/{version}/issue/bulk", create_bulk),
    ("GET", "/rest/api/{version}/issue/{issue}", get),
    ("PUT", "/rest/api/{version}/issue/{issue}", edit),
    ("DELETE", "/rest/api/{version}/issue/{issue}", delete),
    ("PUT", "/rest/api/{version}/issue/{issue}/assignee", assign),
    ("GET", "/rest/api/{version}/issue/{issue}/transitions", transitions),
    ("POST", "/rest/api/{version}/issue/{issue}/transitions", transition),
    ("GET", "/rest/api/{version}/issue/{issue}/comment", comments),
    ("POST", "/rest/api/{version}/issue/{issue}/comment", add_comment),
    ("GET", "/rest/api/{version}/issue/{issue}/comment/{comment}", get_comment),
    ("PUT", "/rest/api/{version}/issue/{issue}/comment/{comment}", edit_comment),
    ("DELETE", "/rest/api/{version}/issue/{issue}/comment/{comment}", delete_comment),
    ("GET", "/rest/api/{version}/issue/{issue}/changelog", changelog),
    ("GET", "/rest/api/{version}/search", search),
    ("POST", "/rest/api/{version}/search", search),
    ("GET", "/rest/api/{version}/search/jql", search_jql),
    ("POST", "/rest/api/{version}/search/jql", search_jql),
]
