"""Reading one of prompts/' YAML files: a mapping, or a ConfigError naming the file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from storage.errors import ConfigError


def read_mapping(path: Path) -> dict[str, Any]:
    """The file's top-level mapping; a file that cannot be read or parsed, or holds something
    else, stops the bot at start with the file named."""
    try:
        loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: cannot be read ({exc})") from None
    if not isinstance(loaded, dict):
        raise ConfigError(f"{path}: the top level must be a mapping")
    return loaded
