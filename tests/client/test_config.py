"""Settings: named portals from YAML, B24KIT_* overrides, ${VAR} references, clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from b24kit.client import Limits, OAuthAuth, SqliteTokenStore, WebhookAuth
from b24kit.config import load_settings
from b24kit.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    for name in ("B24KIT_CONFIG", "B24KIT_DEFAULT_PORTAL", "B24_SECRET"):
        monkeypatch.delenv(name, raising=False)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "b24kit.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_example_config_names_the_emulator_as_default():
    settings = load_settings(ROOT / "config.example.yaml")
    portal = settings.portal()
    assert settings.default_portal == "emulator" and portal.name == "emulator"
    assert portal.url == "http://127.0.0.1:8024/rest/1/secret/" and isinstance(portal.auth, WebhookAuth)
    assert portal.limits == Limits.preset("cloud")


def test_oauth_portal_with_env_secret_custom_limits_and_sqlite_store(tmp_path, monkeypatch):
    monkeypatch.setenv("B24_SECRET", "from-the-environment")
    path = write(
        tmp_path,
        """
default_portal: prod
portals:
  prod:
    url: https://example.bitrix24.ru/rest/
    auth: oauth
    client_id: local.1
    client_secret: ${B24_SECRET}
    refresh_token: r-123
    token_store: tokens.db
    limits: {burst: 250, rate: 5, operating_limit: 420, concurrency: 4}
    timeout: 30
""",
    )
    portal = load_settings(path).portal()
    assert isinstance(portal.auth, OAuthAuth)
    assert portal.auth.client_secret == "from-the-environment" and portal.auth.refresh_token == "r-123"
    assert (
        isinstance(portal.auth.store, SqliteTokenStore) and portal.auth.store.path == tmp_path / "tokens.db"
    )
    assert (portal.limits.burst, portal.limits.rate, portal.limits.operating_limit) == (250, 5.0, 420.0)
    assert portal.timeout == 30 and portal.name == "prod"


def test_environment_overrides_the_file(tmp_path, monkeypatch):
    path = write(tmp_path, "default_portal: a\nportals:\n  a: {url: 'http://h/rest/1/aaaaaaaa/'}\n")
    monkeypatch.setenv("B24KIT_DEFAULT_PORTAL", "b")
    monkeypatch.setenv("B24KIT_PORTALS__B__URL", "http://other/rest/2/bbbbbbbb/")
    monkeypatch.setenv("B24KIT_PORTALS__B__LIMITS", "enterprise")
    portal = load_settings(path).portal()
    assert portal.url == "http://other/rest/2/bbbbbbbb/" and portal.limits.burst == 250


def test_config_file_from_the_environment_variable(tmp_path, monkeypatch):
    path = write(tmp_path, "portals:\n  only: {url: 'http://h/rest/1/aaaaaaaa/'}\n")
    monkeypatch.setenv("B24KIT_CONFIG", str(path))
    assert load_settings().portal().name == "only"


def test_a_url_instead_of_a_name(tmp_path):
    portal = load_settings(write(tmp_path, "{}")).portal("https://x.bitrix24.ru/rest/9/abcdefgh/")
    assert portal.url == "https://x.bitrix24.ru/rest/9/abcdefgh/"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("portals:\n  a: {url: 'http://h/rest/1/x/', colour: red}\n", "portals.a.colour"),
        ("portals: [1, 2\n", "b24kit.yaml:2: not valid YAML"),
        ("- just\n- a list\n", "must be a mapping"),
        ("portals:\n  a: {url: '${B24_SECRET}'}\n", "${B24_SECRET} is used but the variable is not set"),
        ("portals:\n  a: {url: 'http://h/rest/1/x/', limits: turbo}\n", "portals.a.limits"),
        ("portals:\n  a: {url: 'nonsense'}\n", "not a Bitrix24 REST URL"),
        ("portals:\n  a: {url: 'https://h/rest/', auth: oauth}\n", "client_id and client_secret"),
    ],
)
def test_errors_name_the_file_and_the_field(tmp_path, text, message):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as raised:
        load_settings(path).portal("a")
    assert message in str(raised.value) and str(path) in str(raised.value)


def test_choosing_a_portal(tmp_path):
    two = write(
        tmp_path,
        "portals:\n  a: {url: 'http://h/rest/1/aaaaaaaa/'}\n  b: {url: 'http://h/rest/1/bbbbbbbb/'}\n",
    )
    with pytest.raises(ConfigError, match="no portal chosen"):
        load_settings(two).portal()
    with pytest.raises(ConfigError, match=r"no portal named 'c' \(configured: a, b\)"):
        load_settings(two).portal("c")
    with pytest.raises(ConfigError, match="cannot read"):
        load_settings(tmp_path / "missing.yaml")


def test_without_any_config_file_the_embedded_emulator_is_the_portal(tmp_path, monkeypatch):
    """No --config, no $B24KIT_CONFIG, no ./b24kit.yaml: commands talk to the emulator on 8024."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("B24KIT_CONFIG", raising=False)
    settings = load_settings()
    assert settings.source is None
    config = settings.portal()
    assert isinstance(config.auth, WebhookAuth)
    assert config.auth.url == "http://127.0.0.1:8024/rest/1/secret/"
    assert settings.portal("emulator").auth == config.auth
    with pytest.raises(ConfigError, match="no portal named 'prod'"):
        settings.portal("prod")
