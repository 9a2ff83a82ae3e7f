"""The Jira fake serves the real ``jira`` library in Server/DC and Cloud modes, over real sockets."""

from __future__ import annotations

import hashlib
import hmac
import subprocess
import sys
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from jira import JIRA, JIRAError

from tests.doubles.jira_fake import JiraFake, WebhookReceiver
from tests.doubles.jira_fake.jql import parse

pytest_plugins = ["tests.doubles.jira_fake.fixtures"]

MODES = ["server", "cloud"]


@pytest.fixture(params=MODES)
def fake(request, jira_server) -> JiraFake:
    started: JiraFake = jira_server(request.param)
    return started


def errors_of(error: JIRAError) -> dict[str, Any]:
    """The JSON body of the error answer the library raised."""
    assert error.response is not None
    body: dict[str, Any] = error.response.json()
    return body


def user_ref(fake: JiraFake, name: str) -> dict[str, str]:
    user = fake.user(name)
    return {"accountId": user.account_id} if fake.mode == "cloud" else {"name": user.name}


def new_issue(jira: JIRA, summary: str = "Laptop", project: str = "OPS", kind: str = "Task", **fields):
    return jira.create_issue(project={"key": project}, summary=summary, issuetype={"name": kind}, **fields)


# Connecting and authenticating


def test_server_info_and_myself_per_mode(fake):
    jira = fake.client()
    info = jira.server_info()
    me = jira.myself()
    assert info["deploymentType"] == ("Cloud" if fake.mode == "cloud" else "Server")
    assert info["versionNumbers"] == ([1001, 0, 0] if fake.mode == "cloud" else [9, 12, 2])
    if fake.mode == "cloud":
        assert me["accountId"] == fake.admin.account_id and "name" not in me
    else:
        assert me["name"] == "admin" and "accountId" not in me
    assert me["timeZone"] == "UTC"


def test_fields_projects_and_issue_types(fake):
    jira = fake.client()
    fields = {f["id"]: f for f in jira.fields()}
    assert fields["customfield_10010"]["clauseNames"] == ["cf[10010]", "Amount"]
    assert fields["customfield_10010"]["schema"]["type"] == "number"
    assert fields["issuekey"]["clauseNames"] == ["id", "issue", "issuekey", "key"]
    assert [p.key for p in jira.projects()] == ["OPS", "HR"]
    assert "Purchase Request" in [t.name for t in jira.project("OPS").issueTypes]
    assert [t.name for t in jira.issue_types()] == ["Story", "Task", "Bug", "Purchase Request"]


def test_wrong_credentials_are_401(fake):
    good = fake.auth()["basic_auth"]
    with pytest.raises(JIRAError) as caught:
        JIRA(server=fake.url, basic_auth=(good[0], "wrong"))
    assert caught.value.status_code == 401
    response = httpx.get(f"{fake.url}/rest/api/2/myself")
    assert response.status_code == 401
    assert response.json()["errorMessages"] == [
        "You are not authenticated. Authentication required to perform this operation."
    ]


def test_server_takes_password_and_personal_access_token(jira_server):
    fake = jira_server("server")
    assert fake.client(auth="token").myself()["name"] == "admin"
    assert fake.client(fake.user("jdoe")).myself()["name"] == "jdoe"
    with pytest.raises(JIRAError) as caught:  # an e-mail is not a Server login
        JIRA(server=fake.url, basic_auth=(fake.admin.email, fake.admin.api_token))
    assert caught.value.status_code == 401


def test_cloud_takes_email_and_api_token_only(jira_server):
    fake = jira_server("cloud")
    assert fake.client().myself()["emailAddress"] == "admin@example.com"
    for kwargs in ({"basic_auth": ("admin", fake.admin.password)}, {"token_auth": fake.admin.pat}):
        with pytest.raises(JIRAError) as caught:
            JIRA(server=fake.url, **kwargs)
        assert caught.value.status_code == 401


