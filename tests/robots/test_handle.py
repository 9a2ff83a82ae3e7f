"""Running a robot call: async handlers awaited, plain functions in a worker thread."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

from b24kit.automation import PropertySpec, RobotCall, RuleContext
from b24kit.errors import RobotError
from b24kit.robots import run_robot

PROPERTIES = {"text": PropertySpec("string", name="Text", required=True)}


def a_call(**properties: Any) -> RobotCall:
    return RobotCall(
        code="echo",
        workflow_id="wf",
        event_token="wf|token",
        document_id=("crm", "CCrmDocumentDeal", "DEAL_7"),
        document_type=("crm", "CCrmDocumentDeal", "DEAL"),
        properties=properties,
        use_subscription=True,
    )


def run(handler: Any, call: RobotCall, settings: Any = None) -> dict[str, Any]:
    ctx: Any = object()  # run_robot hands it through untouched
    return asyncio.run(run_robot(call, ctx, handler, properties=PROPERTIES, settings=settings))


def test_a_plain_function_runs_in_a_worker_thread():
    """A plain ``def`` handler (a hook or a decorated function) runs off the loop's thread."""
    loop_thread = threading.get_ident()
    seen: dict[str, Any] = {}

    def plain(call: RobotCall, ctx: RuleContext, settings: dict[str, Any]) -> dict[str, Any]:
        seen["thread"] = threading.get_ident()
        return {"echo": settings["prefix"] + str(call.properties["text"]), "deal": call.entity_id}

    assert run(plain, a_call(text="hi"), {"prefix": "> "}) == {"echo": "> hi", "deal": 7}
    assert seen["thread"] != loop_thread


def test_an_async_handler_is_awaited_on_the_loop():
    async def handler(call: RobotCall, ctx: RuleContext, settings: Any) -> dict[str, Any]:
        await asyncio.sleep(0)
        return {"echo": call.properties["text"]}

    assert run(handler, a_call(text="hi")) == {"echo": "hi"}


def test_a_plain_function_returning_nothing_answers_no_values():
    def quiet(call: RobotCall, ctx: RuleContext, settings: Any) -> None:
        return None

    assert run(quiet, a_call(text="hi")) == {}


def test_a_plain_functions_refusal_is_a_robot_error():
    def refuse(call: RobotCall, ctx: RuleContext, settings: Any) -> dict[str, Any]:
        raise RobotError("no, thanks")

    with pytest.raises(RobotError, match="no, thanks"):
        run(refuse, a_call(text="hi"))


def test_a_plain_function_returning_a_list_is_refused_with_the_reason():
    def wrong(call: RobotCall, ctx: RuleContext, settings: Any) -> Any:
        return ["a"]

    with pytest.raises(RobotError, match="returned list, not a map"):
        run(wrong, a_call(text="hi"))
