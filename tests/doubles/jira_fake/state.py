"""The fake's in-memory instance: issues and the changes to them, each announced to listeners (webhooks)."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from . import values
from .catalog import Catalog, Mode, Named, Project, User
from .clock import FakeClock
from .errors import JiraError, bad_request, cannot_set, field_errors, not_found
from .records import Comment, History, Issue
from .render import View, diff
from .search import Reader


@dataclass(frozen=True)
class Change:
    """One change as Jira announces it: webhook events, the issue event type, who, when and what."""

    events: tuple[str, ...]
    type_name: str
    issue: Issue
    actor: User
    at: datetime
    history: History | None = None
    comment: Comment | None = None


Listener = Callable[[Change], None]


class JiraState:
    """Issues, comments and changelogs over a ``Catalog``; every public method is thread-safe."""

    def __init__(self, mode: Mode, time_zone: str = "UTC") -> None:
        self.catalog = Catalog.default(mode, time_zone)
        self.clock = FakeClock()
        self.lock = threading.RLock()
        self.base_url = ""
        self.listeners: list[Listener] = []
        self.issues: dict[str, Issue] = {}
        self._issue_ids = itertools.count(10000)
        self._child_ids = itertools.count(10000)
        self._numbers: dict[str, itertools.count[int]] = {}

    @property
    def mode(self) -> Mode:
        return self.catalog.mode

    # Reading

    def zone(self, user: User | None) -> ZoneInfo:
        return ZoneInfo((user.time_zone if user else None) or self.catalog.time_zone)

    def view(self, user: User | None, version: str) -> View:
        return View(self.catalog, self.base_url, version, self.zone(user))

    def reader(self, user: User, strict: bool = True) -> Reader:
        return Reader(self.catalog, self.issues, self.clock.now(), self.zone(user), user, strict)

    def find(self, ref: str) -> Issue:
        issue = self.issues.get(ref.upper()) or next(
            (i for i in self.issues.values() if str(i.id) == ref), None
        )
        if issue is None:
            raise not_found("Issue Does Not Exist")
        return issue

    # Writing

    def create(self, actor: User, version: str, body: dict[str, Any]) -> Issue:
        with self.lock:
            fields = dict(_mapping(body, "fields"))
            problems: dict[str, str] = {}
            project = self._project(fields.pop("project", None), problems)
            kind = fields.pop("issuetype", None)
            if "summary" not in fields:
                problems["summary"] = "You must specify a summary of the issue."
            if project is None or problems:
                raise field_errors(problems)
            writer = values.Writer(self.catalog, project, version)
            try:
                type_id = writer.named("issuetype", kind) if kind is not None else None
            except values.Problem as exc:
                problems["issuetype"] = str(exc)
                type_id = None
            if type_id is None:
                raise field_errors(
                    problems | {"issuetype": problems.get("issuetype", "Specify an issue type")}
                )
            status = self.catalog.initial_status().id
            start: dict[str, Any] = {"issuetype": type_id, "status": status, "priority": "3", "labels": []}
            start |= {"reporter": actor.name, "creator": actor.name, "components": []}
            new = values.apply(writer, start, fields, _mapping(body, "update"))
            at = self.clock.stamp()
            number = next(self._numbers.setdefault(project.id, itertools.count(1)))
            issue = Issue(next(self._issue_ids), f"{project.key}-{number}", project.id, new, at, at)
            self.issues[issue.key] = issue
            self._announce(Change(("jira:issue_created",), "issue_created", issue, actor, at))
            return issue

    def edit(self, actor: User, version: str, ref: str, body: dict[str, Any]) -> None:
        with self.lock:
            issue = self.find(ref)
            update = dict(_mapping(body, "update"))
            comment_ops = update.pop("comment", [])
            new = values.apply(self._writer(issue, version), issue.values, _mapping(body, "fields"), update)
            bodies = [self._comment_body(version, _mapping(op, "add").get("body")) for op in comment_ops]
            self._commit(issue, actor, new, bodies)

    def assign(self, actor: User, version: str, ref: str, body: dict[str, Any]) -> None:
        with self.lock:
            issue = self.find(ref)
            who = body.get("accountId" if self.mode == "cloud" else "name")
            if who == "-1":
                project = self._project({"id": issue.project}, {})
                assert project is not None
                lead = self.catalog.user(name=project.lead)
                assert lead is not None
                body = {"accountId": lead.account_id} if self.mode == "cloud" else {"name": lead.name}
            self.edit(actor, version, ref, {"fields": {"assignee": body if who is not None else None}})

    def transition(self, actor: User, version: str, ref: str, body: dict[str, Any]) -> None:
        with self.lock:
            issue = self.find(ref)
            wanted = str(_mapping(body, "transition").get("id", ""))
            move = next((t for t in self.catalog.transitions if t.id == wanted), None)
            if move is None or (move not in self.catalog.available_transitions(issue.values["status"])):
                if move is None or self.mode == "cloud":
                    raise bad_request(f"Transition id '{wanted}' is not valid for this issue.")
                raise bad_request(
                    f"It seems that you have tried to perform a workflow operation ({move.name}) that is "
                    f"not valid for the current state of this issue ({issue.key}). The likely cause is that "
                    "somebody has changed the issue recently, please look at the issue history for details."
                )
            target = self.catalog.status(move.to)
            assert target is not None
            fields = dict(_mapping(body, "fields"))
            resolution = fields.pop("resolution", None)
            if fields or (resolution is not None and target.category != "done"):
                raise field_errors(
                    {f: cannot_set(f) for f in [*fields, *(["resolution"] if resolution else [])]}
                )
            update = dict(_mapping(body, "update"))
            bodies = [
                self._comment_body(version, _mapping(op, "add").get("body"))
                for op in update.pop("comment", [])
            ]
            if update:
                raise field_errors({f: cannot_set(f) for f in update})
            writer = self._writer(issue, version)
            new = dict(issue.values, status=target.id)
            at = self.clock.stamp()
            if target.category == "done":
                try:
                    new["resolution"] = writer.named("resolution", resolution) if resolution else "10000"
                except values.Problem as exc:
                    raise field_errors({"resolution": str(exc)}) from None
                new["resolutiondate"] = at
            else:
                new["resolution"] = new["resolutiondate"] = None
            self._commit(issue, actor, new, bodies, type_name="issue_generic", at=at)

    def delete(self, actor: User, ref: str) -> None:
        with self.lock:
            issue = self.find(ref)
            del self.issues[issue.key]
            self._announce(Change(("jira:issue_deleted",), "issue_deleted", issue, actor, self.clock.stamp()))

    def add_comment(self, actor: User, version: str, ref: str, body: dict[str, Any]) -> tuple[Issue, Comment]:
        with self.lock:
            issue = self.find(ref)
            self._commit(issue, actor, issue.values, [self._comment_body(version, body.get("body"))])
            return issue, issue.comments[-1]

    def comment(self, ref: str, comment_id: str) -> tuple[Issue, Comment]:
        issue = self.find(ref)
        found = next((c for c in issue.comments if str(c.id) == comment_id), None)
        if found is None:
            raise not_found(f"Can not find a comment for the id: {comment_id}.")
        return issue, found

    def edit_comment(
        self, actor: User, version: str, ref: str, comment_id: str, body: dict[str, Any]
    ) -> Comment:
        with self.lock:
            issue, comment = self.comment(ref, comment_id)
            comment.body = self._comment_body(version, body.get("body"))
            comment.updated = issue.updated = self.clock.stamp()
            comment.update_author = actor.name
            events = ("jira:issue_updated", "comment_updated")
            self._announce(
                Change(events, "issue_comment_edited", issue, actor, comment.updated, comment=comment)
            )
            return comment

    def delete_comment(self, actor: User, ref: str, comment_id: str) -> None:
        with self.lock:
            issue, comment = self.comment(ref, comment_id)
            issue.comments.remove(comment)
            issue.updated = self.clock.stamp()
            self._announce(
                Change(
                    ("jira:issue_updated", "comment_deleted"),
                    "issue_comment_deleted",
                    issue,
                    actor,
                    issue.updated,
                    comment=comment,
                )
            )

    # Internals

    def _commit(
        self,
        issue: Issue,
        actor: User,
        new: dict[str, Any],
        comment_bodies: list[Any],
        type_name: str | None = None,
        at: datetime | None = None,
    ) -> None:
        """Store new values and comments; no change at all touches nothing and announces nothing."""
        items = diff(self.catalog, issue.values, new)
        if not items and not comment_bodies:
            return
        at = at or self.clock.stamp()
        history = None
        if items:
            history = History(next(self._child_ids), actor.name, at, items)
            issue.histories.append(history)
        comment = None
        for text in comment_bodies:
            comment = Comment(next(self._child_ids), actor.name, text, at, at, actor.name)
            issue.comments.append(comment)
        issue.values = new
        issue.updated = at
        if type_name is None:
            only_assignee = bool(items) and all(i["fieldId"] == "assignee" for i in items)
            type_name = (
                "issue_commented" if not items else "issue_assigned" if only_assignee else "issue_updated"
            )
        events = ("jira:issue_updated", "comment_created") if comment else ("jira:issue_updated",)
        self._announce(Change(events, type_name, issue, actor, at, history, comment))

    def _announce(self, change: Change) -> None:
        for listener in self.listeners:
            listener(change)

    def _writer(self, issue: Issue, version: str) -> values.Writer:
        project = next(p for p in self.catalog.projects if p.id == issue.project)
        return values.Writer(self.catalog, project, version)

    def _project(self, raw: Any, problems: dict[str, str]) -> Project | None:
        ref = raw.get("id", raw.get("key")) if isinstance(raw, dict) else None
        project = next((p for p in self.catalog.projects if str(ref) in (p.id, p.key)), None)
        if project is None:
            problems["project"] = (
                "Specify a valid project ID or key" if ref is not None else "project is required"
            )
        return project

    def _comment_body(self, version: str, raw: Any) -> Any:
        try:
            stored = values.rich_in(self.catalog, version, "comment", raw)
        except values.Problem as exc:
            raise field_errors({"comment": str(exc)}) from None
        if stored is None:
            raise field_errors({"comment": "Comment body can not be empty!"})
        return stored

    # Test hooks

    def add_user(self, user: User) -> User:
        with self.lock:
            if self.catalog.user(name=user.name) is not None:
                raise ValueError(f"user {user.name!r} exists")
            self.catalog.users.append(user)
            return user

    def add_project(
        self, key: str, name: str, components: tuple[str, ...] = (), lead: str = "admin"
    ) -> Project:
        with self.lock:
            next_id = max(int(p.id) for p in self.catalog.projects) + 1
            first = max((int(c.id) for p in self.catalog.projects for c in p.components), default=9999) + 1
            named = [Named(str(first + i), n) for i, n in enumerate(components)]
            project = Project(str(next_id), key, name, lead, named)
            self.catalog.projects.append(project)
            return project


def _mapping(body: Any, name: str) -> dict[str, Any]:
    value = body.get(name) if isinstance(body, dict) else None
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise JiraError(400, [f"Can not deserialize '{name}': an object is expected"])
    return value