# Issues


def test_create_get_and_update_issue(fake):
    jira = fake.client()
    issue = new_issue(
        jira,
        description="First line\nsecond line",
        labels=["hw"],
        assignee=user_ref(fake, "jdoe"),
        priority={"name": "High"},
        components=[{"name": "Hardware"}],
        customfield_10010=1250.5,
        customfield_10011="D-77",
        customfield_10012={"value": "Sales"},
    )
    assert issue.key == "OPS-1"
    assert issue.self == f"{fake.url}/rest/api/2/issue/{issue.id}"
    f = issue.fields
    assert (f.summary, f.status.name, f.issuetype.name, f.priority.name) == (
        "Laptop",
        "To Do",
        "Task",
        "High",
    )
    assert f.description == "First line\nsecond line"
    assert f.assignee.displayName == "John Doe" and f.reporter.displayName == "Jira Admin"
    assert (f.customfield_10010, f.customfield_10011, f.customfield_10012.value) == (1250.5, "D-77", "Sales")
    assert [c.name for c in f.components] == ["Hardware"]

    issue.update(
        fields={"summary": "Laptop, 16 GB", "customfield_10010": 1300},
        update={"labels": [{"add": "urgent"}, {"remove": "hw"}]},
        notify=False,
    )
    assert issue.fields.summary == "Laptop, 16 GB" and issue.fields.labels == ["urgent"]
    stored = fake.issue("OPS-1").values
    assert (stored["summary"], stored["customfield_10010"], stored["labels"]) == (
        "Laptop, 16 GB",
        1300,
        ["urgent"],
    )
    history = jira.issue("OPS-1", expand="changelog").changelog.histories[-1]
    items = {i.field: (i.fromString, i.toString) for i in history.items}
    assert items == {
        "summary": ("Laptop", "Laptop, 16 GB"),
        "labels": ("hw", "urgent"),
        "Amount": ("1250.5", "1300"),
    }


def test_create_by_project_key_and_type_name_strings(fake):
    issue = fake.client().create_issue(fields={"project": "HR", "summary": "Hire", "issuetype": "Story"})
    assert (issue.key, issue.fields.project.key, issue.fields.issuetype.name) == ("HR-1", "HR", "Story")


def test_bad_fields_are_400_with_errors_per_field(fake):
    jira = fake.client()
    with pytest.raises(JIRAError) as caught:
        jira.create_issue(project={"key": "OPS"}, issuetype={"name": "Task"})
    assert caught.value.status_code == 400
    assert errors_of(caught.value)["errors"] == {"summary": "You must specify a summary of the issue."}
    response = httpx.post(
        f"{fake.url}/rest/api/2/issue",
        auth=fake.auth()["basic_auth"],
        json={
            "fields": {
                "project": {"key": "OPS"},
                "issuetype": {"name": "Task"},
                "summary": "x",
                "status": {"name": "Done"},
                "customfield_99999": 1,
                "priority": {"name": "Blocker"},
                "labels": ["two words"],
                "customfield_10010": "many",
            }
        },
    )
    assert response.status_code == 400
    assert response.json() == {
        "errorMessages": [],
        "errors": {
            "status": "Field 'status' cannot be set. It is not on the appropriate screen, or unknown.",
            "customfield_99999": "Field 'customfield_99999' cannot be set. "
            "It is not on the appropriate screen, or unknown.",
            "priority": "The priority selected is invalid.",
            "labels": "The label 'two words' contains spaces which is invalid.",
            "customfield_10010": "Operation value must be a number",
        },
    }
    assert fake.state.issues == {}


def test_bulk_create_reports_each_failure(fake):
    jira = fake.client()
    good = {"project": {"key": "OPS"}, "summary": "one", "issuetype": {"name": "Task"}}
    results = jira.create_issues([good, {"project": {"key": "OPS"}, "issuetype": {"name": "Task"}}, good])
    assert [r["status"] for r in results] == ["Success", "Error", "Success"]
    assert results[1]["error"] == {"summary": "You must specify a summary of the issue."}
    assert [r["issue"].key for r in results if r["issue"]] == ["OPS-1", "OPS-2"]


