"""The fake's configuration data: users, projects, issue types, fields, statuses and the workflow."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any, Literal

Mode = Literal["server", "cloud"]


@dataclass
class User:
    name: str  # Server/DC username; Cloud has no name on the wire
    email: str
    display_name: str
    password: str  # Server/DC basic auth
    api_token: str  # Cloud basic auth with the e-mail
    pat: str  # Server/DC personal access token (Bearer)
    time_zone: str | None = None  # None: the instance default
    email_visible: bool = True  # Cloud privacy settings may hide the e-mail
    active: bool = True

    @property
    def key(self) -> str:
        return f"JIRAUSER{int(hashlib.sha1(self.name.encode()).hexdigest()[:5], 16)}"

    @property
    def account_id(self) -> str:
        return "5b10" + hashlib.sha1(self.name.encode()).hexdigest()[:20]


@dataclass(frozen=True)
class IssueType:
    id: str
    name: str
    description: str = ""
    subtask: bool = False


@dataclass(frozen=True)
class Status:
    id: str
    name: str
    category: Literal["new", "indeterminate", "done"]


@dataclass(frozen=True)
class Transition:
    id: str
    name: str
    to: str  # status id
    sources: tuple[str, ...] = ()  # status ids; empty: a global transition


@dataclass(frozen=True)
class Named:
    """A priority, resolution or component: an id and a name."""

    id: str
    name: str


@dataclass
class Project:
    id: str
    key: str
    name: str
    lead: str  # user name
    components: list[Named] = field(default_factory=list)


@dataclass(frozen=True)
class Field:
    id: str
    name: str
    schema: dict[str, Any]
    clause_names: tuple[str, ...]
    custom: bool = False
    options: tuple[Named, ...] = ()  # allowed values of a select field

    @property
    def kind(self) -> str:
        return str(self.schema.get("type"))


CATEGORIES: dict[str, tuple[int, str, str]] = {
    "new": (2, "To Do", "blue-gray"),
    "indeterminate": (4, "In Progress", "yellow"),
    "done": (3, "Done", "green"),
}

_SYSTEM_FIELDS: list[tuple[str, str, tuple[str, ...], str]] = [
    ("summary", "Summary", ("summary",), "string"),
    ("description", "Description", ("description",), "string"),
    ("status", "Status", ("status",), "status"),
    ("issuetype", "Issue Type", ("issuetype", "type"), "issuetype"),
    ("project", "Project", ("project",), "project"),
    ("priority", "Priority", ("priority",), "priority"),
    ("assignee", "Assignee", ("assignee",), "user"),
    ("reporter", "Reporter", ("reporter",), "user"),
    ("creator", "Creator", ("creator",), "user"),
    ("labels", "Labels", ("labels",), "array"),
    ("components", "Component/s", ("component",), "array"),
    ("created", "Created", ("created", "createdDate"), "datetime"),
    ("updated", "Updated", ("updated", "updatedDate"), "datetime"),
    ("resolution", "Resolution", ("resolution",), "resolution"),
    ("resolutiondate", "Resolved", ("resolved", "resolutiondate"), "datetime"),
    ("duedate", "Due Date", ("due", "duedate"), "date"),
    ("comment", "Comment", ("comment",), "comments-page"),
]
_CUSTOM_TYPES = {
    "number": "com.atlassian.jira.plugin.system.customfieldtypes:float",
    "string": "com.atlassian.jira.plugin.system.customfieldtypes:textfield",
    "option": "com.atlassian.jira.plugin.system.customfieldtypes:select",
    "date": "com.atlassian.jira.plugin.system.customfieldtypes:datepicker",
}
# Fields a client may write with PUT/POST /issue (the "screens" of this fake).
EDITABLE = frozenset(
    {
        "summary",
        "description",
        "issuetype",
        "priority",
        "assignee",
        "reporter",
        "labels",
        "components",
        "duedate",
    }
)


def system_field(fid: str, name: str, clauses: tuple[str, ...], kind: str) -> Field:
    schema: dict[str, Any] = {"type": kind, "system": fid}
    if fid == "labels":
        schema["items"] = "string"
    if fid == "components":
        schema["items"] = "component"
    return Field(fid, name, schema, clauses)


def custom_field(number: int, name: str, kind: str, options: tuple[str, ...] = ()) -> Field:
    if kind not in _CUSTOM_TYPES:
        raise ValueError(f"custom field type {kind!r}: use one of {sorted(_CUSTOM_TYPES)}")
    schema = {"type": kind, "custom": _CUSTOM_TYPES[kind], "customId": number}
    allowed = tuple(Named(str(number * 10 + i), value) for i, value in enumerate(options, start=1))
    return Field(f"customfield_{number}", name, schema, (f"cf[{number}]", name), custom=True, options=allowed)


@dataclass
class Catalog:
    """Everything about the instance except its issues; ``default()`` seeds a small instance."""

    mode: Mode
    time_zone: str = "UTC"
    users: list[User] = field(default_factory=list)
    projects: list[Project] = field(default_factory=list)
    issue_types: list[IssueType] = field(default_factory=list)
    statuses: list[Status] = field(default_factory=list)
    transitions: list[Transition] = field(default_factory=list)
    priorities: list[Named] = field(default_factory=list)
    resolutions: list[Named] = field(default_factory=list)
    fields: list[Field] = field(default_factory=list)

    @classmethod
    def default(cls, mode: Mode, time_zone: str = "UTC") -> Catalog:
        admin = User("admin", "admin@example.com", "Jira Admin", "admin", "cloud-api-token", "server-pat")
        jdoe = User("jdoe", "john.doe@example.com", "John Doe", "jdoe", "jdoe-api-token", "jdoe-pat")
        return cls(
            mode=mode,
            time_zone=time_zone,
            users=[admin, jdoe],
            projects=[
                Project(
                    "10000",
                    "OPS",
                    "Operations",
                    "admin",
                    [Named("10000", "Hardware"), Named("10001", "Software")],
                ),
                Project("10001", "HR", "Human Resources", "admin"),
            ],
            issue_types=[
                IssueType("10001", "Story"),
                IssueType("10002", "Task"),
                IssueType("10004", "Bug"),
                IssueType("10100", "Purchase Request"),
            ],
            statuses=[
                Status("10000", "To Do", "new"),
                Status("3", "In Progress", "indeterminate"),
                Status("10002", "In Review", "indeterminate"),
                Status("10001", "Done", "done"),
            ],
            transitions=[
                Transition("11", "Start Progress", "3", ("10000",)),
                Transition("21", "Send to Review", "10002", ("3",)),
                Transition("31", "Done", "10001", ("3", "10002")),
                Transition("41", "Reopen", "10000", ("10001",)),
                Transition("51", "Stop Progress", "10000", ("3",)),
            ],
            priorities=[
                Named("1", "Highest"),
                Named("2", "High"),
                Named("3", "Medium"),
                Named("4", "Low"),
                Named("5", "Lowest"),
            ],
            resolutions=[Named("10000", "Done"), Named("10001", "Won't Do")],
            fields=[system_field(*spec) for spec in _SYSTEM_FIELDS]
            + [
                custom_field(10010, "Amount", "number"),
                custom_field(10011, "Deal ID", "string"),
                custom_field(10012, "Cost Center", "option", ("Engineering", "Sales", "Finance")),
            ],
        )

    # Lookups: each returns None when nothing matches.

    def user(
        self, *, name: str | None = None, account_id: str | None = None, key: str | None = None
    ) -> User | None:
        for user in self.users:
            if (
                (name is not None and user.name.lower() == name.lower())
                or (account_id is not None and user.account_id == account_id)
                or (key is not None and user.key == key)
            ):
                return user
        return None

    def project(self, ref: str) -> Project | None:
        return next((p for p in self.projects if ref in (p.id, p.key) or ref.lower() == p.name.lower()), None)

    def issue_type(self, ref: str) -> IssueType | None:
        return next((t for t in self.issue_types if ref == t.id or ref.lower() == t.name.lower()), None)

    def status(self, ref: str) -> Status | None:
        return next((s for s in self.statuses if ref == s.id or ref.lower() == s.name.lower()), None)

    def priority(self, ref: str) -> Named | None:
        return next((p for p in self.priorities if ref == p.id or ref.lower() == p.name.lower()), None)

    def resolution(self, ref: str) -> Named | None:
        return next((r for r in self.resolutions if ref == r.id or ref.lower() == r.name.lower()), None)

    def find_field(self, ref: str) -> Field | None:
        """A field by id (``customfield_10010``) or by any of its JQL clause names."""
        lowered = ref.lower()
        for f in self.fields:
            if f.id == ref or lowered in (c.lower() for c in f.clause_names):
                return f
        return None

    def custom_fields(self) -> list[Field]:
        return [f for f in self.fields if f.custom]

    def add_custom_field(self, name: str, kind: str, options: tuple[str, ...] = ()) -> Field:
        number = (
            max((int(f.id.removeprefix("customfield_")) for f in self.custom_fields()), default=10009) + 1
        )
        created = custom_field(number, name, kind, options)
        self.fields.append(created)
        return created

    def available_transitions(self, status_id: str) -> list[Transition]:
        return [t for t in self.transitions if not t.sources or status_id in t.sources]

    def initial_status(self) -> Status:
        return self.statuses[0]
