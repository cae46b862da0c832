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
from cryptography.fernet import Fernet
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_serializer,
    field_validator,
    model_validator,
)
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from bot import log_messages as msg
from storage.engine import PG_POOL_SIZE
from storage.errors import ConfigError

Locale = Literal["en", "nl"]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./coach.db"
MAX_POOL_SIZE = 500
DEFAULT_CONFIG_PATH = "./app.yaml"
DEFAULT_SLACK_API_URL = "https://slack.com/api/"
DEFAULT_HUBSPOT_API_URL = "https://api.hubapi.com"
DEFAULT_HUBSPOT_APP_URL = "https://app.hubspot.com"  # where a HubSpot admin approves an OAuth install
DEFAULT_SALESFORCE_LOGIN_URL = "https://login.salesforce.com"
DEFAULT_SALESFORCE_API_VERSION = "v62.0"

# The fields that hold secrets: SecretStr (hidden in a repr, a log line, an error), and a
# placeholder value ("changeme", "<your token>") is refused.
SECRET_FIELDS = (
    "slack_bot_token",
    "slack_signing_secret",
    "slack_app_token",
    "slack_client_secret",
    "microsoft_app_password",
    "hubspot_access_token",
    "hubspot_client_secret",
    "salesforce_client_secret",
    "secret_key",
)

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
    prepare_working_days: int = Field(1, ge=1, le=2)


class DigestConfig(_Strict):
    weekday: Weekday = "mon"
    time: dt.time = dt.time(8, 30)


class CalendarConfig(_Strict):
    # A calendar file or feed larger than this is refused (parsing it would take minutes).
    max_feed_bytes: int = Field(20 * 1024 * 1024, ge=64 * 1024, le=1024 * 1024 * 1024)


class CrmConfig(_Strict):
    """The CRM sync (HubSpot, Salesforce); credentials come from the environment."""

    # The rep's own free-text notes per point go to the CRM only when this is true (as share_notes).
    include_notes: bool = False
    # The workspace a server-wide credential serves (HUBSPOT_ACCESS_TOKEN, the Salesforce JWT
    # flow): "slack:T0123", "teams:<tenant id>" or "web:local"; unset: the only workspace there is.
    workspace: str | None = None
    # The public HTTPS address of `coach serve`, for the OAuth redirect (default: the request's).
    public_url: str | None = None
    # How often deal stages are read back from the CRM.
    poll_minutes: int = Field(15, ge=1, le=24 * 60)


class ServerConfig(_Strict):
    host: str = "127.0.0.1"
    port: int = Field(3978, ge=0, le=65535)
    webchat: bool = True
    # The web chat trusts whoever can reach it; it answers loopback only unless this is true.
    webchat_public: bool = False
    # Without MicrosoftAppId, POST /api/messages is off; this turns on the local Bot Framework
    # Emulator instead (no token check: loopback callers, loopback Host and serviceUrl only).
    teams_emulator: bool = False


class LoggingConfig(_Strict):
    """How `coach` writes its log (stderr): text lines, or one JSON object a line."""

    format: Literal["text", "json"] = "text"
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"


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
    crm: CrmConfig = CrmConfig()
    server: ServerConfig = ServerConfig()
    logging: LoggingConfig = LoggingConfig()
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