def test_cloud_pages_the_changelog_server_expands_it(jira_server):
    cloud, server = jira_server("cloud"), jira_server("server")
    for fake in (cloud, server):
        issue = new_issue(fake.client())
        issue.update(summary="two")
        issue.update(summary="three")
    auth = cloud.auth()["basic_auth"]
    url = f"{cloud.url}/rest/api/3/issue/OPS-1/changelog"
    page = httpx.get(url, params={"maxResults": 1}, auth=auth).json()
    assert (page["total"], page["isLast"], page["values"][0]["items"][0]["toString"]) == (2, False, "two")
    missing = httpx.get(f"{server.url}/rest/api/2/issue/OPS-1/changelog", auth=server.auth()["basic_auth"])
    assert missing.status_code == 404
    histories = server.client().issue("OPS-1", expand="changelog").changelog.histories
    assert [h.items[0].toString for h in histories] == ["two", "three"]


def test_users_are_referenced_by_name_on_server_and_account_id_on_cloud(fake):
    jira = fake.client()
    other = {"name": "jdoe"} if fake.mode == "cloud" else {"accountId": fake.user("jdoe").account_id}
    with pytest.raises(JIRAError) as caught:
        new_issue(jira, assignee=other)
    assert caught.value.status_code == 400 and "assignee" in errors_of(caught.value)["errors"]
    if fake.mode == "server":
        with pytest.raises(JIRAError, match=r"User 'ghost' does not exist\."):
            new_issue(jira, assignee={"name": "ghost"})
    issue = new_issue(jira)
    jira.assign_issue(issue, "john.doe@example.com" if fake.mode == "cloud" else "jdoe")  # a search term
    assert fake.issue(issue.key).values["assignee"] == "jdoe"


def test_user_lookup_per_mode(fake):
    jira = fake.client()
    jdoe = fake.user("jdoe")
    if fake.mode == "server":
        assert jira.user("jdoe").emailAddress == jdoe.email
        assert [u.name for u in jira.search_users(user="john")] == ["jdoe"]
        return
    assert jira.user(jdoe.account_id).displayName == "John Doe"
    assert [u.accountId for u in jira.search_users(query="john.doe@")] == [jdoe.account_id]
    response = httpx.get(
        f"{fake.url}/rest/api/2/user", params={"username": "jdoe"}, auth=fake.auth()["basic_auth"]
    )
    assert response.status_code == 400
    assert response.json()["errorMessages"] == [
        "The query parameter 'username' is not supported in GDPR strict mode."
    ]
    hidden = fake.add_user("mira", email_visible=False)
    assert "emailAddress" not in jira.user(hidden.account_id).raw


def test_cloud_v3_speaks_adf_and_v2_speaks_wiki_text(jira_server):
    fake = jira_server("cloud")
    v3, v2 = fake.client(rest_api_version="3"), fake.client()
    doc = {
        "type": "doc",
        "version": 1,
        "content": [
            {
                "type": "paragraph",
                "content": [{"type": "text", "text": "Buy ", "marks": [{"type": "strong"}]}],
            },
            {"type": "paragraph", "content": [{"type": "text", "text": "two"}]},
        ],
    }
    issue = new_issue(v3, description=doc)
    assert issue.self.endswith(f"/rest/api/3/issue/{issue.id}")
    assert v3.issue(issue.key).raw["fields"]["description"] == doc
    assert v2.issue(issue.key).fields.description == "*Buy *\n\ntwo"
    v2.add_comment(issue.key, "plain\ntext")
    assert v3.comments(issue.key)[0].raw["body"]["content"][0]["content"] == [
        {"type": "text", "text": "plain"},
        {"type": "hardBreak"},
        {"type": "text", "text": "text"},
    ]
    with pytest.raises(JIRAError) as caught:
        new_issue(v3, description="not a document")
    assert errors_of(caught.value)["errors"] == {
        "description": "Operation value must be an Atlassian Document (see the Atlassian Document Format)"
    }


