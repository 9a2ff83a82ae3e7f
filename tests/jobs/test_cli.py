"""The runner's commands: exit codes 0 ok, 1 failed tasks, 2 bad configuration or input."""

from __future__ import annotations

from pathlib import Path

import yaml

from b24kit.config import load_settings
from b24kit.jobs.settings import RunnerSettings

from .helpers import REPO, b24kit, write_config

GOOD = """
version: 1
jobs:
  - name: mark
    action: {rule: test_mark_seen}
  - name: echo
    trigger: {robot: test_echo}
"""
BAD = """
version: 1
jobs:
  - name: mark
    action: {rule: test_mark_seen, settings: {txt: x}}
"""


def test_config_example_still_loads_and_its_commented_runner_section_is_valid():
    settings = load_settings(REPO / "config.example.yaml")
    assert settings.runner.listen.port == 8080 and settings.runner.state.startswith("sqlite")
    text = (REPO / "config.example.yaml").read_text(encoding="utf-8")
    block = text[text.index("# runner:") :].splitlines()
    uncommented = "\n".join(line[2:] for line in block if line.startswith("# "))
    data = yaml.safe_load(uncommented.replace("${B24_APP_TOKEN}", "t").replace("${JIRA_WEBHOOK_SECRET}", "s"))
    runner = RunnerSettings.model_validate(data["runner"])
    assert (
        runner.portals["prod"].reconcile.every_minutes == 15 and runner.webhooks["jira-main"].kind == "jira"
    )


def test_validate_list_and_robots_list(tmp_path: Path):
    config = write_config(tmp_path, "http://127.0.0.1:1", GOOD)
    ok = b24kit("jobs", "validate", "--config", str(config))
    assert ok.returncode == 0 and f"ok {tmp_path / 'jobs.yaml'}" in ok.stdout
    listed = b24kit("jobs", "list", "--config", str(config))
    assert (
        listed.returncode == 0
        and "rule test_mark_seen" in listed.stdout
        and "robot test_echo" in listed.stdout
    )
    robots = b24kit("robots", "list", "--config", str(config))
    assert robots.returncode == 0 and "test_echo" in robots.stdout and "text" in robots.stdout


def test_bad_job_files_exit_2_naming_file_line_and_field(tmp_path: Path):
    config = write_config(tmp_path, "http://127.0.0.1:1", BAD)
    expected = (
        f"{tmp_path / 'jobs.yaml'}:5: jobs.0.action.settings.txt: unknown key 'txt' (did you mean 'text'?)"
    )
    for command in (
        ["jobs", "validate"],
        ["jobs", "list"],
        ["serve"],
        ["robots", "install"],
        ["events", "bind"],
    ):
        done = b24kit(*command, "--config", str(config))
        assert done.returncode == 2, (command, done.stderr)
        assert expected in " ".join((done.stdout + done.stderr).split()), (command, done.stdout, done.stderr)


def test_bad_settings_and_arguments_exit_2(tmp_path: Path):
    config = write_config(tmp_path, "http://127.0.0.1:1", GOOD, "workerz: 3")
    done = b24kit("serve", "--config", str(config))
    assert done.returncode == 2 and "runner.workerz" in done.stderr
    config = write_config(tmp_path, "http://127.0.0.1:1", GOOD)
    assert b24kit("jobs", "show", "999", "--config", str(config)).returncode == 2
    assert "give task ids, or --all" in b24kit("jobs", "retry", "--config", str(config)).stderr
    bind = b24kit("events", "bind", "--mode", "sideways", "--config", str(config))
    assert bind.returncode == 2 and "is not online or offline" in bind.stderr
    unknown = b24kit("robots", "install", "--portal", "prod", "--config", str(config))
    assert unknown.returncode == 2 and "no portal named 'prod'" in unknown.stderr


def test_an_unreachable_portal_exits_3(tmp_path: Path):
    config = write_config(tmp_path, "http://127.0.0.1:9", GOOD)
    done = b24kit("robots", "install", "--config", str(config), "--public-url", "http://127.0.0.1:1")
    assert done.returncode == 3 and "error:" in done.stderr


def test_status_and_failed_on_an_empty_store(tmp_path: Path):
    config = write_config(tmp_path, "http://127.0.0.1:1", GOOD)
    assert b24kit("jobs", "status", "--config", str(config)).stdout.strip() == "no tasks"
    failed = b24kit("jobs", "failed", "--config", str(config))
    assert failed.returncode == 0 and failed.stdout.strip() == "no failed tasks"
