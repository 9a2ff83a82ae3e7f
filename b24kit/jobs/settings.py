"""The ``runner:`` section of the config file: where the runner listens, keeps state, finds jobs.

```yaml
runner:
  listen: {host: 127.0.0.1, port: 8080}
  public_url: https://b24kit.example.com     # what the portal calls (robot and event handlers)
  state: sqlite:///.b24kit/runner.db          # or postgresql+psycopg://user@host/db
  jobs: [jobs/*.yaml]
  portals:
    prod:
      events: online                          # online (POSTs to us) | offline (we poll)
      auth_connector: b24kit                  # offline: our own writes are not queued back
      reconcile: {every_minutes: 15}
```

This module imports nothing but pydantic, so ``b24kit.config`` can embed it.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Listen(_Section):
    host: str = "127.0.0.1"
    port: int = Field(8080, ge=0, le=65535, description="0 picks a free port (printed at start).")


class RetrySettings(_Section):
    """Attempts per task and the backoff between them (doubling, with jitter, capped)."""

    attempts: int = Field(8, ge=1, le=100)
    backoff: float = Field(2.0, gt=0, description="Seconds before the second attempt.")
    max_backoff: float = Field(900.0, gt=0)


class OfflineSettings(_Section):
    """Polling ``event.offline.get`` (when the portal cannot reach the runner)."""

    poll_seconds: float = Field(5.0, gt=0)
    batch: int = Field(50, ge=1, le=1000)


class ReconcileSettings(_Section):
    """The periodic scan by modification time that heals missed events."""

    every_minutes: float | None = Field(None, gt=0, description="Off unless set.")
    entities: tuple[str, ...] = Field(
        (), description="deal, lead, contact, company, or an entityTypeId; default: those jobs watch."
    )
    lag_seconds: int = Field(300, ge=0, description="Re-scan this far back (late writes, clock skew).")

    @field_validator("entities")
    @classmethod
    def _lower(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(str(v).strip().lower() for v in value)


class RunnerPortal(_Section):
    """What the runner needs about one configured portal, besides its ``portals:`` entry."""

    application_token: SecretStr | None = Field(
        None,
        description="Checks events from an outgoing webhook; apps learn theirs from ONAPPINSTALL.",
    )
    events: Literal["online", "offline"] = "online"
    auth_connector: str | None = Field(
        "b24kit",
        min_length=1,
        max_length=50,
        pattern=r"^[A-Za-z0-9_.\-]+$",
        description="Offline events: the key their bindings and the runner's calls carry, so the"
        " portal does not queue the runner's own writes back (null: no key).",
    )
    portal_url: str | None = Field(None, description="Links in notifications (default: from the install).")
    language: Literal["ru", "en"] = "ru"
    offline: OfflineSettings = Field(default_factory=OfflineSettings)
    reconcile: ReconcileSettings = Field(default_factory=ReconcileSettings)


class WebhookSource(_Section):
    """An inbound webhook at ``/webhooks/{kind}/{name}``, checked with ``secret``."""

    kind: str = Field("generic", min_length=1)
    secret: SecretStr
    portal: str | None = Field(None, description="The portal its jobs act on (default portal if unset).")


class RunnerSettings(_Section):
    """Everything ``b24kit serve`` needs besides the portals."""

    listen: Listen = Field(default_factory=Listen)
    public_url: str | None = Field(None, description="Base URL the portal calls; default http://host:port.")
    state: str = Field(
        "sqlite:///.b24kit/runner.db", description="The runner's state store (SQLAlchemy URL)."
    )
    durability: Literal["full", "normal"] = Field(
        "full", description="SQLite: full fsyncs every commit; normal survives a crash, not a power cut."
    )
    sync_state: str | None = Field(None, description="State store for sync jobs (default: the sync default).")
    jobs: tuple[str, ...] = Field(("jobs/*.yaml",), description="Job files (globs, relative to the config).")
    plugins: tuple[str, ...] = Field((), description="Modules imported at start (they register handlers).")
    workers: int = Field(4, ge=1, le=256)
    debounce_seconds: float = Field(
        1.0, ge=0, description="An event waits this long so later events for its record merge into it."
    )
    dedupe_seconds: float = Field(
        3600.0, ge=0, description="A repeated delivery within this window is dropped."
    )
    lease_seconds: float = Field(600.0, gt=0, description="A task running longer is assumed lost and re-run.")
    max_body_bytes: int = Field(1_048_576, ge=1024)
    limit_wait_seconds: float = Field(
        30.0,
        gt=0,
        description="A portal limit wait longer than this frees the worker: the task returns at the reset.",
    )
    retry: RetrySettings = Field(default_factory=RetrySettings)
    portals: dict[str, RunnerPortal] = Field(
        default_factory=dict, description="Runner options per portal; portals not listed get the defaults."
    )
    webhooks: dict[str, WebhookSource] = Field(default_factory=dict)