def test_server_has_no_v3_and_no_search_jql(jira_server):
    fake = jira_server("server")
    auth = fake.auth()["basic_auth"]
    assert httpx.get(f"{fake.url}/rest/api/3/myself", auth=auth).status_code == 404
    assert (
        httpx.get(f"{fake.url}/rest/api/2/search/jql", params={"jql": "project = OPS"}, auth=auth).status_code
        == 404
    )


# Search and JQL


def test_server_search_pages_with_start_at_and_total(jira_server):
    fake = jira_server("server")
    jira = fake.client()
    for n in range(8):
        new_issue(jira, f"Issue {n}")
    first = jira.search_issues("project = OPS ORDER BY key ASC", maxResults=3)
    second = jira.search_issues("project = OPS ORDER BY key ASC", startAt=3, maxResults=3)
    assert [i.key for i in first] == ["OPS-1", "OPS-2", "OPS-3"] and first.total == 8
    assert [i.key for i in second] == ["OPS-4", "OPS-5", "OPS-6"]
    everything = jira.search_issues("project = OPS ORDER BY key DESC", maxResults=False)
    assert [i.key for i in everything] == [f"OPS-{n}" for n in range(8, 0, -1)]
    raw = jira.search_issues("project = OPS", startAt=6, maxResults=50, json_result=True)
    assert (raw["startAt"], raw["total"], len(raw["issues"])) == (6, 8, 2)


def test_cloud_search_pages_with_next_page_token(jira_server):
    fake = jira_server("cloud")
    jira = fake.client()
    for n in range(8):
        new_issue(jira, f"Issue {n}")
    jql = "project = OPS ORDER BY key ASC"
    keys, token, pages = [], None, 0
    while True:
        page = jira.enhanced_search_issues(jql, nextPageToken=token, maxResults=3)
        keys += [i.key for i in page]
        pages += 1
        token = page.nextPageToken
        if token is None:
            break
    assert (keys, pages) == ([f"OPS-{n}" for n in range(1, 9)], 3)
    assert len(jira.enhanced_search_issues(jql, maxResults=0)) == 8
    with pytest.raises(JIRAError, match="deprecated in Jira Cloud"):
        jira.search_issues(jql, startAt=3)
    auth = fake.auth()["basic_auth"]
    gone = httpx.get(f"{fake.url}/rest/api/2/search", params={"jql": jql}, auth=auth)
    assert gone.status_code == 410
    unbounded = httpx.get(f"{fake.url}/rest/api/3/search/jql", params={"jql": "ORDER BY key"}, auth=auth)
    assert unbounded.json()["errorMessages"] == [
        "Unbounded JQL queries are not allowed here. Please add a search restriction to your query."
    ]
    ids_only = httpx.get(f"{fake.url}/rest/api/3/search/jql", params={"jql": jql, "maxResults": 2}, auth=auth)
    assert ids_only.json()["issues"] == [{"id": "10000"}, {"id": "10001"}]


