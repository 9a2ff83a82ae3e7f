"""JSON as Jira answers it: users, projects, issues, comments and changelogs, per mode and REST version."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from . import adf, clock
from .catalog import CATEGORIES, Catalog, Field, IssueType, Named, Project, Status, User
from .records import Comment, History, Issue
from .values import rich_out

Json = dict[str, Any]

NOT_NAVIGABLE = frozenset({"comment"})
_UNLOGGED = frozenset({"created", "updated", "creator", "resolutiondate"})


@dataclass(frozen=True)
class View:
    """Who reads: the instance, the REST version in the URL and the reader's time zone."""

    catalog: Catalog
    base: str
    version: str
    zone: ZoneInfo

    @property
    def api(self) -> str:
        return f"{self.base}/rest/api/{self.version}"

    @property
    def cloud(self) -> bool:
        return self.catalog.mode == "cloud"

    def time(self, when: Any) -> str | None:
        return clock.render(when, self.zone)

    def user(self, user: User | None, *, detailed: bool = False) -> Json | None:
        if user is None:
            return None
        out: Json
        if self.cloud:
            out = {"self": f"{self.api}/user?accountId={user.account_id}", "accountId": user.account_id}
            out["accountType"] = "atlassian"
        else:
            out = {"self": f"{self.api}/user?username={user.name}", "name": user.name, "key": user.key}
        if user.email_visible or not self.cloud:
            out["emailAddress"] = user.email
        out |= {
            "avatarUrls": {"48x48": f"{self.base}/secure/useravatar?size=large&owner={user.name}"},
            "displayName": user.display_name,
            "active": user.active,
            "timeZone": user.time_zone or self.catalog.time_zone,
        }
        if detailed:
            out["locale"] = "en_US"
        return out

    def user_named(self, name: str | None) -> Json | None:
        return self.user(self.catalog.user(name=name) if name else None)

    def status(self, status: Status) -> Json:
        cid, cname, color = CATEGORIES[status.category]
        return {
            "self": f"{self.api}/status/{status.id}",
            "description": "",
            "iconUrl": f"{self.base}/images/icons/statuses/generic.png",
            "name": status.name,
            "id": status.id,
            "statusCategory": {
                "self": f"{self.api}/statuscategory/{cid}",
                "id": cid,
                "key": status.category,
                "colorName": color,
                "name": cname,
            },
        }

    def issue_type(self, kind: IssueType) -> Json:
        return {
            "self": f"{self.api}/issuetype/{kind.id}",
            "id": kind.id,
            "description": kind.description,
            "iconUrl": f"{self.base}/images/icons/issuetypes/task.svg",
            "name": kind.name,
            "subtask": kind.subtask,
        }

    def named(self, kind: str, item: Named | None) -> Json | None:
        if item is None:
            return None
        return {"self": f"{self.api}/{kind}/{item.id}", "id": item.id, "name": item.name}

    def project(self, project: Project, *, full: bool = False) -> Json:
        out: Json = {
            "self": f"{self.api}/project/{project.id}",
            "id": project.id,
            "key": project.key,
            "name": project.name,
            "projectTypeKey": "software",
        }
        if full:
            out |= {
                "description": "",
                "lead": self.user_named(project.lead),
                "components": [self.named("component", c) for c in project.components],
                "issueTypes": [self.issue_type(t) for t in self.catalog.issue_types],
            }
        return out

    def field(self, spec: Field) -> Json:
        return {
            "id": spec.id,
            "key": spec.id,
            "name": spec.name,
            "custom": spec.custom,
            "orderable": spec.id not in _UNLOGGED,
            "navigable": spec.id not in NOT_NAVIGABLE,
            "searchable": True,
            "clauseNames": list(spec.clause_names),
            "schema": spec.schema,
        }

    def comment(self, issue: Issue, comment: Comment) -> Json:
        out: Json = {
            "self": f"{self.api}/issue/{issue.id}/comment/{comment.id}",
            "id": str(comment.id),
            "author": self.user_named(comment.author),
            "body": rich_out(self.catalog, self.version, comment.body),
            "updateAuthor": self.user_named(comment.update_author),
            "created": self.time(comment.created),
            "updated": self.time(comment.updated),
        }
        if self.cloud:
            out["jsdPublic"] = True
        return out

    def history(self, history: History) -> Json:
        return {
            "id": str(history.id),
            "author": self.user_named(history.author),
            "created": self.time(history.created),
            "items": history.items,
        }

    def issue(
        self, issue: Issue, wanted: Callable[[str], bool] | None = None, expand: Iterable[str] = ()
    ) -> Json:
        """The issue with the fields ``wanted`` (``None``: all) and the ``expand`` parts asked for."""
        fields = self.fields(issue)
        if wanted is not None:
            fields = {k: v for k, v in fields.items() if wanted(k)}
        out: Json = {
            "expand": "renderedFields,names,schema,operations,editmeta,changelog,versionedRepresentations",
            "id": str(issue.id),
            "self": f"{self.api}/issue/{issue.id}",
            "key": issue.key,
            "fields": fields,
        }
        expand = set(expand)
        if "names" in expand:
            out["names"] = {f.id: f.name for f in self.catalog.fields if f.id in fields}
        if "changelog" in expand:
            total = len(issue.histories)
            histories = [self.history(h) for h in issue.histories]
            out["changelog"] = {"startAt": 0, "maxResults": total, "total": total, "histories": histories}
        return out

    def fields(self, issue: Issue) -> Json:
        v, cat = issue.values, self.catalog
        project = next(p for p in cat.projects if p.id == issue.project)
        comments = [self.comment(issue, c) for c in issue.comments]
        status = cat.status(v["status"])
        kind = cat.issue_type(v["issuetype"])
        assert status is not None and kind is not None
        out: Json = {
            "summary": v["summary"],
            "description": rich_out(cat, self.version, v.get("description")),
            "status": self.status(status),
            "issuetype": self.issue_type(kind),
            "project": self.project(project),
            "priority": self.named("priority", cat.priority(v["priority"]) if v.get("priority") else None),
            "assignee": self.user_named(v.get("assignee")),
            "reporter": self.user_named(v.get("reporter")),
            "creator": self.user_named(v.get("creator")),
            "labels": list(v.get("labels") or []),
            "components": [
                self.named("component", c) for c in project.components if c.id in (v.get("components") or [])
            ],
            "created": self.time(issue.created),
            "updated": self.time(issue.updated),
            "resolution": self.named(
                "resolution", cat.resolution(v["resolution"]) if v.get("resolution") else None
            ),
            "resolutiondate": self.time(v.get("resolutiondate")),
            "duedate": v.get("duedate"),
            "comment": {
                "comments": comments,
                "maxResults": len(comments),
                "total": len(comments),
                "startAt": 0,
            },
        }
        for spec in cat.custom_fields():
            out[spec.id] = self.custom_value(spec, v.get(spec.id))
        return out

    def custom_value(self, spec: Field, stored: Any) -> Any:
        if stored is None:
            return None
        if spec.kind == "number":
            return float(stored)
        if spec.kind == "option":
            option = next(o for o in spec.options if o.id == stored)
            return {
                "self": f"{self.api}/customFieldOption/{option.id}",
                "value": option.name,
                "id": option.id,
            }
        return stored


