"""Runtime settings: named portals from a YAML file and ``B24KIT_*`` variables (the only env reader)."""

from __future__ import annotations

import contextvars
import os
import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, SecretStr, ValidationError, field_validator
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from b24kit.client import Limits, OAuthAuth, PortalConfig, Retry, WebhookAuth, token_store
from b24kit.client._auth import DEFAULT_TOKEN_URL
from b24kit.errors import ConfigError
from b24kit.jobs.settings import RunnerSettings

DEFAULT_FILE = "b24kit.yaml"
# With no config file at all, commands talk to the embedded default: the emulator that
# `b24kit emulator serve` starts on port 8024 (the same portal config.example.yaml names).
EMBEDDED_PORTAL = "emulator"
EMBEDDED_PORTAL_URL = "http://127.0.0.1:8024/rest/1/secret/"
_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_CONFIG_FILE: contextvars.ContextVar[Path | None] = contextvars.ContextVar("b24kit_config_file", default=None)


class LimitsSettings(BaseModel):
    """Custom limits instead of a preset (see :class:`b24kit.client.Limits`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    burst: int | None = 50
    rate: float = 2.0
    operating_limit: float | None = 480.0
    operating_headroom: float = 10.0
    concurrency: int = 8


class PortalSettings(BaseModel):
    """One portal in the config file: a webhook URL, or an OAuth app with its tokens."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    url: str = Field(
        description="webhook URL (https://PORTAL/rest/1/SECRET/) or app endpoint (https://PORTAL/rest/)"
    )
    auth: Literal["webhook", "oauth"] | None = None
    client_id: str | None = None
    client_secret: SecretStr | None = None
    access_token: SecretStr | None = None
    refresh_token: SecretStr | None = None
    token_url: str = DEFAULT_TOKEN_URL
    token_store: Path | None = None
    limits: Literal["cloud", "enterprise", "off"] | LimitsSettings = "cloud"
    timeout: float = Field(60.0, gt=0)
    connect_timeout: float = Field(10.0, gt=0)
    verify_tls: bool | str = True
    retries: int = Field(6, ge=1)

    @field_validator("limits", mode="before")
    @classmethod
    def _yaml_off(cls, value: Any) -> Any:
        """YAML reads a bare ``off`` as ``False``."""
        return "off" if value is False else value

    @property
    def kind(self) -> str:
        return self.auth or ("oauth" if self.client_id else "webhook")

    def client_config(self, name: str, base_dir: Path) -> PortalConfig:
        """The client's :class:`PortalConfig` for this portal."""
        limits = (
            Limits.preset(self.limits) if isinstance(self.limits, str) else Limits(**self.limits.model_dump())
        )
        return PortalConfig(
            self._auth(name, base_dir),
            limits,
            Retry(attempts=self.retries),
            self.timeout,
            self.connect_timeout,
            self.verify_tls,
            name,
        )

    def _auth(self, name: str, base_dir: Path) -> WebhookAuth | OAuthAuth:
        if self.kind == "webhook":
            return WebhookAuth(self.url)
        if not self.client_id or self.client_secret is None:
            raise ConfigError(
                "an OAuth portal needs client_id and client_secret", field=f"portals.{name}.auth"
            )
        store_path = self.token_store or base_dir / ".b24kit-tokens.json"
        return OAuthAuth(
            endpoint=self.url,
            client_id=self.client_id,
            client_secret=self.client_secret.get_secret_value(),
            access_token=self.access_token.get_secret_value() if self.access_token else "",
            refresh_token=self.refresh_token.get_secret_value() if self.refresh_token else "",
            token_url=self.token_url,
            store=token_store(store_path if store_path.is_absolute() else base_dir / store_path),
            store_key=name,
        )


class _YamlFile(PydanticBaseSettingsSource):
    """The config file, with ``${VAR}`` replaced from the environment."""

    def __init__(self, settings_cls: type[BaseSettings]) -> None:
        super().__init__(settings_cls)
        path = _CONFIG_FILE.get()
        self.data = read_yaml(path) if path is not None else {}

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return self.data.get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return dict(self.data)