def test_jql_subset(fake):
    jira = fake.client()
    new_issue(jira, "a")  # OPS-1
    new_issue(jira, "b", kind="Bug")  # OPS-2
    new_issue(jira, "c", project="HR")  # HR-1
    jira.transition_issue("OPS-2", "Start Progress")

    def keys(jql: str) -> list[str]:
        return [i.key for i in jira.search_issues(jql, maxResults=50)]

    assert keys("project = OPS ORDER BY key ASC") == ["OPS-1", "OPS-2"]
    assert keys("project in (OPS, HR) ORDER BY key ASC") == ["HR-1", "OPS-1", "OPS-2"]
    assert keys('issuetype = "Bug"') == ["OPS-2"]
    assert keys("key in (OPS-1, HR-1) ORDER BY key ASC") == ["HR-1", "OPS-1"]
    assert keys('status = "In Progress"') == ["OPS-2"]
    assert keys("project = OPS AND status = 'To Do'") == ["OPS-1"]
    assert keys("project = HR OR (issuetype = Bug AND NOT status = Done) ORDER BY key ASC") == [
        "HR-1",
        "OPS-2",
    ]
    assert keys("project = OPS ORDER BY updated DESC, key ASC") == ["OPS-2", "OPS-1"]
    assert keys("project = OPS ORDER BY updated ASC") == ["OPS-1", "OPS-2"]
    assert keys("project = OPS") == ["OPS-2", "OPS-1"]  # no ORDER BY: key DESC
    assert keys('cf[10011] is EMPTY AND summary ~ "b"') == ["OPS-2"]


@pytest.mark.parametrize(
    ("jql", "message"),
    [
        ("projekt = OPS", "Field 'projekt' does not exist or you do not have permission to view it."),
        ("project = NOPE", "The value 'NOPE' does not exist for the field 'project'."),
        ("key in (OPS-99)", "An issue with key 'OPS-99' does not exist for field 'key'."),
        ("project ~ OPS", "The operator '~' is not supported by the 'project' field."),
        ('"Deal ID" = D-1', "The operator '=' is not supported by the 'Deal ID' field."),
        ("project = OPS foo",
         "Error in the JQL Query: Expecting either 'OR' or 'AND' but got 'foo'. (line 1, character 15)"),
        ("project OPS",
         "Error in the JQL Query: Expecting operator but got 'OPS'. The valid operators are '=', '!=', "
         "'<', '>', '<=', '>=', '~', '!~', 'IN', 'NOT IN', 'IS' and 'IS NOT'. (line 1, character 9)"),
        ("assignee = currentUsr()", "Unable to find JQL function 'currentUsr()'."),
        ("project = OPS ORDER BY labels", "Field 'labels' does not support sorting."),
    ],
)  # fmt: skip
def test_bad_jql_is_400_in_jiras_words(fake, jql, message):
    response = httpx.get(
        f"{fake.url}/rest/api/2/{'search/jql' if fake.mode == 'cloud' else 'search'}",
        params={"jql": jql},
        auth=fake.auth()["basic_auth"],
    )
    assert response.status_code == 400
    assert response.json() == {"errorMessages": [message], "errors": {}}


def test_server_validate_query_false_turns_unknown_values_into_no_match(jira_server):
    fake = jira_server("server")
    new_issue(fake.client())
    raw = fake.client().search_issues("key in (OPS-1, OPS-99)", validate_query=False, json_result=True)
    assert [i["key"] for i in raw["issues"]] == ["OPS-1"]


def test_updated_cursor_is_minute_precise_in_the_accounts_time_zone(fake):
    """A JQL date is local time in the account's zone: a UTC cursor from a New York account is 4 h off."""
    fake.set_time_zone("America/New_York")  # UTC-4 in May
    jira = fake.client()
    fake.set_clock(datetime(2024, 5, 1, 10, 0, 30, tzinfo=UTC))
    early = new_issue(jira, "early")
    fake.set_clock(datetime(2024, 5, 1, 10, 5, 10, tzinfo=UTC))
    late = new_issue(jira, "late")
    assert early.fields.updated == "2024-05-01T06:00:30.000-0400"

    def keys(jql: str) -> list[str]:
        return [i.key for i in jira.search_issues(jql + " ORDER BY updated ASC", maxResults=50)]

    assert keys('updated >= "2024-05-01 06:00"') == [early.key, late.key]
    assert keys('updated > "2024-05-01 06:00"') == [early.key, late.key]  # 06:00:30 is after 06:00
    assert keys('updated >= "2024-05-01 06:01"') == [late.key]
    assert keys('updated >= "2024/05/01 06:05"') == [late.key]
    assert keys('updated >= "2024-05-01 10:00"') == []  # the UTC wall clock read as New York time
    assert keys('updated < "2024-05-01 06:05" AND project = OPS') == [early.key]
    assert keys('updated >= "2024-05-01"') == [early.key, late.key]
    assert keys("updated >= -4m") == [late.key]  # the fake's clock is at 10:05:10 UTC
    response = httpx.get(
        f"{fake.url}/rest/api/2/{'search/jql' if fake.mode == 'cloud' else 'search'}",
        params={"jql": 'updated >= "2024-05-01 06:00:00"'},
        auth=fake.auth()["basic_auth"],
    )
    assert response.json()["errorMessages"][0].startswith(
        "Date value '2024-05-01 06:00:00' for field 'updated' is invalid. "
        "Valid formats include: 'yyyy/MM/dd HH:mm'"
    )


