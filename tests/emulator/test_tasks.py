"""``tasks.task.*`` and ``task.dependence.*`` over HTTP: shapes, status codes, filters, errors, events."""

from __future__ import annotations

import pytest

from .event_receiver import bind_app_event


def add_task(emu, **fields) -> dict:
    body = emu.rest("tasks.task.add", {"fields": {"TITLE": "Call the client", "RESPONSIBLE_ID": 1, **fields}})
    assert "task" in body.get("result", {}), body
    return body["result"]["task"]


def add_user(emu, email: str) -> int:
    return int(emu.rest("user.add", {"EMAIL": email, "UF_DEPARTMENT": [1], "NAME": email[:3]})["result"])


def as_user(emu, user_id: int):
    token = emu.admin("apps", {"client_id": f"app.u{user_id}", "client_secret": "x", "user_id": user_id})[
        "access_token"
    ]

    def call(method: str, params: dict | None = None):
        response = emu.http.post(f"{emu.base_url}/rest/{method}", json={**(params or {}), "auth": token})
        return response.status_code, response.json()

    return call


def test_add_returns_camel_case_strings(b24_emulator):
    task = add_task(b24_emulator, DESCRIPTION="Details", PRIORITY=2, DEADLINE="2030-05-01 18:00:00")
    assert task["id"].isdigit() and isinstance(task["id"], str)
    assert task["title"] == "Call the client"
    assert task["priority"] == "2"
    assert task["status"] == "2"
    assert task["responsibleId"] == "1" and task["createdBy"] == "1"
    assert task["deadline"] == "2030-05-01T18:00:00+03:00"
    assert task["parentId"] is None and task["closedBy"] is None and task["statusChangedBy"] is None
    assert task["groupId"] == "0" and task["stageId"] == "0" and task["timeEstimate"] == "0"
    assert task["auditors"] == [] and task["accomplices"] == [] and task["group"] == []
    assert task["auditorsData"] == [] and task["accomplicesData"] == []
    assert task["creator"]["id"] == "1" and task["creator"]["name"] == "Admin Portal"
    assert task["action"]["complete"] is True and task["action"]["renew"] is False
    assert task["guid"].startswith("{") and task["siteId"] == "s1"
    assert "ufCrmTask" not in task and "TITLE" not in task


def test_deadline_keeps_the_instant_in_the_portal_offset(b24_emulator):
    task = add_task(b24_emulator, DEADLINE="2030-05-01T12:00:00Z")
    assert task["deadline"] == "2030-05-01T15:00:00+03:00"


def test_uf_crm_task_only_when_selected(b24_emulator):
    emu = b24_emulator
    task = add_task(emu, UF_CRM_TASK=["D_12", "SI_3"], AUDITORS=[1])
    plain = emu.rest("tasks.task.get", {"taskId": task["id"]})["result"]["task"]
    assert "ufCrmTask" not in plain and plain["auditorsData"]["1"]["id"] == "1"
    chosen = emu.rest("tasks.task.get", {"taskId": task["id"], "select": ["ID", "UF_CRM_TASK"]})["result"][
        "task"
    ]
    assert chosen["ufCrmTask"] == ["D_12", "SI_3"]
    assert chosen["ufTaskWebdavFiles"] == [] and chosen["ufMailMessage"] is None
    assert chosen["id"] == task["id"] and "title" not in chosen
    rows = emu.rest("tasks.task.list", {"filter": {"UF_CRM_TASK": "D_12"}, "select": ["ID", "UF_CRM_TASK"]})
    assert [r["ufCrmTask"] for r in rows["result"]["tasks"]] == [["D_12", "SI_3"]]
    assert emu.rest("tasks.task.list", {"filter": {"UF_CRM_TASK": "D_13"}})["total"] == 0