class Settings(BaseSettings):
    """Everything b24kit reads at start-up: file values, overridden by ``B24KIT_*`` variables.

    ``B24KIT_DEFAULT_PORTAL=prod``, ``B24KIT_PORTALS__PROD__CLIENT_SECRET=...`` (``__`` nests).
    """

    model_config = SettingsConfigDict(env_prefix="B24KIT_", env_nested_delimiter="__", extra="forbid")

    default_portal: str | None = None
    portals: dict[str, PortalSettings] = Field(default_factory=dict)
    runner: RunnerSettings = Field(default_factory=RunnerSettings)
    _source: Path | None = PrivateAttr(None)

    @property
    def source(self) -> Path | None:
        """The file these settings were read from, if any."""
        return self._source

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return init_settings, env_settings, _YamlFile(settings_cls)

    def portal(self, name_or_url: str | None = None) -> PortalConfig:
        """The portal called ``name_or_url``, a webhook URL given directly, or the default."""
        base_dir = self.source.parent if self.source is not None else Path.cwd()
        if name_or_url and "://" in name_or_url:
            return PortalConfig.from_url(name_or_url, name="command line")
        name = name_or_url or self.default_portal
        if name is None and len(self.portals) == 1:
            name = next(iter(self.portals))
        if self.source is None and not self.portals and name in (None, EMBEDDED_PORTAL):
            return PortalSettings(url=EMBEDDED_PORTAL_URL).client_config(EMBEDDED_PORTAL, base_dir)
        if name is None:
            raise ConfigError(
                "no portal chosen",
                source=str(self.source) if self.source else None,
                suggestion="pass --portal NAME|URL, or set default_portal in the config file",
            )
        found = self.portals.get(name)
        if found is None:
            known = ", ".join(sorted(self.portals)) or "none"
            raise ConfigError(
                f"no portal named {name!r} (configured: {known})",
                source=str(self.source) if self.source else None,
                field="portals",
            )
        try:
            return found.client_config(name, base_dir)
        except ConfigError as exc:
            field = (
                exc.field
                if exc.field and exc.field.startswith("portals.")
                else f"portals.{name}.{exc.field or 'url'}"
            )
            raise ConfigError(
                exc.message,
                source=str(self.source) if self.source else None,
                field=field,
                suggestion=exc.suggestion,
            ) from None


def config_path(path: str | os.PathLike[str] | None = None) -> Path | None:
    """The config file to read: ``path``, else ``$B24KIT_CONFIG``, else ``./b24kit.yaml`` if present."""
    if path:
        return Path(path)
    from_env = os.environ.get("B24KIT_CONFIG")
    if from_env:
        return Path(from_env)
    default = Path(DEFAULT_FILE)
    return default if default.exists() else None


def load_settings(path: str | os.PathLike[str] | None = None) -> Settings:
    """Read the settings; every problem becomes a :class:`ConfigError` naming file and field."""
    file = config_path(path)
    token = _CONFIG_FILE.set(file)
    try:
        settings = Settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise ConfigError(first["msg"], source=str(file) if file else "environment", field=where) from None
    finally:
        _CONFIG_FILE.reset(token)
    settings._source = file
    return settings


def read_yaml(path: Path) -> dict[str, Any]:
    """A YAML mapping with ``${VAR}`` references replaced; a missing variable is an error."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read the config file: {exc.strerror}", source=str(path)) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise ConfigError(
            f"not valid YAML: {getattr(exc, 'problem', exc)}", source=str(path), line=line
        ) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError("the config file must be a mapping (portals:, default_portal:)", source=str(path))
    substituted: dict[str, Any] = _substitute(data, path)
    return substituted


def _substitute(value: Any, path: Path) -> Any:
    if isinstance(value, dict):
        return {k: _substitute(v, path) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute(v, path) for v in value]
    if isinstance(value, str):
        return _ENV_REF.sub(lambda m: _env(m.group(1), path), value)
    return value


def _env(name: str, path: Path) -> str:
    value = os.environ.get(name)
    if value is None:
        raise ConfigError(f"${{{name}}} is used but the variable is not set", source=str(path), field=name)
    return value
