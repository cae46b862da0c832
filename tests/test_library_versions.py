"""The installed libraries are the versions the fenced shortcuts past their public APIs were checked
against (each fenced module's CHECKED), and pyproject.toml bounds them the same way."""

from __future__ import annotations

import ast
import importlib
import tomllib
from importlib import metadata
from pathlib import Path
from types import ModuleType

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
# Every module that reaches past a library's public API; each holds CHECKED = {distribution: range}.
FENCED = ("bot.slack.bolt_internals", "bot.teams.botbuilder_internals", "bot.teams.msrest_internals")
CHECKS = [(name, dist, spec) for name in FENCED
          for dist, spec in importlib.import_module(name).CHECKED.items()]


def path_of(module: ModuleType) -> str:
    return str(Path(module.__file__ or "").relative_to(ROOT))


def out_of_range(dist: str, installed: str, module: str, spec: str) -> str | None:
    if Version(installed) in SpecifierSet(spec):
        return None
    return (f"{dist} {installed} is installed; {module} was checked against {spec} — recheck the "
            f"shortcut and widen the bound")


def pyproject_bounds() -> dict[str, SpecifierSet]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    requirements = [Requirement(r) for r in project["dependencies"]]
    return {canonicalize_name(r.name): r.specifier for r in requirements}


@pytest.mark.parametrize(("module", "dist", "spec"), CHECKS)
def test_the_installed_version_is_one_the_shortcut_was_checked_against(module: str, dist: str,
                                                                       spec: str) -> None:
    problem = out_of_range(dist, metadata.version(dist), path_of(importlib.import_module(module)), spec)
    assert problem is None, problem


@pytest.mark.parametrize(("module", "dist", "spec"), CHECKS)
def test_pyproject_bounds_the_library_as_the_fenced_module_says(module: str, dist: str, spec: str) -> None:
    declared = pyproject_bounds().get(canonicalize_name(dist))
    assert declared == SpecifierSet(spec), (
        f"pyproject.toml has {dist}{declared or ' unbounded'}; {module} was checked against {spec}")


def test_the_message_names_the_version_the_module_and_the_range() -> None:
    assert out_of_range("slack-bolt", "2.0.0", "bot/slack/bolt_internals.py", ">=1.20,<1.28") == (
        "slack-bolt 2.0.0 is installed; bot/slack/bolt_internals.py was checked against >=1.20,<1.28 "
        "— recheck the shortcut and widen the bound")
    assert out_of_range("slack-bolt", "1.27.1", "bot/slack/bolt_internals.py", ">=1.20,<1.28") is None


def test_no_library_internals_are_imported_outside_the_fenced_modules() -> None:
    """A private module (`_x`) or an `internals` module of a library is imported in one fenced module."""
    fenced = {Path(*name.split(".")).with_suffix(".py") for name in FENCED}
    ours = ("bot", "dialogs", "storage", "prompts", "tests", "__future__")
    found = []
    for package in ("bot", "dialogs", "storage"):
        for path in sorted((ROOT / package).rglob("*.py")):
            if path.relative_to(ROOT) in fenced or "migrations" in path.parts:
                continue
            for node in ast.walk(ast.parse(path.read_text())):
                names = ([node.module or ""] if isinstance(node, ast.ImportFrom)
                         else [a.name for a in node.names] if isinstance(node, ast.Import) else [])
                for name in names:
                    parts = name.split(".")
                    if parts[0] not in ours and any(p.startswith("_") or "internals" in p for p in parts):
                        found.append(f"{path.relative_to(ROOT)}: {name}")
    assert found == []
