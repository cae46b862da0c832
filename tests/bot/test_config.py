"""Settings: app.yaml validated at start with one-line errors naming file and key; env secrets."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from pydantic import ValidationError

from bot.config import OrgConfig, Settings, load_org_config
from storage.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]

# (app.yaml text, the key the error must name, a word of what is wrong)
BAD_CONFIGS = [
    ("colour: blue\n", "colour", "unknown key"),
    ("quiet_hours:\n  start: '20:00'\n  finish: '07:00'\n", "quiet_hours.finish", "unknown key"),
    ("default_timezone: Europe/Amsterdm\n", "default_timezone", "Europe/Amsterdm"),
    ("quiet_hours:\n  start: '25:61'\n", "quiet_hours.start", "time"),
    ("digest:\n  time: noon\n", "digest.time", "time"),
    ("digest:\n  weekday: funday\n", "digest.weekday", "mon"),
    ("default_locale: fr\n", "default_locale", "en"),
    ("working_days: []\n", "working_days", "working day"),
    ("nudge:\n  lead_minutes: 1\n", "nudge.lead_minutes", "5"),
    ("server:\n  port: 70000\n", "server.port", "65535"),
    ("teams:\n  - name: North\n    manager: {name: Mark}\n", "teams.0.manager", "email"),
    ("slack_bot_token: xoxb-1234-5678-abcdef\n", "slack_bot_token", "secret"),
    ("slack:\n  signing_secret: 8f2a9c\n", "slack.signing_secret", "secret"),
    ("MicrosoftAppPassword: hunter2\n", "MicrosoftAppPassword", "secret"),
    ("organisation: xoxp-1234-5678\n", "organisation", "token"),
]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "app.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_shipped_example_is_valid() -> None:
    org = load_org_config(ROOT / "app.yaml")
    assert org.default_locale in ("en", "nl")
    assert org.server.host == "127.0.0.1" and not org.server.webchat_public
    assert org.quiet_hours.start == dt.time(20, 0)
    assert org.edit_window_days == 7


def test_defaults_without_a_file(tmp_path: Path) -> None:
    assert load_org_config(tmp_path / "absent.yaml", required=False) == OrgConfig()
    assert load_org_config(write(tmp_path, ""), required=True) == OrgConfig()
    with pytest.raises(ConfigError, match=r"absent\.yaml: file not found"):
        load_org_config(tmp_path / "absent.yaml", required=True)


def test_values_are_parsed_and_normalised(tmp_path: Path) -> None:
    org = load_org_config(
        write(
            tmp_path,
            (
                "default_locale: nl\n"
                "default_timezone: America/New_York\n"
                "internal_domains: ['@Example.COM', ' sales.example.com ', '']\n"
                "working_days: [fri, mon, mon]\n"
                "quiet_hours: {start: '21:30', end: '06:00'}\n"
                "teams:\n  - name: North\n    manager: {email: mark@example.com}\n"
                "    reps: [{slack_user_id: U1}, {aad_object_id: 0000-1111}]\n"
            ),
        )
    )
    assert org.default_locale == "nl"
    assert org.internal_domains == ["example.com", "sales.example.com"]
    assert org.working_days == ["mon", "fri"]
    assert org.quiet_hours.start == dt.time(21, 30) and org.quiet_hours.end == dt.time(6, 0)
    assert org.teams[0].manager.email == "mark@example.com" and len(org.teams[0].reps) == 2


@pytest.mark.parametrize(("text", "key", "what"), BAD_CONFIGS)
def test_a_bad_app_yaml_is_one_line_naming_file_and_key(
    tmp_path: Path, text: str, key: str, what: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        load_org_config(path)
    message = err.value.message
    assert "\n" not in message
    assert message.startswith(f"{path}: ")
    assert f"'{key}'" in message
    assert what.casefold() in message.casefold()


@pytest.mark.parametrize("text", ["a: [1, 2\n", "key: value\n  bad indent: x\n", "\tcolour: tab\n"])
def test_yaml_syntax_errors_name_the_line(tmp_path: Path, text: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        load_org_config(path)
    assert "\n" not in err.value.message
    assert err.value.message.startswith(f"{path}:") and " line " in err.value.message


def test_top_level_must_be_a_mapping(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="top level must be a mapping"):
        load_org_config(write(tmp_path, "- a\n- b\n"))


# -- the environment --------------------------------------------------------------------------------
def test_settings_from_the_environment(tmp_path: Path) -> None:
    config = write(tmp_path, "default_locale: nl\n")
    settings = Settings.load(
        {
            "COACH_CONFIG": str(config),
            "COACH_DATABASE_URL": "postgresql+asyncpg://coach@db/coach",
            "SLACK_BOT_TOKEN": "xoxb-real-looking-token",
            "SLACK_SIGNING_SECRET": " 8f2a9c0e ",
            "MicrosoftAppId": "",
            "COACH_DATABASE_POOL_SIZE": "8",
        }
    )
    assert settings.database_pool_size == 8
    assert settings.org.default_locale == "nl"
    assert settings.database_url == "postgresql+asyncpg://coach@db/coach" and not settings.is_sqlite
    assert settings.slack_bot_token is not None and settings.slack_signing_secret is not None
    assert settings.slack_bot_token.get_secret_value() == "xoxb-real-looking-token"
    assert settings.slack_signing_secret.get_secret_value() == "8f2a9c0e"
    assert settings.microsoft_app_id is None
    assert settings.config_path == str(config)


def test_defaults_when_nothing_is_set(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # no ./app.yaml here: the default file is optional
    settings = Settings.load({})
    assert settings.database_url == "sqlite+aiosqlite:///./coach.db" and settings.is_sqlite
    assert settings.org == OrgConfig()


@pytest.mark.parametrize("value", ["lots", "0", "-3", "2.5", "501"])
def test_a_pool_size_that_is_no_size_is_refused(tmp_path: Path, value: str) -> None:
    with pytest.raises(ConfigError) as err:
        Settings.load({"COACH_CONFIG": str(write(tmp_path, "")), "COACH_DATABASE_POOL_SIZE": value})
    assert err.value.message.startswith("environment: COACH_DATABASE_POOL_SIZE must be a whole number")
    assert repr(value) in err.value.message and "\n" not in err.value.message


def test_an_explicit_coach_config_must_exist(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"missing\.yaml: file not found"):
        Settings.load({"COACH_CONFIG": str(tmp_path / "missing.yaml")})


@pytest.mark.parametrize(
    ("var", "value"),
    [
        ("SLACK_BOT_TOKEN", "changeme"),
        ("SLACK_SIGNING_SECRET", "<your signing secret>"),
        ("SLACK_APP_TOKEN", "${SLACK_APP_TOKEN}"),
        ("SLACK_CLIENT_SECRET", "xxxx"),
        ("MicrosoftAppPassword", "your-password"),
        ("SLACK_BOT_TOKEN", "TODO"),
        ("SLACK_BOT_TOKEN", "xoxb-your-token"),
    ],
)
def test_placeholder_secrets_are_refused(tmp_path: Path, var: str, value: str) -> None:
    with pytest.raises(ConfigError) as err:
        Settings.load({"COACH_CONFIG": str(write(tmp_path, "")), var: value})
    assert err.value.message.startswith(f"environment: {var} ")
    assert "placeholder" in err.value.message and "\n" not in err.value.message


# -- secrets stay out of what is printed -------------------------------------------------------------
SECRETS = {
    "SLACK_BOT_TOKEN": "xoxb-1111-2222-realbottoken",
    "SLACK_SIGNING_SECRET": "8f2a9c0e5d7b4a1c",
    "SLACK_APP_TOKEN": "xapp-1-A111-realapptoken",
    "SLACK_CLIENT_SECRET": "c1i3nt-5ecr3t-0f-slack",
    "MicrosoftAppPassword": "Ms~app~pa55~9876",
    "HUBSPOT_ACCESS_TOKEN": "pat-eu1-realhubspottoken",
    "COACH_SECRET_KEY": "azN5LTBmLXRoZS12YXVsdC0zMi1ieXRlcy1sb25nISE=",  # a Fernet key
}
DB_PASSWORD = "db-pa55word"


def test_no_secret_in_a_repr_or_an_error(tmp_path: Path) -> None:
    env = {
        "COACH_CONFIG": str(write(tmp_path, "")),
        "COACH_DATABASE_URL": f"postgresql+asyncpg://coach:{DB_PASSWORD}@db/coach",
        **SECRETS,
    }
    settings = Settings.load(env)
    assert settings.slack_bot_token is not None
    assert settings.slack_bot_token.get_secret_value() == SECRETS["SLACK_BOT_TOKEN"]  # there, hidden
    assert settings.database_location == "postgresql+asyncpg://coach:***@db/coach"
    shown = [repr(settings), str(settings), f"{settings}", settings.model_dump_json()]

    # Validation errors: a bad variable beside the secrets, and secrets pydantic itself refuses.
    with pytest.raises(ConfigError) as bad_size:
        Settings.load({**env, "COACH_DATABASE_POOL_SIZE": "lots"})
    shown.append(bad_size.value.message)
    with pytest.raises(ValidationError) as refused:
        Settings(
            slack_bot_token=[SECRETS["SLACK_BOT_TOKEN"]],
            microsoft_app_password={"value": SECRETS["MicrosoftAppPassword"]},
            secret_key=SECRETS["COACH_SECRET_KEY"],
            database_pool_size=0,
        )
    assert {e["loc"][0] for e in refused.value.errors()} >= {"slack_bot_token", "microsoft_app_password"}
    shown += [str(refused.value), repr(refused.value)]

    for text in shown:
        for secret in (*SECRETS.values(), DB_PASSWORD):
            assert secret not in text, text
