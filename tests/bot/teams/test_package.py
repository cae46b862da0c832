"""`coach teams package` writes a sideloadable teams-app.zip; `coach send-test` reaches a rep."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import jsonschema
import pytest
from PIL import Image

from bot.cli import main
from tests.bot.teams.conftest import TeamsUser
from tests.conftest import shared_path

BOT_ID = "6F1D3E5A-0000-4000-8000-00000000C0AC"


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("COACH_CONFIG", raising=False)
    monkeypatch.setenv("COACH_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'coach.db'}")
    monkeypatch.setenv("MicrosoftAppId", BOT_ID)
    return tmp_path


def test_package_manifest_validates_and_icons_have_teams_sizes(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["teams", "package", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    with zipfile.ZipFile(env / "teams-app.zip") as zf:
        assert sorted(zf.namelist()) == ["color.png", "manifest.json", "nl.json", "outline.png"]
        manifest = json.loads(zf.read("manifest.json"))
        dutch = json.loads(zf.read("nl.json"))
        color = Image.open(io.BytesIO(zf.read("color.png")))
        outline = Image.open(io.BytesIO(zf.read("outline.png")))
    path = shared_path("oracles", "teams", "MicrosoftTeams.schema.v1.29.json")
    schema = json.loads(path.read_text("utf-8"))
    errors = [e.message for e in jsonschema.Draft7Validator(schema).iter_errors(manifest)]
    assert errors == []
    assert out["bot_id"] == BOT_ID.lower() == manifest["bots"][0]["botId"]
    assert manifest["manifestVersion"] == "1.29"
    titles = [c["title"] for c in manifest["bots"][0]["commandLists"][0]["commands"]]
    assert titles == ["debrief", "history", "help", "language"]
    # Dutch tenants: the localization file listed in localizationInfo, keyed by manifest paths.
    assert manifest["localizationInfo"] == {
        "defaultLanguageTag": "en", "additionalLanguages": [{"languageTag": "nl", "file": "nl.json"}]}
    assert dutch["$schema"].endswith("/v1.29/MicrosoftTeams.Localization.schema.json")
    commands = manifest["bots"][0]["commandLists"][0]["commands"]
    for key, value in dutch.items():
        if key.startswith("bots[0].commandLists[0].commands["):
            index, field = key.removeprefix("bots[0].commandLists[0].commands[").split("].")
            assert field in commands[int(index)]  # every key names a string the manifest has
            if field == "title":
                assert value == commands[int(index)]["title"]  # the words the bot reads
        else:
            assert key == "$schema" or key.split(".")[0] in manifest
    assert dutch["bots[0].commandLists[0].commands[0].description"].startswith("Een klantgesprek debriefen")
    assert dutch["description.short"] != manifest["description"]["short"]
    assert all(len(dutch[f"bots[0].commandLists[0].commands[{i}].description"]) <= 128 for i in range(4))
    assert color.size == (192, 192) and color.format == "PNG"
    assert outline.size == (32, 32) and outline.mode == "RGBA"
    # The outline icon is white on transparent: no other colour, and some of it transparent.
    pixels = [p for x in range(32) for y in range(32) if (p := outline.getpixel((x, y)))[3] > 0]
    assert pixels and all(p[:3] == (255, 255, 255) for p in pixels)
    assert len(pixels) < 32 * 32


def test_package_without_a_bot_id_says_what_to_set(
    env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("MicrosoftAppId")
    assert main(["teams", "package"]) == 2
    assert "MicrosoftAppId" in capsys.readouterr().err
    assert not (env / "teams-app.zip").exists()


async def test_send_test_reaches_the_reps_chat(rep: TeamsUser, monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    assert await rep.say("hello") == 201
    rep.connector.clear()
    from bot.app import SETTINGS

    monkeypatch.setenv("COACH_DATABASE_URL", rep.live.app[SETTINGS].database_url)
    monkeypatch.delenv("COACH_CONFIG", raising=False)
    import asyncio

    code = await asyncio.to_thread(main, ["send-test", "--person", rep.aad, "--text", "Ping *you*", "--json"])
    assert code == 0
    assert json.loads(capsys.readouterr().out)["sent"] is True
    sent = rep.connector.sent()
    assert len(sent) == 1 and sent[0].conversation_id == rep.conversation
    assert sent[0].text == "Ping *you*" and sent[0].body["textFormat"] == "plain"  # raw, as typed
