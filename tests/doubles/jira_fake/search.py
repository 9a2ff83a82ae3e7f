"""What a JQL query selects and in what order: the fields, operators and values the fake understands."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from .adf import to_text
from .catalog import Catalog, Field, User
from .errors import JiraError, bad_request
from .jql import Clause, Node, Query, Value, parse
from .records import Issue

Matcher = Callable[[Issue], bool]

_DATE_FORMATS = ("%Y/%m/%d %H:%M", "%Y-%m-%d %H:%M", "%Y/%m/%d", "%Y-%m-%d")
_PERIOD = re.compile(r"^([-+]?)((?:\d+[wdhm]\s*)+)$")
_UNIT = {"w": timedelta(weeks=1), "d": timedelta(days=1), "h": timedelta(hours=1), "m": timedelta(minutes=1)}
_EQUALITY = ("=", "!=", "in", "not in", "is", "is not")
_ORDERED = ("=", "!=", ">", ">=", "<", "<=", "is", "is not")
# field id -> (kind, operators)
_SYSTEM: dict[str, tuple[str, tuple[str, ...]]] = {
    "project": ("ref", _EQUALITY),
    "issuetype": ("ref", _EQUALITY),
    "status": ("ref", _EQUALITY),
    "priority": ("ref", _EQUALITY),
    "resolution": ("ref", _EQUALITY),
    "assignee": ("user", _EQUALITY),
    "reporter": ("user", _EQUALITY),
    "creator": ("user", _EQUALITY),
    "labels": ("multi", _EQUALITY),
    "components": ("multi", _EQUALITY),
    "created": ("date", _ORDERED),
    "updated": ("date", _ORDERED),
    "resolutiondate": ("date", _ORDERED),
    "duedate": ("date", _ORDERED),
    "summary": ("text", ("~", "!~", "is", "is not")),
    "description": ("text", ("~", "!~", "is", "is not")),
}
_CUSTOM: dict[str, tuple[str, tuple[str, ...]]] = {
    "number": ("number", (*_ORDERED, "in", "not in")),
    "string": ("text", ("~", "!~", "is", "is not")),
    "option": ("ref", _EQUALITY),
    "date": ("date", _ORDERED),
}


@dataclass(frozen=True)
class Reader:
    """The context a query runs in: the account's time zone and user, and whether values are checked."""

    catalog: Catalog
    issues: dict[str, Issue]  # by key
    now: datetime
    zone: ZoneInfo
    user: User
    strict: bool = True  # Server's validateQuery; unknown values are errors

    def missing(self, message: str) -> bool:
        """An unknown value: a 400 when strict, else it matches nothing (Jira's warning)."""
        if self.strict:
            raise bad_request(message)
        return False


def select(jql: str, reader: Reader) -> tuple[Query, list[Issue]]:
    """The issues ``jql`` selects, in its order (``key DESC`` when it names none)."""
    query = parse(jql)
    match = compile_node(query.where, reader) if query.where is not None else (lambda issue: True)
    found = [i for i in reader.issues.values() if match(i)]
    found.sort(key=lambda i: i.id)
    for name, descending in reversed(query.order or (("key", True),)):
        found.sort(key=sort_key(name, reader), reverse=descending)
    return query, found


def compile_node(node: Node, reader: Reader) -> Matcher:
    if isinstance(node, Clause):
        return compile_clause(node, reader)
    parts = [compile_node(p, reader) for p in node.parts]
    if node.op == "not":
        return lambda issue: not parts[0](issue)
    if node.op == "and":
        return lambda issue: all(p(issue) for p in parts)
    return lambda issue: any(p(issue) for p in parts)