@pytest.mark.parametrize(
    ("fields", "code", "text"),
    [
        (None, "100", "Could not find value for parameter {fields} (internal error)"),
        ({}, "100", "Could not find value for parameter {fields} (internal error)"),
        ({"RESPONSIBLE_ID": 1}, "ERROR_CORE", "Task title is not specified<br>"),
        ({"TITLE": "x"}, "ERROR_CORE", "Responsible person not specified<br>"),
        (
            {"TITLE": "", "RESPONSIBLE_ID": 0},
            "ERROR_CORE",
            "Task title is not specified<br>Responsible person not specified<br>",
        ),
        (
            {"TITLE": "x", "RESPONSIBLE_ID": 999},
            "ERROR_CORE",
            'User specified in the "Responsible" field not found<br>',
        ),
        (
            {"TITLE": "x", "RESPONSIBLE_ID": 1, "PARENT_ID": 999},
            "ERROR_CORE",
            'Task specified in the "Parent Task" field not found<br>',
        ),
        ({"TITLE": "x", "RESPONSIBLE_ID": 1, "STATUS": 9}, "ERROR_CORE", "Incorrect status<br>"),
        (
            {
                "TITLE": "x",
                "RESPONSIBLE_ID": 1,
                "START_DATE_PLAN": "2030-01-02",
                "END_DATE_PLAN": "2030-01-01",
            },
            "ERROR_CORE",
            "The end date in scheduling is earlier than the start date<br>",
        ),
        (
            {"TITLE": "x", "RESPONSIBLE_ID": 1, "DEADLINE": "next tuesday"},
            "ERROR_CORE",
            'Incorrect value of the "DEADLINE" field<br>',
        ),
        ({"TITLE": ["x"], "RESPONSIBLE_ID": 1}, "ERROR_CORE", 'Field "TITLE" must be a string<br>'),
    ],
)
def test_add_errors(b24_emulator, fields, code, text):
    params = {} if fields is None else {"fields": fields}
    response = b24_emulator.http.post(f"{b24_emulator.webhook_url}tasks.task.add", json=params)
    assert response.status_code == 400
    assert response.json() == {"error": code, "error_description": text}
    assert len(b24_emulator.portal.table("tasks")) == 0


def test_get_and_bad_ids(b24_emulator):
    emu = b24_emulator
    task = add_task(emu)
    assert emu.rest("tasks.task.get", {"taskId": int(task["id"])})["result"]["task"]["id"] == task["id"]
    assert emu.rest("tasks.task.get", {"taskId": 999})["result"] == []
    assert emu.rest("tasks.task.get", {"taskId": "abc"}) == {
        "error": "0",
        "error_description": "wrong task id",
    }
    assert emu.rest("tasks.task.get", {"taskId": [1]})["error"] == "0"
    missing = emu.rest("tasks.task.get", {})
    assert missing["error"] == "100" and "CTaskItem" in missing["error_description"]
    bad_select = emu.rest("tasks.task.get", {"taskId": task["id"], "select": "ID"})
    assert bad_select["error"] == "100" and "{select}" in bad_select["error_description"]


def test_update_changes_fields_and_checks_parent(b24_emulator):
    emu = b24_emulator
    parent = add_task(emu, TITLE="Parent")
    child = add_task(emu, TITLE="Child", PARENT_ID=parent["id"])
    body = emu.rest(
        "tasks.task.update", {"taskId": child["id"], "fields": {"TITLE": "Renamed", "PRIORITY": 0}}
    )
    task = body["result"]["task"]
    assert (task["title"], task["priority"], task["parentId"]) == ("Renamed", "0", parent["id"])
    assert emu.rest("tasks.task.get", {"taskId": parent["id"]})["result"]["task"]["multitask"] == "Y"
    self_parent = emu.rest(
        "tasks.task.update", {"taskId": parent["id"], "fields": {"PARENT_ID": parent["id"]}}
    )
    assert self_parent == {"error": "ERROR_CORE", "error_description": "Cannot bind the node to itself<br>"}
    cycle = emu.rest("tasks.task.update", {"taskId": parent["id"], "fields": {"PARENT_ID": child["id"]}})
    assert cycle["error_description"] == "Creating cyclic links in tasks is prohibited<br>"
    empty = emu.rest("tasks.task.update", {"taskId": child["id"], "fields": {}})
    assert empty["error"] == "100"
    gone = emu.rest("tasks.task.update", {"taskId": 999, "fields": {"TITLE": "x"}})
    assert gone == {"error": "0", "error_description": "Action on the task is not allowed (internal error)"}


def test_status_actions(b24_emulator):
    emu = b24_emulator
    tid = add_task(emu)["id"]

    def act(name):
        return emu.rest(f"tasks.task.{name}", {"taskId": tid})

    started = act("start")["result"]["task"]
    assert started["status"] == "3" and started["dateStart"] and started["closedBy"] == "0"
    assert act("start") == {"error": "0", "error_description": "Action on the task is not allowed"}
    assert act("pause")["result"]["task"]["status"] == "2"
    assert act("defer")["result"]["task"]["status"] == "6"
    done = act("complete")["result"]["task"]
    assert done["status"] == "5" and done["closedBy"] == "1" and done["closedDate"]
    assert done["action"]["renew"] is True and done["action"]["complete"] is False
    assert act("defer") == {"error": "1048582", "error_description": "Action on the task is not allowed"}
    renewed = act("renew")["result"]["task"]
    assert renewed["status"] == "2" and renewed["closedBy"] == "0" and renewed["closedDate"] is None
    assert (
        emu.rest("tasks.task.complete", {"taskId": 999})["error_description"]
        == "Action on the task is not allowed"
    )


