"""A robot whose ``module:function`` hook is a plain ``def``, through the runner: it runs in a
worker thread and its return values are the answer."""

from __future__ import annotations

import asyncio
from typing import Any

from b24kit.automation import RobotCall, RuleContext
from b24kit.jobs.admin import install_robots

from .helpers import in_process, install, write_config

on_loop: list[bool] = []  # whether the hook ran on the event loop's thread

JOBS = """
version: 1
jobs:
  - name: shout
    trigger:
      robot:
        code: test_shout
        name: Shout
        properties:
          text: {type: string, name: Text, required: true}
        returns:
          shout: {type: string, name: Shout}
    action:
      hook: "tests.jobs.test_plain_hooks:shout"
      settings: {suffix: "!"}
"""


def shout(call: RobotCall, ctx: RuleContext, settings: dict[str, Any]) -> dict[str, Any]:
    try:
        asyncio.get_running_loop()
        on_loop.append(True)
    except RuntimeError:  # no loop in this thread: a worker thread
        on_loop.append(False)
    return {"shout": str(call.properties["text"]).upper() + settings["suffix"]}


def test_a_plain_hook_robot_answers_with_its_values(b24_emulator, tmp_path):
    with in_process(write_config(tmp_path, b24_emulator.base_url, JOBS)) as served:
        install(b24_emulator, served.url)
        assert served.runner is not None
        asyncio.run(install_robots(served.settings, served.runner.services.jobs, "emu", base_url=served.url))
        placement = {"entity_type_id": 2, "category_id": 0, "stage_id": "PREPARATION"}
        robot = {"robot_code": "test_shout", "properties": {"text": "hi"}}
        b24_emulator.admin("automation", {**placement, **robot})
        b24_emulator.rest("crm.deal.add", {"fields": {"TITLE": "t", "STAGE_ID": "PREPARATION"}})
        b24_emulator.flush()
        served.wait_idle(settle=0.3)
        (run,) = b24_emulator.admin("workflows")
        assert (run["status"], run["return_values"], run["log"]) == ("completed", {"shout": "HI!"}, [])
        assert served.metric("b24kit_runner_failed_total") == 0
        assert on_loop == [False]
