"""Job files: the examples in jobs/ load; every mistake names its file, line, field and a fix."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

import tests.jobs.handlers  # noqa: F401 - registers the test rules
from b24kit.automation.registry import load_plugins
from b24kit.errors import ConfigError
from b24kit.jobs.jobset import JobSet
from b24kit.jobs.loader import JobsError, expand, load_job_text, load_jobs
from b24kit.sync.loader import load_profile
from b24kit.sync.service import event_scope

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((REPO / "jobs").glob("*.yaml"))


def load(text: str, tmp_path: Path | None = None, portals: list[str] | None = None):
    return load_job_text(
        textwrap.dedent(text),
        source="jobs/x.yaml",
        base_dir=tmp_path or REPO / "jobs",
        env={},
        portals=portals,
    )


def problems(text: str, tmp_path: Path | None = None, portals: list[str] | None = None) -> list[str]:
    with pytest.raises(JobsError) as caught:
        load(text, tmp_path, portals)
    return [issue.render() for issue in caught.value.issues]


def test_there_are_examples_and_each_one_loads():
    load_plugins()
    assert len(EXAMPLES) >= 4
    jobs = load_jobs(EXAMPLES, env={}, portals=["emulator"])
    names = {j.name for j in jobs.jobs}
    assert {"payment-schedule", "required-fields", "log-stage-changes", "nightly-contacts"} <= names


def test_expand_reads_globs_relative_to_the_config(tmp_path: Path):
    (tmp_path / "jobs").mkdir()
    for name in ("b.yaml", "a.yaml", "c.txt"):
        (tmp_path / "jobs" / name).write_text("version: 1\n")
    found = expand(["jobs/*.yaml", "jobs/a.yaml"], tmp_path)
    assert [p.name for p in found] == ["a.yaml", "b.yaml"]


def test_defaults_a_rule_brings_its_events_and_a_robot_its_handler():
    mark, echo = load(
        """
        version: 1
        jobs:
          - name: mark
            action: {rule: test_mark_seen, settings: {text: done}}
          - name: echo
            trigger: {robot: test_echo}
        """
    )
    assert mark.trigger.event_names == ("ONCRMDEALUPDATE", "ONCRMDEALADD")
    assert mark.settings.text == "done"
    assert echo.action.rule == "test_echo" and echo.robot is not None
    assert list(echo.robot.properties) == ["text"] and echo.robot.name == {"ru": "Эхо", "en": "Echo"}


def test_a_hook_robot_declares_its_properties_in_yaml():
    (job,) = load(
        """
        version: 1
        jobs:
          - name: greet
            trigger:
              robot:
                code: greet
                name: {ru: Привет, en: Greet}
                properties:
                  who: {type: user, name: Who, required: true}
                returns:
                  text: {type: string, name: Text}
                document_types: [lead, DEAL]
            action: {hook: "tests.jobs.handlers:record_hook", settings: {any: thing}}
        """
    )
    robot = job.robot
    assert robot is not None and robot.handler == "tests.jobs.handlers:record_hook"
    assert robot.document_types == ("LEAD", "DEAL") and robot.properties["who"].required
    assert job.settings == {"any": "thing"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            """
            version: 1
            jobs:
              - name: a
                trigger: {event: ONCRMDEALUPDATE}
                acton: {rule: test_mark_seen}
            """,
            ["jobs/x.yaml:6: jobs.0.acton: unknown key 'acton' (did you mean 'action'?)"],
        ),
        (
            """
            version: 1
            jobs:
              - name: a
                trigger: {event: ONCRMDEALUPDATE}
                action: {rule: test_mark_sen}
            """,
            ["jobs/x.yaml:6: jobs.0.action.rule: no event rule named 'test_mark_sen' (known: "],
        ),
        (
            """
            version: 1
            jobs:
              - name: a
                trigger: {cron: "61 * * * *"}
                action: {hook: "tests.jobs.handlers:nothing"}
            """,
            ["jobs/x.yaml:5: jobs.0.trigger.cron: minute 61 is outside 0-59"],
        ),
        (
            """
            version: 1
            jobs:
              - name: a
                action:
                  rule: test_mark_seen
                  settings:
                    txt: hello
            """,
            ["jobs/x.yaml:8: jobs.0.action.settings.txt: unknown key 'txt' (did you mean 'text'?)"],
        ),
        (
            """
            version: 1
            jobs:
              - name: a
                trigger: {event: ONCRMDEALUPDATE}
                action: {hook: "tests.jobs.handlers:nothin"}
            """,
            [
                "jobs/x.yaml:6: jobs.0.action.hook: tests.jobs.handlers has no function 'nothin' "
                "(did you mean 'nothing'?)"
            ],
        ),
        (
            """
            version: 1
            jobs:
              - name: a
                trigger: {event: ONCRMDEALUPDATE, cron: "* * * * *"}
                action: {hook: "tests.jobs.handlers:nothing"}
            """,
            ["jobs/x.yaml:5: jobs.0.trigger: a cron trigger takes no event names"],
        ),
        (
            """
            version: 1
            jobs:
              - name: Bad Name
                trigger: {robot: test_echo}
            """,
            ["jobs/x.yaml:4: jobs.0.name: a job name has lower-case letters, digits, '_', '.', '-'"],
        ),
        (
            """
            version: 1
            jobs:
              - name: a
                trigger: {robot: test_echo}
                action: {sync: nowhere.yaml}
            """,
            ["jobs/x.yaml:4: jobs.0: a robot runs a rule or a hook, not a sync profile"],
        ),
        (
            """
            version: 2
            jobs: []
            """,
            ["jobs/x.yaml:2: version: unsupported job file version 2 (this b24kit reads version: 1)"],
        ),
        (
            """
            version: 1
            jobs:
              - name: a
                trigger: {event: ONCRMDEALDELETE}
                action: {rule: test_mark_seen}
            """,
            [
                "jobs/x.yaml:5: jobs.0.trigger: rule 'test_mark_seen' handles ONCRMDEALUPDATE, ONCRMDEALADD, "
                "not ONCRMDEALDELETE (drop the trigger to use the rule's own events)"
            ],
        ),
        (
            """
            version: 1
            jobs:
              - name: a
                action: {rule: test_no_events}
            """,
            [
                "jobs/x.yaml:4: jobs.0.trigger: rule 'test_no_events' declares no events, so the job "
                'needs a trigger (add trigger: {cron: "0 8 * * 1-5"} or {events: [ONCRMDEALUPDATE]}, '
                "or a robot or webhook)"
            ],
        ),
        (
            """
            version: 1
            jobs:
              - name: a
                action: {rule: test_no_such_rule}
            """,
            ["jobs/x.yaml:5: jobs.0.action.rule: no event rule named 'test_no_such_rule' (known: "],
        ),
    ],
)
def test_mistakes_name_line_field_and_fix(text, expected):
    found = problems(text)
    assert len(found) == len(expected), found
    for got, want in zip(found, expected, strict=True):
        if want.endswith(("(known: ", "...)")):
            assert got.startswith(want.removesuffix("...)")), got
        else:
            assert got == want


def test_unknown_portals_and_a_missing_profile(tmp_path: Path):
    found = problems(
        """
        version: 1
        jobs:
          - name: a
            portals: [prod, emulatr]
            trigger: {cron: "@daily"}
            action: {sync: ../profiles/none.yaml}
        """,
        tmp_path,
        portals=["emulator"],
    )
    assert found[0] == "jobs/x.yaml:5: jobs.0.portals.0: no portal named 'prod' (expected one of: emulator)"
    assert found[1] == "jobs/x.yaml:5: jobs.0.portals.1: no portal named 'emulatr' (did you mean 'emulator'?)"
    assert found[2].startswith("jobs/x.yaml:7: jobs.0.action.sync: no profile at ")


def test_a_broken_profile_reports_its_own_file_and_line(tmp_path: Path):
    (tmp_path / "p.yaml").write_text("version: 1\nname: p\nsource: {connector: memory, entity: x}\n")
    found = problems(
        """
        version: 1
        jobs:
          - name: a
            trigger: {cron: "@hourly"}
            action: {sync: p.yaml}
        """,
        tmp_path,
    )
    assert found and all(f.startswith(str(tmp_path / "p.yaml")) for f in found)


def test_duplicate_names_across_files_and_yaml_errors(tmp_path: Path):
    body = "version: 1\njobs:\n  - name: same\n    trigger: {robot: test_echo}\n"
    (tmp_path / "a.yaml").write_text(body)
    (tmp_path / "b.yaml").write_text(body)
    (tmp_path / "c.yaml").write_text("version: 1\njobs: [\n")
    with pytest.raises(JobsError) as caught:
        load_jobs(sorted(tmp_path.glob("*.yaml")), env={})
    rendered = [i.render() for i in caught.value.issues]
    assert rendered[0].startswith(f"{tmp_path / 'c.yaml'}:") and "invalid YAML" in rendered[0]
    assert f"job name 'same' is also used in {tmp_path / 'a.yaml'}" in rendered[1]
    assert "robot 'test_echo' is also declared by job 'same'" in rendered[2]
    assert all(isinstance(i, ConfigError) for i in caught.value.issues)


def test_webhook_event_names_are_kept_as_given_and_matched_without_regard_to_case():
    jira, deals = load(
        """
        version: 1
        jobs:
          - name: jira-updates
            trigger: {webhook: jira, events: [jira:issue_updated, Jira:Issue_Created]}
            action: {hook: "tests.jobs.handlers:nothing"}
          - name: deals
            trigger: {events: [onCrmDealUpdate]}
            action: {hook: "tests.jobs.handlers:nothing"}
        """
    )
    assert jira.trigger.event_names == ("jira:issue_updated", "Jira:Issue_Created")
    assert deals.trigger.event_names == ("ONCRMDEALUPDATE",)  # portal names are upper case on the wire
    jobs = JobSet([jira, deals])
    assert jobs.for_webhook("jira", "jira:issue_updated") == [jira]
    assert jobs.for_webhook("jira", "jira:issue_created") == [jira]
    assert jobs.for_webhook("jira", "JIRA:ISSUE_UPDATED") == [jira]
    assert jobs.for_webhook("jira", "jira:issue_deleted") == []
    assert jobs.for_webhook("other", "jira:issue_updated") == []
    assert jobs.for_event("emu", "ONCRMDEALUPDATE") == [deals]


def test_the_job_example_of_docs_jira_md_loads_and_matches_jira_deliveries():
    text = (REPO / "docs" / "jira.md").read_text(encoding="utf-8")
    block = re.search(r"```yaml\n# jobs/jira.yaml\n(.*?)```", text, re.S)
    assert block is not None, "docs/jira.md lost its job example"
    env = {"JIRA_TOKEN": "t"}
    jobs = JobSet(load_job_text(block.group(1), source="jobs/jira.yaml", base_dir=REPO / "jobs", env=env))
    profile = load_profile(REPO / "profiles" / "jira-deals.yaml", env=env)
    for event in ("jira:issue_created", "jira:issue_updated"):
        assert [j.name for j in jobs.for_webhook("jira", event)] == ["jira-deals-on-jira"]
        assert event_scope(profile, event, ["10001"]) == {"source": ["10001"]}  # just that issue
    assert [j.name for j in jobs.for_event("prod", "ONCRMDEALUPDATE")] == ["jira-deals-on-deals"]
    assert [j.name for j in jobs.cron()] == ["jira-deals-reconcile"]
