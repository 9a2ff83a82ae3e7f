"""Writing issues: bulk creates, field edits, deletes, and statuses reached through workflow transitions."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from b24kit.errors import ConnectorError
from b24kit.sync.records import Change, WriteResult

from .jira_api import JiraApi, JiraFailure, safe_error
from .jira_issues import IssueCodec

MAX_STEPS = 6
_FATAL = {401, 403}


def _fatal(exc: JiraFailure) -> bool:
    """A failure of the whole system (down, refusing us), not of one record: the run must stop."""
    return exc.status is None or exc.status in _FATAL or exc.status >= 500


def _errors_text(errors: Any) -> str:
    if isinstance(errors, Mapping):
        messages = [f"{k}: {v}" for k, v in (errors.get("errors") or {}).items()]
        messages += [str(m) for m in errors.get("errorMessages") or []]
        if not messages and not ("errors" in errors or "errorMessages" in errors):
            messages = [f"{k}: {v}" for k, v in errors.items()]
        return "; ".join(messages) or "Jira refused the issue"
    return str(errors)


class IssueWriter:
    """Applies one batch of changes; each change gets its own result, failures included."""

    def __init__(self, api: JiraApi, codec: IssueCodec) -> None:
        self.api = api
        self.codec = codec
        self.initial_status: dict[tuple[str, str], str] = {}

    @property
    def _params(self) -> dict[str, str]:
        return {} if self.api.options.notify else {"notifyUsers": "false"}

    def write(self, changes: Sequence[Change]) -> list[WriteResult]:
        results: dict[str, WriteResult] = {}
        creates = [c for c in changes if c.op == "create"]
        if creates:
            results.update(self._create(creates))
        for change in changes:
            if change.op == "update":
                results[change.key] = self._update(change)
            elif change.op == "delete":
                results[change.key] = self._delete(change)
        return [results[c.key] for c in changes]

    # creates ---------------------------------------------------------------------------------

    def _create(self, changes: Sequence[Change]) -> dict[str, WriteResult]:
        opts = self.api.options
        if not opts.projects or not opts.issue_types:
            message = "options.projects and options.issue_types must name where new issues go"
            return {c.key: WriteResult(c.key, error=message) for c in changes}
        results: dict[str, WriteResult] = {}
        ready: list[tuple[Change, dict[str, Any], str | None]] = []
        for change in changes:
            try:
                fields, status = self.codec.payload(change.fields)
            except ValueError as exc:
                results[change.key] = WriteResult(change.key, error=str(exc))
                continue
            where = {"project": {"key": opts.projects[0]}, "issuetype": {"name": opts.issue_types[0]}}
            fields = where | fields
            ready.append((change, fields, status))
        if not ready:
            return results
        made = self._bulk([fields for _, fields, _ in ready])
        moves: list[tuple[Change, str, str]] = []
        for (change, _, status), (issue_id, error) in zip(ready, made, strict=True):
            if error is not None or issue_id is None:
                results[change.key] = WriteResult(change.key, error=error or "Jira created nothing")
            elif status is None:
                results[change.key] = WriteResult(change.key, id=issue_id)
            else:
                moves.append((change, issue_id, status))
        results.update(self._settle_statuses(moves))
        return results

    def _bulk(self, payloads: list[dict[str, Any]]) -> list[tuple[str | None, str | None]]:
        from jira import JIRAError
        from requests import RequestException

        try:
            created = self.api.client.create_issues(payloads, prefetch=False)
        except JIRAError as exc:
            raise ConnectorError(f"Jira bulk create failed: {safe_error(exc)}") from None
        except RequestException as exc:
            raise ConnectorError(f"Jira bulk create failed: {type(exc).__name__}") from None
        out: list[tuple[str | None, str | None]] = []
        for item in created:
            if item.get("status") == "Success" and item.get("issue") is not None:
                out.append((str(item["issue"].raw["id"]), None))
            else:
                out.append((None, _errors_text(item.get("error"))))
        return out

    def _settle_statuses(self, moves: list[tuple[Change, str, str]]) -> dict[str, WriteResult]:
        """New issues start in their workflow's initial status; move the others where they belong."""
        results: dict[str, WriteResult] = {}
        if not moves:
            return results
        opts = self.api.options
        kind = (opts.projects[0].upper(), opts.issue_types[0].casefold())
        current: dict[str, str] = {}
        known = self.initial_status.get(kind)
        if known is None or any(status.casefold() != known.casefold() for _, _, status in moves):
            ids = ", ".join(issue_id for _, issue_id, _ in moves)
            try:
                found = self.api.search_all(f"id in ({ids})", ["status"])
            except ConnectorError:
                found = []
            current = {str(r["id"]): _status_of(r) for r in found}
            if known is None and current:
                self.initial_status[kind] = next(iter(current.values()))
        for change, issue_id, status in moves:
            now = current.get(issue_id, known or "")
            error = None if now.casefold() == status.casefold() else self.move(issue_id, status)
            results[change.key] = WriteResult(change.key, id=issue_id, error=error)
        return results

    # updates and deletes ---------------------------------------------------------------------

    def _update(self, change: Change) -> WriteResult:
        if not change.id:
            return WriteResult(change.key, error="an update needs the issue id")
        try:
            fields, status = self.codec.payload(change.fields)
        except ValueError as exc:
            return WriteResult(change.key, error=str(exc))
        if fields:
            try:
                self.api.send("PUT", f"issue/{change.id}", {"fields": fields}, self._params)
            except JiraFailure as exc:
                if _fatal(exc):
                    raise self.api.failure("edit", exc) from None
                return WriteResult(change.key, error=str(exc))
        error = self.move(change.id, status) if status else None
        return WriteResult(change.key, id=change.id, error=error)

    def _delete(self, change: Change) -> WriteResult:
        try:
            self.api.send("DELETE", f"issue/{change.id}")
        except JiraFailure as exc:
            if _fatal(exc):
                raise self.api.failure("delete", exc) from None
            return WriteResult(change.key, error=str(exc))
        return WriteResult(change.key, id=change.id)

    # transitions -----------------------------------------------------------------------------

    def move(self, issue_id: str, wanted: str) -> str | None:
        """Bring the issue to status ``wanted``; ``None`` when done, else why it cannot be done.

        A transition that leads straight to ``wanted`` is taken; otherwise the route in
        ``options.statuses[wanted]`` names transitions to take on the way, step by step.
        """
        statuses = self.api.options.statuses
        route = next((r for s, r in statuses.items() if s.casefold() == wanted.casefold()), [])
        taken: set[str] = set()
        here = "its current status"
        for _step in range(MAX_STEPS):
            try:
                available = self.api.get(f"issue/{issue_id}/transitions").get("transitions") or []
            except JiraFailure as exc:
                if _fatal(exc):
                    raise self.api.failure("reading transitions", exc) from None
                return str(exc)
            direct = [t for t in available if _to(t).casefold() == wanted.casefold()]
            preferred = [t for t in direct if _named(t, route)] or direct
            step = (
                preferred[0]
                if preferred
                else next((t for t in available if _named(t, route) and str(t.get("id")) not in taken), None)
            )
            if step is None:
                names = ", ".join(f"{t.get('name')} -> {_to(t)}" for t in available)
                return (
                    f"no transition from {here} reaches status {wanted!r} (available: {names or 'none'}); "
                    f"add a route to options.statuses[{wanted!r}]"
                )
            try:
                body = {"transition": {"id": str(step["id"])}}
                self.api.send("POST", f"issue/{issue_id}/transitions", body)
            except JiraFailure as exc:
                if _fatal(exc):
                    raise self.api.failure("transition", exc) from None
                return f"transition {step.get('name')!r} failed: {exc}"
            taken.add(str(step.get("id")))
            here = repr(_to(step))
            if _to(step).casefold() == wanted.casefold():
                return None
        return f"status {wanted!r} not reached after {MAX_STEPS} transitions"


def _named(transition: Mapping[str, Any], route: Sequence[str]) -> bool:
    names = {str(transition.get("id", "")), str(transition.get("name", "")).casefold()}
    return any(step in names or step.casefold() in names for step in route)


def _to(transition: Mapping[str, Any]) -> str:
    """The status a transition leads to."""
    return str((transition.get("to") or {}).get("name", ""))


def _status_of(issue: Mapping[str, Any]) -> str:
    return str(((issue.get("fields") or {}).get("status") or {}).get("name", ""))
