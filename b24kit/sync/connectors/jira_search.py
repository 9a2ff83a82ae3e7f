"""JQL for the connector's reads, and the incremental stream that misses nothing at a cursor boundary.

Jira's JQL dates have minute precision and no time zone: they are read in the searching account's
zone. The stream renders the cursor in that zone, rounded down to the minute, and pages by key:
after each page it asks again from the minute of the last issue it saw, skipping the
``(id, updated)`` versions it already yielded. So an issue edited during the read (which moves to
the end of the ``updated`` order) never shifts an unseen issue past an offset, and two issues in the
same minute on both sides of a page boundary are both seen.
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
    seen: dict[tuple[str, str], datetime] = {}
    start, token = 0, None
    while True:
        clause = since_clause(floor, zone) if floor is not None else None
        jql = where(base, clause) + ORDER
        try:
            page, last, token = api.search(jql, fields, start=start, token=token, limit=page_size)
        except JiraFailure as exc:
            raise api.failure("search", exc) from None
        for raw in page:
            updated = str((raw.get("fields") or {}).get("updated") or "")
            version = (str(raw.get("id")), updated)
            if version in seen:
                continue
            seen[version] = parse_datetime(updated) or datetime.min.replace(tzinfo=zone)
            yield raw
        if last or not page:
            return
        newest = parse_datetime((page[-1].get("fields") or {}).get("updated"))
        moved = newest is not None and (floor is None or minute(newest, zone) > floor)
        if moved and newest is not None:
            floor = minute(newest, zone)
            start, token = 0, None
            seen = {v: t for v, t in seen.items() if t >= floor - timedelta(minutes=1)}
        else:
            start += len(page)
