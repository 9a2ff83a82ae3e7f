"""``robots install``: bizproc.robot.add for new robots, update for changed ones, nothing otherwise."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from b24kit.automation import PropertySpec
from b24kit.jobs.store import JobStore
from b24kit.robots import RobotDefinition, install
from b24kit.testing import RunningEmulator

from .conftest import app_client

ECHO = RobotDefinition(
    code="echo",
    name={"ru": "Эхо", "en": "Echo"},
    handler="echo",
    properties={"text": PropertySpec("string", name="Text", required=True, default="hi")},
    returns={"echo": PropertySpec("string", name="Echo")},
)
TASK = RobotDefinition(code="task.maker", name="Task", handler="x", document_types=("DEAL", "LEAD"))


def run_install(
    emulator: RunningEmulator, app: dict[str, Any], store: JobStore, robots: list[RobotDefinition]
):
    async def go():
        async with app_client(emulator, app) as client:
            return await install(
                client,
                robots,
                handler_url=lambda code: f"https://runner.example/robots/{code}?portal=emu",
                fingerprints=store,
                portal="emu",
            )

    return asyncio.run(go())


def writes(emulator: RunningEmulator) -> list[str]:
    return [
        c["method"]
        for c in emulator.admin("calls")
        if c["method"].startswith("bizproc.robot.") and c["method"] != "bizproc.robot.list"
    ]


def test_install_adds_then_a_second_run_writes_nothing(b24_emulator, app, tmp_path: Path):
    with JobStore(f"sqlite:///{tmp_path}/state.db") as store:
        first = run_install(b24_emulator, app, store, [ECHO, TASK])
        assert [(i.code, i.action) for i in first] == [("echo", "added"), ("task.maker", "added")]
        robots = {r["CODE"]: r for r in b24_emulator.admin("state/robots")}
        echo = robots["echo"]
        assert echo["HANDLER"] == "https://runner.example/robots/echo?portal=emu"
        assert echo["USE_SUBSCRIPTION"] == "Y"
        assert echo["PROPERTIES"]["text"] == {  # the portal upper-cases the keys it stores
            "NAME": "Text",
            "TYPE": "string",
            "REQUIRED": "Y",
            "MULTIPLE": "N",
            "DEFAULT": "hi",
        }
        assert echo["RETURN_PROPERTIES"]["echo"]["TYPE"] == "string"
        assert echo["DOCUMENT_TYPE"] == ["crm", "CCrmDocumentDeal", "DEAL"]
        assert robots["task.maker"]["DOCUMENT_TYPE"] is None  # two document types: no single one
        assert robots["task.maker"]["FILTER"]["INCLUDE"] == [
            ["crm", "CCrmDocumentDeal", "DEAL"],
            ["crm", "CCrmDocumentLead", "LEAD"],
        ]
        before = writes(b24_emulator)
        second = run_install(b24_emulator, app, store, [ECHO, TASK])
        assert [i.action for i in second] == ["unchanged", "unchanged"]
        assert writes(b24_emulator) == before


def test_a_changed_robot_is_updated_and_a_foreign_one_adopted(b24_emulator, app, tmp_path: Path):
    with JobStore(f"sqlite:///{tmp_path}/state.db") as store:
        run_install(b24_emulator, app, store, [ECHO])
        renamed = RobotDefinition(**{**ECHO.__dict__, "name": "Echo 2"})
        assert [i.action for i in run_install(b24_emulator, app, store, [renamed])] == ["updated"]
        assert [r["NAME"] for r in b24_emulator.admin("state/robots")] == ["Echo 2"]
    with JobStore(f"sqlite:///{tmp_path}/other.db") as fresh:  # registered, but not by this store
        assert [i.action for i in run_install(b24_emulator, app, fresh, [renamed])] == ["updated"]
        assert [i.action for i in run_install(b24_emulator, app, fresh, [renamed])] == ["unchanged"]