def test_updated_moves_forward_on_every_change_and_not_on_a_no_op(fake):
    fake.set_clock(datetime(2024, 5, 1, 10, 0, tzinfo=UTC))
    jira = fake.client()
    issue = new_issue(jira)
    stamps = [fake.issue(issue.key).updated]
    issue.update(summary="v2")
    stamps.append(fake.issue(issue.key).updated)
    jira.add_comment(issue.key, "note")
    stamps.append(fake.issue(issue.key).updated)
    issue.update(summary="v2")  # the same value: nothing changes
    stamps.append(fake.issue(issue.key).updated)
    assert stamps[0] < stamps[1] < stamps[2] == stamps[3]
    assert len(fake.issue(issue.key).histories) == 1


# Transitions and comments


def test_transitions_list_targets_and_move_the_status(fake):
    jira = fake.client()
    issue = new_issue(jira)
    assert [(t["id"], t["name"], t["to"]["name"]) for t in jira.transitions(issue)] == [
        ("11", "Start Progress", "In Progress")
    ]
    jira.transition_issue(issue, "Start Progress")
    jira.transition_issue(issue, "31", comment="shipped")
    done = jira.issue(issue.key)
    assert (done.fields.status.name, done.fields.resolution.name) == ("Done", "Done")
    assert done.fields.resolutiondate is not None
    assert done.fields.comment.comments[-1].body == "shipped"
    assert [t["name"] for t in jira.transitions(issue)] == ["Reopen"]
    jira.transition_issue(issue, "Reopen")
    assert jira.issue(issue.key).fields.resolution is None
    histories = jira.issue(issue.key, expand="changelog").changelog.histories
    assert [i.toString for h in histories for i in h.items if i.field == "status"] == [
        "In Progress",
        "Done",
        "To Do",
    ]


def test_an_impossible_transition_is_jiras_400_and_changes_nothing(fake):
    jira = fake.client()
    issue = new_issue(jira)
    with pytest.raises(JIRAError) as caught:
        jira.transition_issue(issue, "31")  # Done is not reachable from To Do
    assert caught.value.status_code == 400
    if fake.mode == "cloud":
        assert caught.value.text == "Transition id '31' is not valid for this issue."
    else:
        assert str(caught.value.text).startswith(
            "It seems that you have tried to perform a workflow operation (Done) that is not valid for the "
            "current state of this issue (OPS-1)."
        )
    with pytest.raises(JIRAError, match="Invalid transition name"):  # the library finds no such name
        jira.transition_issue(issue, "Done")
    assert fake.issue(issue.key).values["status"] == "10000"
    assert fake.issue(issue.key).histories == []


