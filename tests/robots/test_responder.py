"""The answer: return values, or the error text in the log, once; refused tokens end the matter."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from b24kit.automation import RobotCall
from b24kit.robots import answer, error_text
from b24kit.testing import RunningEmulator

from .conftest import app_client


def start_run(emulator: RunningEmulator, app: dict[str, Any]) -> RobotCall:
    """Register a robot, place it, move a deal onto the stage: the emulator records a waiting run."""

    async def register():
        async with app_client(emulator, app) as client:
            await client.call(
                "bizproc.robot.add",
                {
                    "CODE": "echo",
                    "HANDLER": "https://runner.example/robots/echo",
                    "NAME": "Echo",
                    "RETURN_PROPERTIES": {"echo": {"Name": "Echo", "Type": "string"}},
                },
            )

    asyncio.run(register())
    emulator.admin(
        "automation",
        {
            "entity_type_id": 2,
            "category_id": 0,
            "stage_id": "PREPARATION",
            "robot_code": "echo",
            "properties": {},
        },
    )
    emulator.rest("crm.deal.add", {"fields": {"TITLE": "d", "STAGE_ID": "PREPARATION"}})["result"]
    run = emulator.admin("workflows")[-1]
    return RobotCall(
        "echo",
        run["workflow_id"],
        run["event_token"],
        tuple(run["document_id"]),
        ("crm", "CCrmDocumentDeal", "DEAL"),
        {},
        True,
    )  # type: ignore[arg-type]


def send(emulator, app, call, **kwargs):
    async def go():
        async with app_client(emulator, app) as client:
            return await answer(client, call, **kwargs)

    return asyncio.run(go())


def test_values_are_returned_once(b24_emulator, app):
    call = start_run(b24_emulator, app)
    assert send(b24_emulator, app, call, values={"echo": "HI"}) == "sent"
    run = b24_emulator.admin("workflows")[-1]
    assert (run["status"], run["return_values"], run["log"]) == ("completed", {"echo": "HI"}, [])
    assert send(b24_emulator, app, call, values={"echo": "again"}) == "gone"
    assert b24_emulator.admin("workflows")[-1]["return_values"] == {"echo": "HI"}


def test_an_error_goes_to_the_log_so_the_process_never_hangs(b24_emulator, app):
    call = start_run(b24_emulator, app)
    assert send(b24_emulator, app, call, error="the schedule does not add up") == "sent"
    run = b24_emulator.admin("workflows")[-1]
    assert run["status"] == "completed"
    assert run["log"] == ["b24kit: the schedule does not add up"]


def test_a_robot_that_does_not_wait_gets_no_answer(b24_emulator, app):
    call = start_run(b24_emulator, app)
    quiet = RobotCall(
        call.code, call.workflow_id, call.event_token, call.document_id, call.document_type, {}, False
    )
    assert send(b24_emulator, app, quiet, values={}) == "not waiting"
    assert b24_emulator.admin("workflows")[-1]["status"] == "running"


@pytest.mark.parametrize(
    ("raised", "shown"),
    [
        (RuntimeError("line one\n  line two"), "line one line two"),
        (ValueError(""), "ValueError"),
        ("x" * 3000, "x" * 1999 + "…"),
    ],
)
def test_error_text_is_one_bounded_line(raised, shown):
    assert error_text(raised) == shown
