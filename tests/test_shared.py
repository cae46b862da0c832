"""The public reference files in ../shared: one way in (tests.conftest.shared_path), one skip reason."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests import conftest

TESTS = Path(__file__).resolve().parent


def test_without_shared_the_skip_says_where_the_reference_files_come_from(monkeypatch, tmp_path):
    monkeypatch.setattr(conftest, "SHARED", tmp_path / "shared")
    with pytest.raises(pytest.skip.Exception) as skipped:
        conftest.shared_path("oracles", "slack", "slack-signature-vector.json")
    reason = str(skipped.value)
    assert reason == conftest.SHARED_ABSENT and "\n" not in reason
    assert "../shared/oracles" in reason and "public reference files" in reason


def test_every_test_reaches_shared_through_conftest():
    """A path to ../shared built elsewhere would bypass the skip (or fail where it is absent)."""
    own_path = re.compile(r"""["']shared["']|parents\[\d\]\s*/\s*["']shared""")
    offenders = [
        str(path.relative_to(TESTS))
        for path in TESTS.rglob("*.py")
        if path not in (TESTS / "conftest.py", Path(__file__).resolve())
        if own_path.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []
