"""The jira connector against the fake Jira over HTTP, in Server/DC and Cloud modes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from b24kit.errors import ConnectorError
from b24kit.sync.connectors.jira import JiraConnector, JiraOptions
from b24kit.sync.records import Change, Since
from b24kit.testing.connectors import connector_contract
from tests.doubles.jira_fake import JiraFake

from .conftest import connect, jira_options

SAMPLE = {"summary": "Contract issue", "labels": ["contract"]}
TestServerContract = connector_contract(
    JiraConnector,
    options=lambda jira_server: jira_options(jira_server("server")),
    entity="issue",
    sample=SAMPLE,
)
TestCloudContract = connector_contract(
    JiraConnector,
    options=lambda jira_server: jira_options(jira_server("cloud")),
    entity="issue",
    sample=SAMPLE,
)
TestServerContract.__name__ = TestServerContract.__qualname__ = "TestServerContract"
TestCloudContract.__name__ = TestCloudContract.__qualname__ = "TestCloudContract"


def seed(fake: JiraFake, count: int, **fields: Any) -> list[str]:
    base = {"project": {"key": "OPS"}, "issuetype": {"name": "Purchase Request"}}
    return [fake.create_issue({**base, "summary": f"Issue {i}", **fields}) for i in range(count)]


def test_searches_page_by_start_at_on_server_and_by_token_on_cloud(fake):
    seed(fake, 5)
    connector = connect(fake, page_size=2)
    fake.reset_requests()
    assert [r.ref for r in connector.read("issue")] == [f"OPS-{i}" for i in range(1, 6)]
    paths = set(fake.requests)
    if fake.mode == "cloud":
        assert paths >= {"GET /rest/api/2/search/jql"} and "GET /rest/api/2/search" not in paths
    else:
        assert "GET /rest/api/2/search" in paths and "GET /rest/api/2/search/jql" not in paths


def test_the_cursor_is_read_in_the_accounts_time_zone(fake):
    """The account lives in New York: a cursor rendered in UTC would skip five hours of changes."""
    fake.set_clock("2024-05-01T10:00:30+00:00")
    (key,) = seed(fake, 1)
    fake.set_clock("2024-05-01T12:00:00+00:00")
    connector = connect(fake)
    found = list(connector.read("issue", since=Since("updated", datetime(2024, 5, 1, 9, 59, tzinfo=UTC))))
    assert [r.ref for r in found] == [key]
    assert found[0].modified == datetime(2024, 5, 1, 10, 0, 30, tzinfo=UTC)
    assert found[0].fields["updated"] == "2024-05-01T06:00:30.000-0400"
    later = Since("updated", datetime(2024, 5, 1, 10, 1, tzinfo=UTC))
    assert list(connector.read("issue", since=later)) == []


def test_a_cursor_inside_a_minute_still_finds_that_minutes_changes(fake):
    """JQL dates stop at minutes: the connector rounds down, the engine's snapshot drops what it saw."""
    fake.set_clock("2024-05-01T10:00:50+00:00")
    (key,) = seed(fake, 1)
    connector = connect(fake)
    since = Since("updated", datetime(2024, 5, 1, 10, 0, 55, tzinfo=UTC))
    assert [r.ref for r in connector.read("issue", since=since)] == [key]


def test_an_issue_edited_during_a_read_never_hides_another(fake):
    """Offset paging loses an issue when an earlier one moves to the end; the keyed stream does not."""
    fake.set_clock("2024-05-01T10:00:00+00:00")
    keys = []
    for _ in range(7):
        keys += seed(fake, 1)
        fake.advance_clock(60)
    connector = connect(fake, page_size=2)
    stream = connector.read("issue")
    first = [next(stream), next(stream)]
    fake.state.edit(fake.admin, "2", first[0].ref, {"fields": {"summary": "edited mid-read"}})
    rest = list(stream)
    seen = [r.ref for r in first + rest]
    assert set(seen) == set(keys)
    assert seen.count(first[0].ref) == 2, "the edited issue comes again, as its newer version"
    assert len(seen) == 8


def test_more_issues_in_one_minute_than_a_page_holds(fake):
    """Seven issues in one minute, pages of two, and the reader editing what it read (as the engine
    does while it consumes the stream): each issue is read, none is skipped."""
    fake.set_clock("2024-05-01T10:00:00+00:00")
    keys = seed(fake, 7)
    connector = connect(fake, page_size=2)
    since = Since("updated", datetime(2024, 5, 1, 10, 0, tzinfo=UTC))
    seen = []
    for record in connector.read("issue", since=since):
        seen.append(record.ref)
        if len(seen) <= 4:
            fake.state.edit(fake.admin, "2", record.ref, {"fields": {"summary": f"{record.ref} read"}})
    assert set(seen) == set(keys), "every issue is read; some edited ones again, as their newer versions"
    again = list(connector.read("issue", since=since))
    assert sum(r.fields["summary"].endswith(" read") for r in again) == 4
    moments = [r.modified for r in again if r.modified is not None]
    assert moments == sorted(moments), "oldest change first"


def test_issues_read_as_flat_fields(fake):
    fake.add_user("ann", email="ann@example.com", email_visible=False)
    ann = fake.user("ann")
    who = {"accountId": ann.account_id} if fake.mode == "cloud" else {"name": "ann"}
    (key,) = seed(
        fake,
        1,
        description="First line\nsecond line\n\nNext paragraph",
        assignee=who,
        labels=["urgent"],
        components=[{"name": "Hardware"}],
        duedate="2024-06-01",
        priority={"name": "High"},
        customfield_10010=1250.5,
        customfield_10012={"value": "Sales"},
    )
    ident = ann.account_id if fake.mode == "cloud" else "ann"
    connector = connect(fake, users={ident: "Ann.Lee@Company.ru"})
    (record,) = connector.read("issue")
    fields = record.fields
    assert record.ref == key and record.id == fields["id"]
    assert {k: fields[k] for k in ("project", "issuetype", "status", "status_category", "priority")} == {
        "project": "OPS",
        "issuetype": "Purchase Request",
        "status": "To Do",
        "status_category": "new",
        "priority": "High",
    }
    assert fields["description"] == "First line\nsecond line\n\nNext paragraph"
    assert fields["assignee"] == "ann.lee@company.ru", "the exceptions table names the hidden e-mail"
    assert (fields["labels"], fields["components"], fields["duedate"]) == (
        ["urgent"],
        ["Hardware"],
        "2024-06-01",
    )
    assert (fields["customfield_10010"], fields["customfield_10012"]) == (1250.5, "Sales")
    assert fields["reporter"] == "admin@example.com"


def test_rich_text_is_adf_on_cloud_with_api_version_3(jira_server):
    fake = jira_server("cloud")
    connector = connect(fake, api_version="3")
    text = "Buy 3 laptops\nfor the new team\n\nBudget approved"
    (made,) = connector.write("issue", [Change("a", "create", None, {"summary": "ADF", "description": text})])
    stored = fake.issue(fake.state.find(str(made.id)).key).values["description"]
    assert stored["type"] == "doc" and len(stored["content"]) == 2
    assert stored["content"][0]["content"][1] == {"type": "hardBreak"}
    (record,) = connector.fetch("issue", [str(made.id)])
    assert record.fields["description"] == text


def test_writes_create_in_bulk_and_resolve_users_by_e_mail(fake):
    connector = connect(fake)
    fields = {
        "summary": "Monitors",
        "assignee": "John.Doe@example.com",
        "customfield_10010": "1 200,50",
        "customfield_10012": "Finance",
        "components": "Hardware, Software",
        "duedate": "2024-07-01T03:00:00+03:00",
    }
    fake.reset_requests()
    made = connector.write("issue", [Change(str(i), "create", None, fields) for i in range(3)])
    assert all(r.ok for r in made)
    assert fake.requests["POST /rest/api/2/issue/bulk"] == 1 and "POST /rest/api/2/issue" not in fake.requests
    stored = fake.state.find(str(made[0].id)).values
    assert stored["assignee"] == "jdoe" and stored["customfield_10010"] == 1200.5
    assert stored["duedate"] == "2024-07-01" and stored["components"] == ["10000", "10001"]
    search = "GET /rest/api/2/user/search"
    assert fake.requests[search] == 1, "one user search, cached for the run"


def test_bad_values_fail_their_record_only(fake):
    connector = connect(fake)
    results = connector.write(
        "issue",
        [
            Change("bad-user", "create", None, {"summary": "A", "assignee": "nobody@nowhere.org"}),
            Change("bad-number", "create", None, {"summary": "B", "customfield_10010": "lots"}),
            Change("read-only", "create", None, {"summary": "C", "key": "OPS-99"}),
            Change("bad-label", "create", None, {"summary": "D", "labels": ["two words"]}),
            Change("refused", "create", None, {"summary": "E", "customfield_10012": "Marketing"}),
            Change("good", "create", None, {"summary": "F"}),
        ],
    )
    errors = {r.key: r.error for r in results}
    assert (
        errors["bad-user"]
        == "assignee: no Jira user has the e-mail nobody@nowhere.org (add it to options.users)"
    )
    assert errors["bad-number"] == "customfield_10010: 'lots' is not a number"
    assert errors["read-only"] == "key: is read-only in Jira"
    assert errors["bad-label"] == "labels: label 'two words' contains spaces, which Jira does not allow"
    assert errors["refused"] == "customfield_10012: Option value 'Marketing' is not valid"
    assert errors["good"] is None and results[-1].id


def test_statuses_are_reached_through_transitions(fake):
    connector = connect(fake)
    (issue_id,) = [r.id for r in connector.write("issue", [Change("a", "create", None, {"summary": "A"})])]
    assert issue_id is not None
    (direct,) = connector.write("issue", [Change("u", "update", issue_id, {"status": "In Progress"})])
    assert direct.ok and fake.state.find(issue_id).values["status"] == "3"
    (routed,) = connector.write("issue", [Change("u", "update", issue_id, {"status": "to do"})])
    assert routed.ok
    (two_steps,) = connector.write(
        "issue", [Change("u", "update", issue_id, {"status": "Done", "summary": "B"})]
    )
    assert two_steps.ok
    assert [r.fields["status"] for r in connector.fetch("issue", [issue_id])] == ["Done"]
    assert fake.state.find(issue_id).values["summary"] == "B"


def test_an_impossible_transition_is_a_record_error(fake):
    connector = connect(fake, statuses={})
    made = connector.write(
        "issue",
        [
            Change("new-done", "create", None, {"summary": "A", "status": "Done"}),
            Change("new-todo", "create", None, {"summary": "B", "status": "To Do"}),
        ],
    )
    by_key = {r.key: r for r in made}
    assert by_key["new-done"].id is not None, "the issue was made; only its status failed"
    assert by_key["new-done"].error == (
        "no transition from its current status reaches status 'Done' "
        "(available: Start Progress -> In Progress); add a route to options.statuses['Done']"
    )
    assert by_key["new-todo"].ok
    (update,) = connector.write("issue", [Change("u", "update", by_key["new-todo"].id, {"status": "Closed"})])
    assert not update.ok and "reaches status 'Closed'" in str(update.error)


def test_lookups_find_keys_and_custom_values_and_skip_missing_keys(fake):
    keys = seed(fake, 2, customfield_10011="deal-17")
    connector = connect(fake)
    assert sorted(r.ref for r in connector.lookup("issue", "key", [keys[0].lower(), "OPS-404"])) == [keys[0]]
    found = connector.lookup("issue", "customfield_10011", ["deal-17"])
    assert sorted(r.ref for r in found) == sorted(keys)
    assert connector.fetch("issue", ["999999", "not-a-number"]) == []


def test_projects_are_an_entity_too(fake):
    connector = connect(fake, projects=[])
    projects = {r.fields["key"]: r for r in connector.read("project")}
    assert set(projects) == {"OPS", "HR"}
    assert projects["OPS"].fields["lead"] == "admin@example.com"
    assert "Purchase Request" in projects["OPS"].fields["issue_types"]
    (refused,) = connector.write("project", [Change("p", "create", None, {"name": "X"})])
    assert refused.error == "Jira projects are read-only for the sync"


def test_every_auth_kind_and_a_clear_error_without_the_secret(jira_server):
    server, cloud = jira_server("server"), jira_server("cloud")
    pat = connect(server)
    basic = JiraConnector(JiraOptions(url=server.url, user="admin", token="admin", projects=["OPS"]))
    token = connect(cloud)
    assert [c.api.cloud for c in (pat, basic, token)] == [False, False, True]
    assert len(list(basic.read("issue"))) == len(list(pat.read("issue"))) == 0
    with pytest.raises(ConnectorError) as caught:
        JiraConnector(JiraOptions(url=cloud.url, user=cloud.admin.email, token="wrong-secret-123"))
    assert "Jira answered 401" in str(caught.value) and "wrong-secret-123" not in str(caught.value)
    assert "wrong-secret-123" not in repr(JiraOptions(url=cloud.url, token="wrong-secret-123"))


def test_unknown_entity_and_unreachable_jira():
    from b24kit.errors import ConfigError

    connector_options = JiraOptions(url="http://127.0.0.1:9", token="t", timeout=2, retries=0)
    with pytest.raises(ConnectorError, match=r"cannot reach Jira at http://127\.0\.0\.1:9"):
        JiraConnector(connector_options)
    from b24kit.sync.connectors.jira_api import check_entity

    with pytest.raises(ConfigError, match="does not handle entity 'sprint'"):
        check_entity("sprint")
    with pytest.raises(ValueError, match="url must start with http"):
        JiraOptions(url="jira.example.com", token="t")


def test_incremental_reads_return_nothing_from_the_future(fake):
    seed(fake, 2)
    connector = connect(fake)
    future = Since("updated", datetime.now(UTC) + timedelta(days=1))
    assert list(connector.read("issue", since=future)) == []


def test_profile_validation_checks_fields_against_the_live_jira(fake, tmp_path):
    """``profile validate --connect``: a misspelt Jira field is named, with a suggestion."""
    from b24kit.sync.service import open_session

    options = jira_options(fake)
    text = f"""
version: 1
name: check
source:
  connector: jira
  entity: issue
  options: {options!r}
target: {{connector: memory, entity: deal, options: {{store: check}}}}
direction: two_way
fields:
  TITLE: sumary
  AMOUNT: customfield_10010
  CENTER: customfield_19999
"""
    path = tmp_path / "check.yaml"
    path.write_text(text.replace("'", '"'), encoding="utf-8")
    with open_session(path, env={}, state_url="sqlite://") as session:
        issues = session.preflight()
    found = {(str(i.field), i.message, i.suggestion) for i in issues}
    assert ("fields.TITLE.from", "source 'issue' has no field 'sumary'", "did you mean 'summary'?") in found
    assert any(i.message == "source 'issue' has no field 'customfield_19999'" for i in issues)
    assert len(issues) == 2