def issuekey_field() -> Json:
    return {
        "id": "issuekey",
        "key": "issuekey",
        "name": "Key",
        "custom": False,
        "orderable": False,
        "navigable": True,
        "searchable": False,
        "clauseNames": ["id", "issue", "issuekey", "key"],
    }


def field_filter(params: Iterable[str], default: str) -> Callable[[str], bool]:
    """Which fields ``fields=`` asks for: comma lists of ids, ``*all``, ``*navigable``, ``-id``."""
    names = [n.strip() for p in params for n in p.split(",") if n.strip()]
    if not any(not n.startswith("-") for n in names):
        names.append(default)
    removed = {n[1:] for n in names if n.startswith("-")}
    explicit = {n for n in names if not n.startswith(("-", "*"))}
    everything, navigable = "*all" in names, "*navigable" in names

    def wanted(fid: str) -> bool:
        if fid in removed:
            return False
        return everything or (navigable and fid not in NOT_NAVIGABLE) or fid in explicit

    return wanted


def diff(catalog: Catalog, old: dict[str, Any], new: dict[str, Any]) -> list[Json]:
    """Changelog items for the fields whose stored value changed."""
    items = []
    for fid in [*old, *(k for k in new if k not in old)]:
        a, b = old.get(fid), new.get(fid)
        spec = catalog.find_field(fid)
        if a == b or fid in _UNLOGGED or spec is None:
            continue
        frm, frm_s = _display(catalog, spec, a)
        to, to_s = _display(catalog, spec, b)
        items.append(
            {
                "field": spec.name if spec.custom else ("Component" if fid == "components" else fid),
                "fieldtype": "custom" if spec.custom else "jira",
                "fieldId": fid,
                "from": frm,
                "fromString": frm_s,
                "to": to,
                "toString": to_s,
            }
        )
    return items


def _display(catalog: Catalog, spec: Field, stored: Any) -> tuple[str | None, str | None]:
    if stored is None or stored == []:
        return None, None
    fid = spec.id
    finders = {
        "status": catalog.status,
        "issuetype": catalog.issue_type,
        "priority": catalog.priority,
        "resolution": catalog.resolution,
    }
    if fid in finders:
        found = finders[fid](stored)
        return stored, found.name if found else None
    if fid in ("assignee", "reporter"):
        user = catalog.user(name=stored)
        assert user is not None
        return (user.account_id if catalog.mode == "cloud" else user.name), user.display_name
    if fid == "labels":
        return None, " ".join(stored)
    if fid == "components":
        names = {c.id: c.name for p in catalog.projects for c in p.components}
        return ", ".join(stored), ", ".join(names[c] for c in stored)
    if fid == "description" and isinstance(stored, dict):
        return None, adf.to_text(stored)
    if spec.kind == "option":
        option = next(o for o in spec.options if o.id == stored)
        return option.id, option.name
    if fid == "duedate" or spec.kind == "date":
        return stored, stored
    return None, str(stored)