class Settings(BaseSettings):
    """The one settings object the app factory takes: the environment part, plus app.yaml as `org`.

    `Settings(...)` holds exactly what it is given (tests and tools build their own);
    `Settings.load()` reads the environment and app.yaml, as `coach` does at start.
    """

    # validate_by_name: tests and tools pass field names, the environment uses the variable names.
    # hide_input_in_errors: a validation error never echoes a value, secrets included.
    model_config = SettingsConfigDict(
        frozen=True, validate_by_name=True, hide_input_in_errors=True, extra="forbid"
    )

    database_url: str = Field(DEFAULT_DATABASE_URL, validation_alias="COACH_DATABASE_URL")
    # PostgreSQL connections this process keeps (every replica its own: keep replicas x size under
    # the server's max_connections). SQLite always uses one.
    database_pool_size: int = Field(
        PG_POOL_SIZE, ge=1, le=MAX_POOL_SIZE, validation_alias="COACH_DATABASE_POOL_SIZE"
    )
    config_path: str = Field(DEFAULT_CONFIG_PATH, validation_alias="COACH_CONFIG")
    org: OrgConfig = OrgConfig()
    demo: bool = False
    slack_bot_token: SecretStr | None = Field(None, validation_alias="SLACK_BOT_TOKEN")
    slack_signing_secret: SecretStr | None = Field(None, validation_alias="SLACK_SIGNING_SECRET")
    slack_app_token: SecretStr | None = Field(None, validation_alias="SLACK_APP_TOKEN")
    slack_client_id: str | None = Field(None, validation_alias="SLACK_CLIENT_ID")
    slack_client_secret: SecretStr | None = Field(None, validation_alias="SLACK_CLIENT_SECRET")
    slack_api_url: str = Field(DEFAULT_SLACK_API_URL, validation_alias="SLACK_API_URL")
    microsoft_app_id: str | None = Field(None, validation_alias="MicrosoftAppId")
    microsoft_app_password: SecretStr | None = Field(None, validation_alias="MicrosoftAppPassword")
    microsoft_app_type: str = Field("MultiTenant", validation_alias="MicrosoftAppType")
    microsoft_app_tenant_id: str | None = Field(None, validation_alias="MicrosoftAppTenantId")
    hubspot_access_token: SecretStr | None = Field(None, validation_alias="HUBSPOT_ACCESS_TOKEN")
    hubspot_api_url: str = Field(DEFAULT_HUBSPOT_API_URL, validation_alias="HUBSPOT_API_URL")
    hubspot_app_url: str = Field(DEFAULT_HUBSPOT_APP_URL, validation_alias="HUBSPOT_APP_URL")
    hubspot_client_id: str | None = Field(None, validation_alias="HUBSPOT_CLIENT_ID")
    hubspot_client_secret: SecretStr | None = Field(None, validation_alias="HUBSPOT_CLIENT_SECRET")
    salesforce_login_url: str = Field(DEFAULT_SALESFORCE_LOGIN_URL, validation_alias="SALESFORCE_LOGIN_URL")
    salesforce_client_id: str | None = Field(None, validation_alias="SALESFORCE_CLIENT_ID")
    salesforce_client_secret: SecretStr | None = Field(None, validation_alias="SALESFORCE_CLIENT_SECRET")
    # The JWT bearer flow (a server install): the integration user and the connected app's key.
    salesforce_username: str | None = Field(None, validation_alias="SALESFORCE_USERNAME")
    salesforce_private_key_file: str | None = Field(None, validation_alias="SALESFORCE_PRIVATE_KEY_FILE")
    salesforce_api_version: str = Field(DEFAULT_SALESFORCE_API_VERSION, pattern=r"^v\d{2,3}\.\d$",
                                        validation_alias="SALESFORCE_API_VERSION")  # v62.0
    # Encrypts the CRM tokens the database stores.
    secret_key: SecretStr | None = Field(None, validation_alias="COACH_SECRET_KEY")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The environment is read by load() alone, so a Settings a test builds never picks up
        # a token from the shell that runs the tests.
        return (init_settings,)

    @field_validator(*SECRET_FIELDS, mode="before")
    @classmethod
    def _no_placeholder(cls, value: Any) -> Any:
        if isinstance(value, str):
            if not value.strip():
                return None
            if _PLACEHOLDER.match(value.strip()):
                raise ValueError(msg.CONFIG_PLACEHOLDER.format(value=value.strip()))
        return value

    @field_validator("secret_key")
    @classmethod
    def _fernet_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            try:
                Fernet(value.get_secret_value().encode())
            except (ValueError, TypeError):
                raise ValueError(msg.CONFIG_SECRET_KEY_FORMAT) from None
        return value

    @field_validator("database_pool_size", mode="before")
    @classmethod
    def _whole_number(cls, value: Any) -> Any:
        if isinstance(value, str) and not (value.isdigit() and 1 <= int(value) <= MAX_POOL_SIZE):
            raise ValueError(msg.CONFIG_POOL_SIZE.format(max=MAX_POOL_SIZE, value=value))
        return value

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def database_location(self) -> str:
        """The database as an operator reads it: a SQLite file by its absolute path, no password."""
        url = make_url(self.database_url)
        if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
            url = url.set(database=str(Path(url.database).resolve()))
        return url.render_as_string(hide_password=True)

    # The database URL may carry a password: a repr or a dump hides it, as SecretStr hides secrets.
    def __repr_args__(self) -> Any:
        for name, value in super().__repr_args__():
            yield name, (_without_password(value) if name == "database_url" else value)

    @field_serializer("database_url")
    def _dump_database_url(self, url: str) -> str:
        return _without_password(url)

    @classmethod
    def load(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Read the environment (or `env`) and app.yaml (COACH_CONFIG); raise ConfigError naming
        the variable or the file and key."""
        values = _Environment(cls, os.environ if env is None else env)()
        config_path = values.get("COACH_CONFIG", DEFAULT_CONFIG_PATH)
        org = load_org_config(Path(config_path), required="COACH_CONFIG" in values)
        for name in overrides:  # an override wins over the variable for the same field
            values.pop(_ENV_VARS.get(name, name), None)
        try:
            return cls(**values, org=org, **overrides)
        except ValidationError as exc:
            err = exc.errors()[0]
            where = str(err["loc"][0]) if err["loc"] else "(settings)"
            raise ConfigError(msg.CONFIG_ENVIRONMENT.format(
                var=_ENV_VARS.get(where, where), problem=err["msg"].removeprefix("Value error, ")
            )) from None


# Field name -> environment variable, for the fields read from the environment.
_ENV_VARS = {
    name: field.validation_alias
    for name, field in Settings.model_fields.items()
    if isinstance(field.validation_alias, str)
}


def _without_password(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "(not a database URL)"


class _Environment(PydanticBaseSettingsSource):
    """The environment as Settings.load reads it: each field's variable, trimmed; blank is unset."""

    def __init__(self, settings_cls: type[BaseSettings], environ: Mapping[str, str]) -> None:
        super().__init__(settings_cls)
        self.environ = environ

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        var = _ENV_VARS.get(field_name)
        raw = (self.environ.get(var) or "").strip() if var else ""
        return raw or None, var or field_name, False

    def __call__(self) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for name, field in self.settings_cls.model_fields.items():
            value, key, _ = self.get_field_value(field, name)
            if value is not None:
                values[key] = value
        return values


def load_org_config(path: Path, *, required: bool = True) -> OrgConfig:
    """Parse and validate app.yaml; one ConfigError line names the file, the key and the fault."""
    if not path.exists():
        if required:
            raise ConfigError(msg.CONFIG_NOT_FOUND.format(path=path))
        return OrgConfig()
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise ConfigError(msg.CONFIG_YAML_SYNTAX.format(path=path, where=where, problem=problem)) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(msg.CONFIG_NOT_A_MAPPING.format(path=path))
    _refuse_secrets(path, data, ())
    try:
        return OrgConfig.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        key = ".".join(str(p) for p in err["loc"]) or "(top level)"
        problem = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            problem = "unknown key"
        raise ConfigError(msg.CONFIG_BAD_KEY.format(path=path, key=key, problem=problem)) from None


def _refuse_secrets(path: Path, node: Any, trail: tuple[str, ...]) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            here = (*trail, str(key))
            if _SECRET_KEY.search(str(key)) and value not in (None, ""):
                raise ConfigError(msg.CONFIG_SECRET_KEY.format(path=path, key=".".join(here)))
            _refuse_secrets(path, value, here)
    elif isinstance(node, list):
        for i, item in enumerate(node):
            _refuse_secrets(path, item, (*trail, str(i)))
    elif isinstance(node, str) and _SECRET_VALUE.match(node):
        raise ConfigError(msg.CONFIG_SECRET_VALUE.format(path=path, key=".".join(trail)))