def compile_clause(clause: Clause, reader: Reader) -> Matcher:
    if clause.field.lower() in ("key", "issuekey", "id", "issue"):
        return _key_clause(clause, reader)
    spec = reader.catalog.find_field(clause.field)
    kind_ops = (_CUSTOM.get(spec.kind) if spec.custom else _SYSTEM.get(spec.id)) if spec else None
    if spec is None or kind_ops is None:
        raise bad_request(f"Field '{clause.field}' does not exist or you do not have permission to view it.")
    kind, operators = kind_ops
    if clause.op not in operators:
        raise bad_request(
            f"The operator '{clause.op.upper()}' is not supported by the '{clause.field}' field."
        )
    get = _getter(spec, reader)
    if clause.op in ("is", "is not"):
        empty = clause.op == "is"
        return lambda issue: (get(issue) in (None, [])) == empty
    if kind == "text":
        needle = clause.values[0].text.lower().strip("*")
        found = clause.op == "~"
        return lambda issue: ((get(issue) or "").lower().find(needle) >= 0) == found
    if kind == "date" or kind == "number":
        convert = (lambda v: _instant(v, clause.field, reader)) if kind == "date" else _number
        return _compare(clause, [convert(v) for v in clause.values], get)
    wanted = {w for v in clause.values for w in _resolve(spec, kind, v, clause.field, reader)}
    negate = clause.op in ("!=", "not in")
    if kind == "multi":
        return lambda issue: bool(wanted & set(get(issue) or [])) != negate
    return lambda issue: get(issue) is not None and (get(issue) in wanted) != negate


def _key_clause(clause: Clause, reader: Reader) -> Matcher:
    if clause.op not in ("=", "!=", "in", "not in"):
        raise bad_request(
            f"The operator '{clause.op.upper()}' is not supported by the '{clause.field}' field."
        )
    ids = set()
    by_id = {str(i.id): i for i in reader.issues.values()}
    for value in clause.values:
        issue = reader.issues.get(value.text.upper()) or by_id.get(value.text)
        if issue is None:
            reader.missing(f"An issue with key '{value.text}' does not exist for field '{clause.field}'.")
        else:
            ids.add(issue.id)
    negate = clause.op in ("!=", "not in")
    return lambda issue: (issue.id in ids) != negate


def _getter(spec: Field, reader: Reader) -> Callable[[Issue], Any]:
    fid = spec.id
    if fid == "project":
        return lambda issue: issue.project
    if fid in ("created", "updated"):
        return lambda issue: getattr(issue, fid)
    if fid == "description" and reader.catalog.mode == "cloud":
        return lambda issue: to_text(issue.values["description"]) if issue.values.get("description") else None
    if spec.kind == "date":
        return lambda issue: _midnight(issue.values.get(fid), reader.zone)
    return lambda issue: issue.values.get(fid)


def _resolve(spec: Field, kind: str, value: Value, name: str, reader: Reader) -> Iterable[Any]:
    """The stored values a JQL value stands for (ids, user names)."""
    cat = reader.catalog
    if value.function and not (kind == "user" and value.text.lower() == "currentuser"):
        raise bad_request(f"Unable to find JQL function '{value.text}()'.")
    if kind == "user":
        if value.function:
            return [reader.user.name]
        found = cat.user(account_id=value.text) if cat.mode == "cloud" else cat.user(name=value.text)
        found = found or (None if cat.mode == "cloud" else cat.user(key=value.text))
        return [found.name] if found else _nothing(reader, value, name)
    if spec.id == "labels":
        return [value.text]
    if spec.id == "components":
        ids = [c.id for p in cat.projects for c in p.components if value.text in (c.id, c.name)]
        return ids or _nothing(reader, value, name)
    if spec.custom:
        found_option = [o.id for o in spec.options if value.text in (o.id, o.name)]
        if not found_option:
            reader.missing(f"The option '{value.text}' for field '{spec.name}' does not exist.")
        return found_option
    finder = {
        "project": cat.project,
        "issuetype": cat.issue_type,
        "status": cat.status,
        "priority": cat.priority,
        "resolution": cat.resolution,
    }[spec.id]
    found_ref = finder(value.text)
    return [found_ref.id] if found_ref else _nothing(reader, value, name)


def _nothing(reader: Reader, value: Value, name: str) -> list[Any]:
    reader.missing(f"The value '{value.text}' does not exist for the field '{name}'.")
    return []