def test_complete_with_task_control_waits_for_the_creator(b24_emulator):
    emu = b24_emulator
    worker = add_user(emu, "worker@example.com")
    tid = add_task(emu, RESPONSIBLE_ID=worker, TASK_CONTROL="Y")["id"]
    call = as_user(emu, worker)
    status, body = call("tasks.task.complete", {"taskId": tid})
    assert status == 200 and body["result"]["task"]["status"] == "4"
    assert call("tasks.task.approve", {"taskId": tid})[1]["error"] == "1048582"
    approved = emu.rest("tasks.task.approve", {"taskId": tid})["result"]["task"]
    assert approved["status"] == "5" and approved["closedBy"] == "1"
    own = add_task(emu, TASK_CONTROL="Y")["id"]
    assert emu.rest("tasks.task.complete", {"taskId": own})["result"]["task"]["status"] == "5"


def test_access_for_other_users(b24_emulator):
    emu = b24_emulator
    outsider = add_user(emu, "outsider@example.com")
    auditor = add_user(emu, "auditor@example.com")
    tid = add_task(emu, AUDITORS=[auditor])["id"]
    status, body = as_user(emu, outsider)("tasks.task.get", {"taskId": tid})
    assert (status, body["result"]) == (200, [])
    status, body = as_user(emu, outsider)("tasks.task.list", {})
    assert body["result"] == {"tasks": []} and body["total"] == 0
    status, body = as_user(emu, auditor)("tasks.task.list", {"select": ["ID"]})
    assert [t["id"] for t in body["result"]["tasks"]] == [tid]
    status, body = as_user(emu, auditor)("tasks.task.update", {"taskId": tid, "fields": {"TITLE": "x"}})
    assert (status, body["error"]) == (400, "0")
    status, body = as_user(emu, auditor)("tasks.task.delete", {"taskId": tid})
    assert body == {"error": "1048582", "error_description": "No access to delete the task"}


def test_list_order_filter_select_and_paging(b24_emulator):
    emu = b24_emulator
    worker = add_user(emu, "w@example.com")
    for i in range(55):
        emu.portal.call(
            "tasks.task.add",
            {
                "fields": {
                    "TITLE": f"Task {i:02d}",
                    "RESPONSIBLE_ID": worker if i % 2 else 1,
                    "DEADLINE": f"2030-01-{1 + i % 28:02d}T10:00:00+03:00",
                }
            },
        )
    first = emu.rest("tasks.task.list", {"select": ["ID", "TITLE"]})
    rows = first["result"]["tasks"]
    assert (len(rows), first["total"], first["next"]) == (50, 55, 50)
    assert rows[0]["title"] == "Task 54"  # default order: ID desc
    assert set(rows[0]) == {"id", "title", "group"}
    second = emu.rest("tasks.task.list", {"start": 50})
    assert len(second["result"]["tasks"]) == 5 and "next" not in second
    asc = emu.rest("tasks.task.list", {"order": {"ID": "asc"}, "filter": {">ID": 50}, "select": ["ID"]})
    assert [t["id"] for t in asc["result"]["tasks"]] == ["51", "52", "53", "54", "55"]
    mine = emu.rest(
        "tasks.task.list", {"filter": {"RESPONSIBLE_ID": worker}, "select": ["ID", "RESPONSIBLE_ID"]}
    )
    assert mine["total"] == 27 and mine["result"]["tasks"][0]["responsible"]["id"] == str(worker)
    due = emu.rest("tasks.task.list", {"filter": {"<DEADLINE": "2030-01-03"}, "order": {"DEADLINE": "asc"}})
    assert due["total"] == 4 and due["result"]["tasks"][0]["deadline"] == "2030-01-01T10:00:00+03:00"
    window = emu.rest("tasks.task.list", {"order": {"ID": "asc"}, "filter": {">ID": 10}, "start": -1})
    assert window["total"] == 0 and "next" not in window and len(window["result"]["tasks"]) == 45
    like = emu.rest("tasks.task.list", {"filter": {"TITLE": "%k 1%"}, "select": ["ID"]})
    assert like["total"] == 10
    bad = emu.rest("tasks.task.list", {"order": {"NO_SUCH": "asc"}})
    assert bad == {"error": "0", "error_description": "Invalid sorting key (internal error)"}


def test_list_status_filters(b24_emulator):
    emu = b24_emulator
    late = add_task(emu, DEADLINE="2000-01-01T00:00:00+03:00")["id"]
    done = add_task(emu)["id"]
    emu.rest("tasks.task.complete", {"taskId": done})

    def ids(flt):
        body = emu.rest("tasks.task.list", {"filter": flt, "select": ["ID", "STATUS"]})
        return [t["id"] for t in body["result"]["tasks"]]

    assert ids({"REAL_STATUS": 5}) == [done]
    assert ids({"STATUS": -1}) == [late]
    assert ids({"!REAL_STATUS": 5}) == [late]
    row = emu.rest("tasks.task.list", {"filter": {"ID": late}, "select": ["ID", "STATUS"]})["result"][
        "tasks"
    ][0]
    assert (row["status"], row["subStatus"]) == ("2", "-1")