def test_comments_add_list_edit_delete(fake):
    jira = fake.client()
    issue = new_issue(jira)
    first = jira.add_comment(issue, "first")
    jira.add_comment(issue.key, "second")
    assert [c.body for c in jira.comments(issue.key)] == ["first", "second"]
    assert first.author.displayName == "Jira Admin"
    first.update(body="first, edited")
    assert jira.comment(issue.key, first.id).body == "first, edited"
    first.delete()
    assert [c.body for c in jira.comments(issue.key)] == ["second"]
    with pytest.raises(JIRAError) as caught:
        jira.add_comment(issue.key, "")
    assert errors_of(caught.value)["errors"] == {"comment": "Comment body can not be empty!"}


# Webhooks


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def test_changes_are_posted_as_signed_webhooks(fake, webhook_receiver: WebhookReceiver):
    fake.register_webhook(f"{webhook_receiver.url}/webhooks/jira/ops", secret="s3cret")
    jira = fake.client()
    issue = new_issue(jira)
    issue.update(summary="Laptop, 16 GB")
    jira.transition_issue(issue, "Start Progress")
    issue.delete()
    received = webhook_receiver.wait_for(4)
    events = [r.json()["webhookEvent"] for r in received]
    assert events == ["jira:issue_created", "jira:issue_updated", "jira:issue_updated", "jira:issue_deleted"]
    for r in received:
        assert r.path == "/webhooks/jira/ops"
        assert r.headers["x-hub-signature"] == signature("s3cret", r.body)
        assert r.headers["content-type"] == "application/json; charset=utf-8"
    assert len({r.headers["x-atlassian-webhook-identifier"] for r in received}) == 4
    created, edited, moved, deleted = (r.json() for r in received)
    assert created["issue"]["key"] == "OPS-1" and created["issue_event_type_name"] == "issue_created"
    assert created["user"]["displayName"] == "Jira Admin"
    assert ("accountId" in created["user"]) == (fake.mode == "cloud")
    assert edited["changelog"]["items"][0] | {"fieldId": "summary"} == {
        "field": "summary",
        "fieldtype": "jira",
        "fieldId": "summary",
        "from": None,
        "fromString": "Laptop",
        "to": None,
        "toString": "Laptop, 16 GB",
    }
    assert moved["issue"]["fields"]["status"]["name"] == "In Progress"
    assert moved["issue_event_type_name"] == "issue_generic"
    assert deleted["issue"]["key"] == "OPS-1"
    assert created["timestamp"] <= edited["timestamp"] <= moved["timestamp"] <= deleted["timestamp"]


def test_a_failed_delivery_is_retried_with_the_same_identifier(fake, webhook_receiver):
    fake.register_webhook(webhook_receiver.url, secret="s")
    webhook_receiver.fail_next(1)
    new_issue(fake.client())
    first, retry = webhook_receiver.wait_for(2)
    assert first.body == retry.body
    assert first.headers["x-atlassian-webhook-identifier"] == retry.headers["x-atlassian-webhook-identifier"]
    assert (
        "x-atlassian-webhook-retry" not in first.headers and retry.headers["x-atlassian-webhook-retry"] == "1"
    )
    fake.flush_webhooks()
    assert (fake.deliveries[0].attempts, fake.deliveries[0].status) == (2, 200)


def test_dropped_deliveries_leave_the_change_to_reconciliation(fake, webhook_receiver):
    fake.register_webhook(webhook_receiver.url)
    fake.set_clock(datetime(2024, 5, 1, 10, 0, tzinfo=UTC))
    jira = fake.client()
    fake.drop_webhooks(1)
    lost = new_issue(jira, "lost")
    delivered = new_issue(jira, "delivered")
    fake.flush_webhooks()
    assert [r.json()["issue"]["key"] for r in webhook_receiver.received] == [delivered.key]
    assert [(d.event, d.dropped) for d in fake.deliveries] == [
        ("jira:issue_created", True),
        ("jira:issue_created", False),
    ]
    found = jira.search_issues('project = OPS AND updated >= "2024-05-01 10:00" ORDER BY updated ASC')
    assert [i.key for i in found] == [lost.key, delivered.key]
    fake.drop_webhooks()
    lost.update(summary="lost again")
    fake.resume_webhooks()
    fake.flush_webhooks()
    assert len(webhook_receiver.received) == 1


