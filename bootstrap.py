#!/usr/bin/env python3
"""Run Closing Coach or its tests on a machine with nothing but Python 3.11.

    python3 bootstrap.py serve [coach serve options]   start the bot (SQLite, local web chat)
    python3 bootstrap.py test [pytest options]         run the whole test suite
    python3 bootstrap.py lint                          ruff and mypy (CI runs it before the tests)

The first run creates .venv/ and installs the project into it; later runs reuse it and only
reinstall when pyproject.toml changed.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
STAMP = VENV / ".closing-coach-installed"


def ensure_venv() -> None:
    if sys.version_info < (3, 11):  # noqa: UP036 (this script must explain itself on old Pythons)
        sys.exit(f"Closing Coach needs Python 3.11 or newer; this is {sys.version.split()[0]}.")
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if STAMP.exists() and STAMP.read_text() == wanted and (BIN / "coach").exists():
        return
    if not (BIN / "python").exists():
        print("Creating .venv/ (first run) ...", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    print("Installing Closing Coach and its test tools into .venv/ ...", flush=True)
    pip = [str(BIN / "python"), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "--upgrade", "pip"], check=True)
    subprocess.run([*pip, "-e", f"{ROOT}[test]"], check=True)
    STAMP.write_text(wanted)


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("serve", "test", "lint"):
        print(__doc__)
        return 2
    ensure_venv()
    command, rest = argv[0], argv[1:]
    os.chdir(ROOT)
    if command == "serve":
        return subprocess.call([str(BIN / "coach"), "serve", *rest])
    if command == "lint":
        ruff = subprocess.call([str(BIN / "ruff"), "check", "bot", "dialogs", "storage", "tests", "bench",
                                "bootstrap.py"])
        return ruff or subprocess.call([str(BIN / "mypy")])
    return subprocess.call([str(BIN / "python"), "-m", "pytest", *rest])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
