"""Settings: the organisation's app.yaml plus secrets from the environment, in one typed object."""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from storage.engine import PG_POOL_SIZE
from storage.errors import ConfigError

Locale = Literal["en", "nl"]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./coach.db"
MAX_POOL_SIZE = 500
DEFAULT_CONFIG_PATH = "./app.yaml"
DEFAULT_SLACK_API_URL = "https://slack.com/api/"

# Key names that hold secrets: they belong in the environment, never in app.yaml.
_SECRET_KEY = re.compile(r"(token|secret|password|passwd|api_?key|private_?key|credential)", re.I)
_SECRET_VALUE = re.compile(r"^(xox[abpre]-|xapp-|-----BEGIN )")
_PLACEHOLDER = re.compile(r"^(|changeme|change-me|todo|xxx+|<.*>|\$\{.*\}|your[-_ ].*|.*-your-.*)$", re.I)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class QuietHours(_Strict):
    """No message is sent between start and end (local time); the window may cross midnight."""

    start: dt.time = dt.time(20, 0)
    end: dt.time = dt.time(7, 30)


class NudgeConfig(_Strict):
    lead_minutes: int = Field(60, ge=5, le=24 * 60)
    debrief_prompt_delay_minutes: int = Field(10, ge=0, le=24 * 60)


class DigestConfig(_Strict):
    weekday: Weekday = "mon"
    time: dt.time = dt.time(8, 30)


class CalendarConfig(_Strict):
    # A calendar file or feed larger than this is refused (parsing it would take minutes).
    max_feed_bytes: int = Field(20 * 1024 * 1024, ge=64 * 1024, le=1024 * 1024 * 1024)


class ServerConfig(_Strict):
    host: str = "127.0.0.1"
    port: int = Field(3978, ge=0, le=65535)
    webchat: bool = True
    # The web chat trusts whoever can reach it; it answers loopback only unless this is true.
    webchat_public: bool = False


class PersonRef(_Strict):
    """A person named in app.yaml by one of their platform identities."""

    name: str | None = None
    email: str | None = None
    slack_user_id: str | None = None
    aad_object_id: str | None = None

    @model_validator(mode="after")
    def _one_identity(self) -> PersonRef:
        if not (self.email or self.slack_user_id or self.aad_object_id):
            raise ValueError("needs one of email, slack_user_id or aad_object_id")
        return self


class TeamConfig(_Strict):
    name: str = Field(min_length=1)
    manager: PersonRef
    reps: list[PersonRef] = Field(default_factory=list)


class OrgConfig(_Strict):
    """Everything in app.yaml. No secrets: those come from the environment."""

    organisation: str = "Closing Coach"
    default_locale: Locale = "en"
    default_timezone: str = "Europe/Amsterdam"
    internal_domains: list[str] = Field(default_factory=list)
    working_days: list[Weekday] = Field(default_factory=lambda: list(WEEKDAYS[:5]))
    quiet_hours: QuietHours = QuietHours()
    nudge: NudgeConfig = NudgeConfig()
    digest: DigestConfig = DigestConfig()
    calendar: CalendarConfig = CalendarConfig()
    retention_days: int = Field(730, ge=1)
    edit_window_days: int = Field(7, ge=0, le=90)
    share_notes: bool = False
    server: ServerConfig = ServerConfig()
    teams: list[TeamConfig] = Field(default_factory=list)

    @field_validator("default_timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown IANA timezone {value!r} (e.g. Europe/Amsterdam)") from None
        return value

    @field_validator("internal_domains")
    @classmethod
    def _lower_domains(cls, value: list[str]) -> list[str]:
        return [d.strip().lower().lstrip("@") for d in value if d.strip()]

    @field_validator("working_days")
    @classmethod
    def _some_days(cls, value: list[Weekday]) -> list[Weekday]:
        if not value:
            raise ValueError("needs at least one working day")
        return sorted(set(value), key=WEEKDAYS.index)


