"""JQL for the connector's reads, and the incremental stream that misses nothing at a cursor boundary.

Jira's JQL dates have minute precision and no time zone: they are read in the searching account's
zone. The stream renders the cursor in that zone, rounded down to the minute, and pages by key:
after each page it asks again from the minute of the last issue it saw, skipping the
``(id, updated)`` versions it already yielded. So an issue edited during the read (which moves to
the end of the ``updated`` order, as our own writes do while the engine consumes the stream)
never shifts an unseen issue past an offset. When one minute holds more issues than a page, the
ids of that minute are listed first (a cheap ids-only search) and read by id, so no offset into a
changing list is ever used; issues are yielded in ``updated`` order throughout.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from b24kit.sync.values import parse_datetime

from .jira_api import JiraApi, JiraFailure, JiraOptions

ORDER = " ORDER BY updated ASC, key ASC"


def quote(value: Any) -> str:
    """A JQL string literal."""
    text = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"'


def scope(options: JiraOptions, cloud: bool) -> str:
    """The JQL condition every read applies: projects, issue types and the profile's own JQL."""
    parts = []
    if options.projects:
        parts.append(f"project in ({', '.join(quote(p) for p in options.projects)})")
    if options.issue_types:
        parts.append(f"issuetype in ({', '.join(quote(t) for t in options.issue_types)})")
    if options.jql and options.jql.strip():
        parts.append(f"({options.jql.strip()})")
    if not parts and cloud:
        parts.append("project is not EMPTY")  # Cloud refuses unbounded searches
    return " AND ".join(parts)


def minute(moment: datetime, zone: ZoneInfo) -> datetime:
    """The moment in ``zone``, rounded down to the minute (what a JQL date can say)."""
    local = moment.astimezone(zone)
    return local.replace(second=0, microsecond=0)


def since_clause(moment: datetime, zone: ZoneInfo) -> str:
    return f'updated >= "{minute(moment, zone).strftime("%Y-%m-%d %H:%M")}"'


def where(base: str, extra: str | None) -> str:
    parts = [p for p in (base, extra) if p]
    return " AND ".join(f"({p})" if " OR " in p.upper() else p for p in parts)


def stream(
    api: JiraApi, base: str, fields: Sequence[str], since: datetime | None, page_size: int
) -> Iterator[dict[str, Any]]:
    """Issues of ``base`` updated at or after ``since`` (all when ``None``), oldest change first."""
    zone = api.zone
    floor = minute(since, zone) if since is not None else None
    seen: set[tuple[str, str]] = set()
    while True:
        clause = since_clause(floor, zone) if floor is not None else None
        page, last = _page(api, where(base, clause) + ORDER, fields, page_size)
        yield from _unseen(page, seen)
        if last or not page:
            return
        newest = _updated(page[-1])
        if newest is None:
            return
        if floor is None or minute(newest, zone) > floor:
            floor = minute(newest, zone)
        else:  # a page of one minute: more issues share it than a page holds
            yield from _minute(api, base, fields, floor, zone, seen, page_size)
            floor += timedelta(minutes=1)
        seen = {v for v in seen if (moment := parse_datetime(v[1])) is None or minute(moment, zone) >= floor}


def _page(api: JiraApi, jql: str, fields: Sequence[str], limit: int) -> tuple[list[dict[str, Any]], bool]:
    try:
        page, last, _ = api.search(jql, fields, limit=limit)
    except JiraFailure as exc:
        raise api.failure("search", exc) from None
    return page, last


def _updated(raw: dict[str, Any]) -> datetime | None:
    return parse_datetime((raw.get("fields") or {}).get("updated"))


def _unseen(page: list[dict[str, Any]], seen: set[tuple[str, str]]) -> Iterator[dict[str, Any]]:
    for raw in page:
        version = (str(raw.get("id")), str((raw.get("fields") or {}).get("updated") or ""))
        if version not in seen:
            seen.add(version)
            yield raw


def _minute(
    api: JiraApi,
    base: str,
    fields: Sequence[str],
    floor: datetime,
    zone: ZoneInfo,
    seen: set[tuple[str, str]],
    page_size: int,
) -> Iterator[dict[str, Any]]:
    """Every issue of one minute: its ids listed up front, then read by id, in ``updated`` order.

    An issue edited meanwhile has left the minute; it is not yielded here but where its new
    ``updated`` puts it, so the order holds.
    """
    end = floor + timedelta(minutes=1)
    bounded = where(base, f'{since_clause(floor, zone)} AND updated < "{end.strftime("%Y-%m-%d %H:%M")}"')
    ids = [str(raw["id"]) for raw in api.search_all(bounded + ORDER, ["id"], limit=api.id_page)]
    for start in range(0, len(ids), page_size):
        chunk = ", ".join(ids[start : start + page_size])
        found = api.search_all(f"id in ({chunk}){ORDER}", fields)
        inside = [r for r in found if (moment := _updated(r)) is not None and minute(moment, zone) < end]
        yield from _unseen(inside, seen)