def test_webhooks_filtered_by_jql_and_registered_over_rest(fake, webhook_receiver):
    auth = fake.auth()["basic_auth"]
    registered = httpx.post(
        f"{fake.url}/rest/webhooks/1.0/webhook",
        auth=auth,
        json={
            "name": "hr only",
            "url": webhook_receiver.url,
            "events": ["jira:issue_created"],
            "filters": {"issue-related-events-section": "project = HR"},
            "secret": "k",
        },
    )
    assert registered.status_code == 201
    assert registered.json()["filters"] == {"issue-related-events-section": "project = HR"}
    assert "secret" not in registered.json()
    jira = fake.client()
    new_issue(jira, project="OPS").update(summary="changed")
    new_issue(jira, project="HR")
    fake.flush_webhooks()
    assert [r.json()["issue"]["key"] for r in webhook_receiver.received] == ["HR-1"]
    assert webhook_receiver.received[0].headers["x-hub-signature"] == signature(
        "k", webhook_receiver.received[0].body
    )
    listed = httpx.get(f"{fake.url}/rest/webhooks/1.0/webhook", auth=auth).json()
    assert [h["name"] for h in listed] == ["hr only"]
    assert httpx.delete(registered.json()["self"], auth=auth).status_code == 204


def test_comment_raises_issue_updated_with_the_comment(fake, webhook_receiver):
    fake.register_webhook(webhook_receiver.url, events=("jira:issue_updated", "comment_created"))
    jira = fake.client()
    issue = new_issue(jira)
    jira.add_comment(issue, "hello")
    received = webhook_receiver.wait_for(2)
    by_event = {r.json()["webhookEvent"]: r.json() for r in received}
    assert by_event["jira:issue_updated"]["issue_event_type_name"] == "issue_commented"
    assert by_event["jira:issue_updated"]["comment"]["body"] == "hello"
    assert by_event["comment_created"]["comment"]["body"] == "hello"


# Counters and the process mode


def test_requests_are_counted_by_endpoint(fake):
    jira = fake.client()
    fake.reset_requests()
    issue = new_issue(jira)
    issue.update(summary="x")
    version = "2"
    assert fake.requests[f"POST /rest/api/{version}/issue"] == 1
    assert fake.requests[f"PUT /rest/api/{version}/issue/{{issue}}"] == 1
    assert (
        fake.requests[f"GET /rest/api/{version}/issue/{{issue}}"] == 2
    )  # prefetch after create, reload after edit
    assert fake.request_count == 4


def test_runs_as_a_process_steered_over_http():
    command = [
        sys.executable,
        "-m",
        "tests.doubles.jira_fake",
        "--mode",
        "cloud",
        "--time-zone",
        "Europe/Berlin",
    ]
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as process:
        try:
            assert process.stdout is not None
            url = process.stdout.readline().strip()
            assert '"email": "admin@example.com"' in process.stdout.readline()
            moved = httpx.post(f"{url}/_fake/clock", json={"now": "2024-05-01T10:00:00+00:00"}).json()
            assert moved == {"now": "2024-05-01T10:00:00+00:00"}
            jira = JIRA(server=url, basic_auth=("admin@example.com", "cloud-api-token"))
            assert new_issue(jira).fields.created == "2024-05-01T12:00:00.000+0200"
            assert httpx.get(f"{url}/_fake/requests").json()["POST /rest/api/2/issue"] == 1
        finally:
            process.terminate()


def test_jql_parser_reads_precedence_and_order():
    query = parse("project = OPS AND status in (Done, 'To Do') OR NOT key = OPS-1 ORDER BY updated DESC, key")
    assert query.where is not None and query.where.op == "or"
    assert query.order == (("updated", True), ("key", False))
    assert parse("ORDER BY key").where is None