class Settings(BaseModel):
    """The one settings object the app factory takes. Tests build their own."""

    model_config = ConfigDict(frozen=True)

    database_url: str = DEFAULT_DATABASE_URL
    # PostgreSQL connections this process keeps (every replica its own: keep replicas x size under
    # the server's max_connections). SQLite always uses one.
    database_pool_size: int = Field(default=PG_POOL_SIZE, ge=1, le=MAX_POOL_SIZE)
    config_path: str = DEFAULT_CONFIG_PATH
    org: OrgConfig = OrgConfig()
    demo: bool = False
    slack_bot_token: str | None = None
    slack_signing_secret: str | None = None
    slack_app_token: str | None = None
    slack_client_id: str | None = None
    slack_client_secret: str | None = None
    slack_api_url: str = DEFAULT_SLACK_API_URL
    microsoft_app_id: str | None = None
    microsoft_app_password: str | None = None
    microsoft_app_type: str = "MultiTenant"
    microsoft_app_tenant_id: str | None = None

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @classmethod
    def load(
        cls, env: Mapping[str, str] | None = None, **overrides: Any
    ) -> Settings:
        """Read app.yaml (COACH_CONFIG) and the environment; raise ConfigError naming the key."""
        env = os.environ if env is None else env
        explicit = "COACH_CONFIG" in env
        config_path = env.get("COACH_CONFIG", DEFAULT_CONFIG_PATH)
        org = load_org_config(Path(config_path), required=explicit)
        values: dict[str, Any] = {"config_path": config_path, "org": org}
        for field, var in _ENV_VARS.items():
            raw = env.get(var)
            if raw is None or raw.strip() == "":
                continue
            if field in _SECRET_FIELDS and _PLACEHOLDER.match(raw.strip()):
                raise ConfigError(f"environment: {var} is a placeholder ({raw!r}); set the real value")
            values[field] = raw.strip()
        if "database_pool_size" in values:
            size = values["database_pool_size"]
            if not size.isdigit() or not 1 <= int(size) <= MAX_POOL_SIZE:
                raise ConfigError(
                    f"environment: COACH_DATABASE_POOL_SIZE must be a whole number from 1 to "
                    f"{MAX_POOL_SIZE} ({size!r})"
                )
        values.update(overrides)
        return cls(**values)


_ENV_VARS = {
    "database_url": "COACH_DATABASE_URL",
    "database_pool_size": "COACH_DATABASE_POOL_SIZE",
    "slack_bot_token": "SLACK_BOT_TOKEN",
    "slack_signing_secret": "SLACK_SIGNING_SECRET",
    "slack_app_token": "SLACK_APP_TOKEN",
    "slack_client_id": "SLACK_CLIENT_ID",
    "slack_client_secret": "SLACK_CLIENT_SECRET",
    "slack_api_url": "SLACK_API_URL",
    "microsoft_app_id": "MicrosoftAppId",
    "microsoft_app_password": "MicrosoftAppPassword",
    "microsoft_app_type": "MicrosoftAppType",
    "microsoft_app_tenant_id": "MicrosoftAppTenantId",
}
_SECRET_FIELDS = {
    "slack_bot_token",
    "slack_signing_secret",
    "slack_app_token",
    "slack_client_secret",
    "microsoft_app_password",
}


def load_org_config(path: Path, *, required: bool = True) -> OrgConfig:
    """Parse and validate app.yaml; one ConfigError line names the file, the key and the fault."""
    if not path.exists():
        if required:
            raise ConfigError(f"{path}: file not found (COACH_CONFIG)")
        return OrgConfig()
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise ConfigError(f"{path}:{where}: {problem}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the top level must be a mapping of keys")
    _refuse_secrets(path, data, ())
    try:
        return OrgConfig.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        key = ".".join(str(p) for p in err["loc"]) or "(top level)"
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "unknown key"
        raise ConfigError(f"{path}: key '{key}': {msg}") from None


def _refuse_secrets(path: Path, node: Any, trail: tuple[str, ...]) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            here = (*trail, str(key))
            if _SECRET_KEY.search(str(key)) and value not in (None, ""):
                raise ConfigError(
                    f"{path}: key '{'.'.join(here)}': secrets are not allowed in app.yaml; "
                    "set them in the environment"
                )
            _refuse_secrets(path, value, here)
    elif isinstance(node, list):
        for i, item in enumerate(node):
            _refuse_secrets(path, item, (*trail, str(i)))
    elif isinstance(node, str) and _SECRET_VALUE.match(node):
        raise ConfigError(
            f"{path}: key '{'.'.join(trail)}': looks like a token; secrets belong in the environment"
        )
