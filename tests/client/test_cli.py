"""``b24kit call`` and ``b24kit doctor`` against the emulator: output and exit codes."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from b24kit.cli import app
from b24kit.cli.call import parse_params

from .conftest import seed_deals

runner = CliRunner()


def invoke(*args: str):
    return runner.invoke(app, list(args))


def test_call_prints_the_plain_result_as_json(emulator):
    seed_deals(emulator, 3)
    result = invoke("call", "crm.deal.get", "id=2", "--portal", emulator.webhook_url)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["TITLE"] == "Deal 2"


def test_call_params_from_pairs_json_and_brackets(emulator):
    seed_deals(emulator, 5)
    result = invoke(
        "call",
        "crm.deal.list",
        "select[]=ID",
        "select[]=TITLE",
        "filter[>ID]:=3",
        "--json",
        '{"order": {"ID": "DESC"}}',
        "-p",
        emulator.webhook_url,
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == [{"ID": "5", "TITLE": "Deal 5"}, {"ID": "4", "TITLE": "Deal 4"}]


def test_call_all_streams_json_lines(emulator):
    seed_deals(emulator, 130)
    result = invoke("call", "crm.deal.list", "select[]=ID", "--all", "--portal", emulator.webhook_url)
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [int(r["ID"]) for r in lines] == list(range(1, 131))
    assert "130 records" in result.stderr


def test_exit_2_for_bad_input_and_3_for_portal_failures(emulator, tmp_path):
    not_found = invoke("call", "crm.deal.get", "id=999", "--portal", emulator.webhook_url)
    assert not_found.exit_code == 2 and "crm.deal.get: Not found (HTTP 400)" in not_found.stderr
    bad_pair = invoke("call", "profile", "nonsense", "--portal", emulator.webhook_url)
    assert bad_pair.exit_code == 2
    bad_config = invoke("call", "profile", "--config", str(tmp_path / "missing.yaml"))
    assert bad_config.exit_code == 2 and "cannot read the config file" in bad_config.stderr
    refused = invoke("call", "profile", "--portal", emulator.webhook_url.replace("/secret/", "/wrongwrong/"))
    assert refused.exit_code == 3 and "NO_AUTH_FOUND" in refused.stderr and "wrongwrong" not in refused.stderr


def test_call_uses_the_config_default_portal(emulator, tmp_path):
    config = tmp_path / "b24kit.yaml"
    config.write_text(
        f"default_portal: local\nportals:\n  local:\n    url: {emulator.webhook_url}\n    limits: off\n"
    )
    result = invoke("call", "server.time", "--config", str(config))
    assert result.exit_code == 0 and json.loads(result.stdout).startswith("20")


def test_doctor_reports_each_check(emulator):
    result = invoke("doctor", "--portal", emulator.webhook_url)
    assert result.exit_code == 0, result.output
    for check in ("connectivity", "auth", "scopes", "clock", "limits"):
        assert check in result.stdout
    assert "incoming webhook of user 1" in result.stdout and "/rest/1/***/" in result.stdout


def test_doctor_says_what_to_fix_when_the_webhook_is_wrong(emulator):
    result = invoke("doctor", "--portal", emulator.webhook_url.replace("/secret/", "/nope1234/"))
    assert result.exit_code == 3
    assert "FAIL" in result.stdout and "create a new incoming webhook" in result.stdout


def test_parse_params_builds_nested_values():
    assert parse_params(["a[b][]=1", "a[b][]=2", "n:=5", "f[x]:=true"], '{"z": 1}') == {
        "z": 1,
        "a": {"b": ["1", "2"]},
        "n": 5,
        "f": {"x": True},
    }