def test_delete_and_dependencies(b24_emulator):
    emu = b24_emulator
    a, b = add_task(emu)["id"], add_task(emu)["id"]
    assert emu.rest("task.dependence.add", {"taskIdFrom": a, "taskIdTo": b, "linkType": 2})["result"] == []
    again = emu.rest("task.dependence.add", {"taskIdFrom": a, "taskIdTo": b, "linkType": 0})
    assert again == {"error": "ILLEGAL_NEW_LINK", "error_description": "A link between tasks already exists"}
    assert emu.rest("tasks.task.list", {"filter": {"DEPENDS_ON": a}, "select": ["ID"]})["result"][
        "tasks"
    ] == [{"id": b, "group": []}]
    assert emu.rest("task.dependence.add", {"taskIdFrom": a, "taskIdTo": 999, "linkType": 2})["error"] == (
        "ACTION_NOT_ALLOWED"
    )
    assert emu.rest("task.dependence.add", {"taskIdFrom": a, "taskIdTo": a, "linkType": 2})["error"] == (
        "ACTION_NOT_ALLOWED"
    )
    assert emu.rest("task.dependence.delete", {"taskIdFrom": a, "taskIdTo": b})["result"] == []
    assert emu.rest("task.dependence.delete", {"taskIdFrom": a, "taskIdTo": b})["error"] == "ILLEGAL_NEW_LINK"
    assert emu.rest("tasks.task.delete", {"taskId": a})["result"] == {"task": True}
    assert emu.rest("tasks.task.get", {"taskId": a})["result"] == []
    assert emu.rest("tasks.task.delete", {"taskId": a})["error"] == "1048582"


def test_get_fields(b24_emulator):
    fields = b24_emulator.rest("tasks.task.getFields")["result"]["fields"]
    assert fields["TITLE"] == {"title": "Title", "type": "string", "required": True}
    assert fields["STATUS"]["values"] == {
        "2": "Pending",
        "3": "In Progress",
        "4": "Awaiting Review",
        "5": "Completed",
        "6": "Deferred",
    }
    assert fields["UF_CRM_TASK"] == {"title": "CRM Entities", "type": "crm"}


def test_task_events_carry_the_documented_payload(b24_emulator, receiver):
    emu = b24_emulator
    bind_app_event(emu, receiver, "ONTASKADD", "ONTASKUPDATE", "ONTASKDELETE", client_id="app.tasks")
    tid = add_task(emu)["id"]
    emu.rest("tasks.task.update", {"taskId": tid, "fields": {"TITLE": "New"}})
    emu.rest("tasks.task.complete", {"taskId": tid})
    emu.rest("tasks.task.delete", {"taskId": tid})
    [added] = receiver.events("ONTASKADD")
    assert added["data[FIELDS_BEFORE]"] == "undefined"
    assert added["data[FIELDS_AFTER][ID]"] == tid
    assert (added["data[IS_ACCESSIBLE_BEFORE]"], added["data[IS_ACCESSIBLE_AFTER]"]) == ("N", "undefined")
    updates = receiver.events("ONTASKUPDATE", count=2)
    assert len(updates) == 2
    assert all(u["data[FIELDS_BEFORE][ID]"] == tid and u["data[FIELDS_AFTER][ID]"] == tid for u in updates)
    assert updates[0]["data[IS_ACCESSIBLE_BEFORE]"] == "undefined"
    [deleted] = receiver.events("ONTASKDELETE")
    assert deleted["data[FIELDS_AFTER]"] == "undefined" and deleted["data[FIELDS_BEFORE][ID]"] == tid
    assert deleted["data[IS_ACCESSIBLE_AFTER]"] == "N"
    assert deleted["auth[application_token]"] and deleted["ts"].isdigit()
    assert receiver.posts[0].headers["Content-Type"] == "application/x-www-form-urlencoded"


def test_batch_runs_task_methods_with_references(b24_emulator):
    body = b24_emulator.rest(
        "batch",
        {
            "cmd": {
                "a": "tasks.task.add?fields[TITLE]=From%20batch&fields[RESPONSIBLE_ID]=1",
                "b": "tasks.task.get?taskId=$result[a][task][id]&select[]=ID&select[]=TITLE",
            }
        },
    )
    assert body["result"]["result"]["b"]["task"]["title"] == "From batch"
    assert body["result"]["result_error"] == []
