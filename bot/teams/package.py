"""`coach teams package`: the Teams app package (manifest.json + two icons) to sideload.

The manifest follows the Teams app manifest schema v1.29; wording comes from prompts/en/teams.yaml.
Each other locale of prompts/ (nl) ships as a localization file (`nl.json`, the shape of
MicrosoftTeams.Localization.schema.json: "name.short", "description.short",
"bots[0].commandLists[0].commands[i].description", ...) listed in `localizationInfo`, so a Teams
client in Dutch shows the Dutch descriptions. The command titles stay the words the bot reads.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw

from dialogs.text import Texts
from storage.errors import ConfigError

MANIFEST_VERSION = "1.29"
SCHEMA_URL = f"https://developer.microsoft.com/en-us/json-schemas/teams/v{MANIFEST_VERSION}/MicrosoftTeams.schema.json"
LOCALIZATION_SCHEMA_URL = (f"https://developer.microsoft.com/en-us/json-schemas/teams/v{MANIFEST_VERSION}"
                           "/MicrosoftTeams.Localization.schema.json")
ADDITIONAL_LANGUAGES = ("nl",)  # prompts/ locales besides the manifest's own (en)
ACCENT = "#1F6F5C"
_GUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
COMMANDS = ("debrief", "history", "help", "language")


@dataclass(frozen=True)
class Publisher:
    """Who publishes the app, as the Teams store dialog shows it (all https URLs)."""

    name: str
    website_url: str
    privacy_url: str
    terms_url: str


def manifest(*, bot_id: str, texts: Texts, publisher: Publisher, version: str = "1.0.0",
             locale: str = "en", languages: tuple[str, ...] = ADDITIONAL_LANGUAGES) -> dict[str, Any]:
    if not _GUID.match(bot_id or ""):
        raise ConfigError(f"MicrosoftAppId: {bot_id!r} is not a GUID (the bot's Azure app id)")

    def t(key: str) -> str:
        return texts.render(locale, "teams", key)

    localization: dict[str, Any] = {"defaultLanguageTag": locale}
    if languages:
        localization["additionalLanguages"] = [
            {"languageTag": lang, "file": localization_file(lang)} for lang in languages]
    return {
        "$schema": SCHEMA_URL,
        "manifestVersion": MANIFEST_VERSION,
        "version": version,
        "id": bot_id.lower(),
        "developer": {
            "name": publisher.name[:32],
            "websiteUrl": publisher.website_url,
            "privacyUrl": publisher.privacy_url,
            "termsOfUseUrl": publisher.terms_url,
        },
        "name": {"short": "Closing Coach", "full": "Closing Coach: coaching for B2B sales reps"},
        "description": {"short": t("app_short_description")[:80], "full": t("app_full_description")[:4000]},
        "localizationInfo": localization,
        "icons": {"color": "color.png", "outline": "outline.png"},
        "accentColor": ACCENT,
        "bots": [{
            "botId": bot_id.lower(),
            "scopes": ["personal", "team"],
            "supportsFiles": False,
            "isNotificationOnly": False,
            "commandLists": [{
                "scopes": ["personal"],
                "commands": [{"title": c, "description": t(f"command_{c}")[:128]} for c in COMMANDS],
            }],
        }],
        "permissions": ["identity", "messageTeamMembers"],
        "validDomains": [],
        "defaultInstallScope": "personal",
    }


def localization_file(lang: str) -> str:
    return f"{lang}.json"


def localization(*, texts: Texts, locale: str, app_manifest: dict[str, Any]) -> dict[str, Any]:
    """The manifest's strings in another language, keyed by their path in the manifest."""

    def t(key: str) -> str:
        return texts.render(locale, "teams", key)

    out: dict[str, Any] = {
        "$schema": LOCALIZATION_SCHEMA_URL,
        "name.short": app_manifest["name"]["short"],
        "name.full": app_manifest["name"]["full"],
        "description.short": t("app_short_description")[:80],
        "description.full": t("app_full_description")[:4000],
    }
    for i, command in enumerate(app_manifest["bots"][0]["commandLists"][0]["commands"]):
        out[f"bots[0].commandLists[0].commands[{i}].title"] = command["title"]
        out[f"bots[0].commandLists[0].commands[{i}].description"] = t(f"command_{command['title']}")[:128]
    return out


def color_icon() -> bytes:
    """192x192, full colour: a white check mark in a rounded square of the accent colour."""
    img = Image.new("RGBA", (192, 192), (0, 0, 0, 0))
    draw = ImageDraw.Draw(img)
    draw.rounded_rectangle((0, 0, 191, 191), radius=36, fill=ACCENT)
    draw.line([(48, 100), (82, 134), (146, 62)], fill="white", width=18, joint="curve")
    return _png(img)


def outline_icon() -> bytes:
    """32x32, white on transparent (Teams tints it): the same check mark in a white ring."""
    img = Image.new("RGBA", (32, 32), (0, 0, 0, 0))
    draw = ImageDraw.Draw(img)
    draw.ellipse((1, 1, 30, 30), outline=(255, 255, 255, 255), width=2)
    draw.line([(9, 16), (14, 21), (23, 11)], fill=(255, 255, 255, 255), width=3)
    return _png(img)


def _png(img: Image.Image) -> bytes:
    out = io.BytesIO()
    img.save(out, format="PNG")
    return out.getvalue()


def write_package(path: Path, app_manifest: dict[str, Any], texts: Texts | None = None) -> Path:
    """teams-app.zip with manifest.json, a localization file per additional language (its
    strings from `texts`) and the icons at the root, as Teams expects."""
    path.parent.mkdir(parents=True, exist_ok=True)
    languages = app_manifest.get("localizationInfo", {}).get("additionalLanguages", [])
    if languages and texts is None:
        raise ConfigError("the manifest lists localization files: pass the texts to write them")
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("manifest.json", json.dumps(app_manifest, indent=2, ensure_ascii=False))
        for lang in languages:
            assert texts is not None
            strings = localization(texts=texts, locale=lang["languageTag"], app_manifest=app_manifest)
            zf.writestr(lang["file"], json.dumps(strings, indent=2, ensure_ascii=False))
        zf.writestr("color.png", color_icon())
        zf.writestr("outline.png", outline_icon())
    return path