def _compare(clause: Clause, values: list[Any], get: Callable[[Issue], Any]) -> Matcher:
    op, target = clause.op, values[0]
    tests: dict[str, Callable[[Any], bool]] = {
        "=": lambda v: v == target,
        "!=": lambda v: v != target,
        ">": lambda v: v > target,
        ">=": lambda v: v >= target,
        "<": lambda v: v < target,
        "<=": lambda v: v <= target,
        "in": lambda v: v in values,
        "not in": lambda v: v not in values,
    }
    test = tests[op]
    return lambda issue: (value := get(issue)) is not None and test(value)


def _number(value: Value) -> float:
    try:
        return float(value.text)
    except ValueError:
        raise bad_request(f"The value '{value.text}' is not a valid number.") from None


def _instant(value: Value, name: str, reader: Reader) -> datetime:
    """A JQL date: local time in the account's zone (minute precision), a period, or a function."""
    if value.function:
        today = datetime.combine(reader.now.astimezone(reader.zone).date(), time(), reader.zone)
        functions = {
            "now": reader.now,
            "startofday": today,
            "endofday": today + timedelta(days=1, milliseconds=-1),
        }
        if value.text.lower() not in functions:
            raise bad_request(f"Unable to find JQL function '{value.text}()'.")
        return functions[value.text.lower()]
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(value.text, fmt).replace(tzinfo=reader.zone)
        except ValueError:
            continue
    period = _PERIOD.match(value.text.strip())
    if period:
        delta = sum(
            (int(n) * _UNIT[u] for n, u in re.findall(r"(\d+)([wdhm])", period.group(2))), timedelta()
        )
        return reader.now - delta if period.group(1) == "-" else reader.now + delta
    raise bad_request(
        f"Date value '{value.text}' for field '{name}' is invalid. Valid formats include: "
        "'yyyy/MM/dd HH:mm', 'yyyy-MM-dd HH:mm', 'yyyy/MM/dd', 'yyyy-MM-dd', "
        "or a period format e.g. '-5d', '4w 2d'."
    )


def _midnight(stored: str | None, zone: ZoneInfo) -> datetime | None:
    return None if stored is None else datetime.strptime(stored, "%Y-%m-%d").replace(tzinfo=zone)


def sort_key(name: str, reader: Reader) -> Callable[[Issue], Any]:
    cat = reader.catalog
    keys = {p.id: p.key for p in cat.projects}
    lowered = name.lower()
    if lowered in ("key", "issuekey", "id", "issue"):
        return lambda issue: (keys[issue.project], issue.number)
    spec = cat.find_field(name)
    if spec is None:
        raise bad_request(f"Field '{name}' does not exist or you do not have permission to view it.")
    if spec.id in ("status", "priority"):
        order = [s.id for s in (cat.statuses if spec.id == "status" else cat.priorities)]
        sign = 1 if spec.id == "status" else -1  # priority DESC: Highest first
        return lambda issue: sign * order.index(issue.values[spec.id]) if issue.values.get(spec.id) else 0
    if spec.id == "project":
        return lambda issue: keys[issue.project]
    if spec.id in ("labels", "components", "comment", "description") or (
        spec.custom and spec.kind == "option"
    ):
        raise bad_request(f"Field '{name}' does not support sorting.")
    get = _getter(spec, reader)
    return lambda issue: (get(issue) is None, get(issue) if get(issue) is not None else 0)


def page_token(offset: int, jql: str) -> str:
    """An opaque ``nextPageToken`` bound to the query it pages."""
    raw = json.dumps({"o": offset, "q": hashlib.sha1(jql.encode()).hexdigest()[:12]}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def read_token(token: str, jql: str) -> int:
    try:
        data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        if data["q"] != hashlib.sha1(jql.encode()).hexdigest()[:12]:
            raise ValueError("token of another query")
        return int(data["o"])
    except (ValueError, KeyError, TypeError):
        raise JiraError(400, ["The provided next page token is invalid or expired."]) from None
