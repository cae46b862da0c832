"""The debrief's question rules (prompts/checklist_rules.yaml): which fields each path asks."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest

from dialogs.checklist import OUTCOMES, POINTS
from dialogs.checklist_path import RULES, form_fields, load_rules, questions, settle
from storage.errors import ConfigError


def _walk(ratings: dict[str, str], outcome: str, meeting: bool) -> list[str]:
    """Answer the chat's questions in order the way a rep with these answers would."""
    values: dict[str, Any] = {}
    asked: list[str] = []
    while True:
        keys, complete = questions(values)
        pending = [k for k in keys if k not in values]
        if not pending:
            assert complete
            return asked
        key = pending[0]
        asked.append(key)
        if key.startswith("rating:"):
            values[key] = ratings[key.split(":", 1)[1]]
        elif key == "outcome":
            values[key] = outcome
        elif key == "next_meeting_at":
            values[key] = "2026-12-08T13:00:00+00:00" if meeting else None
        else:
            values[key] = "typed"


def _all_paths() -> list[tuple[dict[str, str], str, bool, list[str]]]:
    choices = [RULES.rating_choices(p) for p in POINTS]
    paths = []
    for combo in itertools.product(*choices):
        ratings = dict(zip(POINTS, combo, strict=True))
        for outcome in OUTCOMES:
            for meeting in (True, False):
                paths.append((ratings, outcome, meeting, _walk(ratings, outcome, meeting)))
    return paths


def test_a_meeting_that_went_well_everywhere_takes_at_most_nine_questions() -> None:
    good = {p: "yes" for p in POINTS}
    for outcome in ("closed", "next_step"):
        for meeting in (True, False):
            asked = _walk(good, outcome, meeting)
            assert len(asked) <= 9, (outcome, meeting, asked)
            assert "agenda_set_by" in asked  # a good opening still says who set the agenda
            assert "next_step_who" not in asked and "next_step_due" not in asked


def test_a_typical_meeting_takes_at_most_fourteen() -> None:
    ratings = {**{p: "yes" for p in POINTS}, "opening": "partly", "concessions": "no"}
    asked = _walk(ratings, "next_step", meeting=True)
    assert len(asked) <= 14, asked
    assert asked.count("note:opening") == 1 and "note:concessions" not in asked


def test_no_path_asks_more_than_eighteen_and_every_path_ends() -> None:
    paths = _all_paths()
    longest = max(paths, key=lambda p: len(p[3]))
    assert len(longest[3]) <= 18, longest
    assert all("outcome" in asked for *_, asked in paths)


def test_details_follow_the_rating() -> None:
    keys, _ = questions({"rating:next_step": "no", "outcome": "postponed",
                         **{f"rating:{p}": "yes" for p in POINTS[:4]}})
    assert "next_step_what" not in keys and "note:next_step" in keys
    keys, _ = questions({"rating:opening": "yes", "rating:interaction": "no"})
    assert "customer_questions" not in keys and "answers_given" not in keys
    keys, _ = questions({**{f"rating:{p}": "yes" for p in POINTS[:3]}, "rating:concessions": "none"})
    assert not any(k.startswith("concessions_") for k in keys)


def test_the_outcome_answers_the_next_step_point() -> None:
    base = {f"rating:{p}": "yes" for p in POINTS[:4]}
    keys, _ = questions({**base, "outcome": "closed"})
    assert "rating:next_step" not in keys
    keys, _ = questions({**base, "outcome": "postponed"})
    assert keys[-1] == "rating:next_step"
    assert settle({**base, "outcome": "next_step"})["rating:next_step"] == "yes"


def test_the_due_date_is_asked_only_for_a_vague_step_without_a_meeting() -> None:
    base: dict[str, Any] = {f"rating:{p}": "yes" for p in POINTS[:4]}
    base |= {"outcome": "postponed", "rating:next_step": "partly", "next_step_what": "call"}
    keys, complete = questions(base)
    assert keys[-1] == "next_meeting_at" and not complete  # undecided until the meeting is answered
    assert questions({**base, "next_meeting_at": None})[0][-1] == "next_step_due"
    assert "next_step_due" not in questions({**base, "next_meeting_at": "2026-12-08T13:00"})[0]


def test_a_form_shows_details_for_what_is_rated_and_settle_drops_what_does_not_apply() -> None:
    shown = form_fields({"rating:interaction": "partly"})
    assert {f"rating:{p}" for p in POINTS} <= set(shown) and "outcome" in shown
    assert "answers_given" in shown and "agenda_set_by" not in shown
    stored = settle({**{f"rating:{p}": "yes" for p in POINTS}, "outcome": "lost",
                     "answers_given": "left over", "next_meeting_at": "2026-12-08T13:00"})
    assert stored["answers_given"] is None and stored["next_meeting_at"] is None


@pytest.mark.parametrize(
    ("broken", "key"),
    [
        ("details:\n  opening:\n    yes: [next_step_what]\n", "details.opening"),
        ("sequence: [opening]\n", "sequence"),
    ],
)
def test_a_broken_rules_file_stops_the_bot_naming_the_key(tmp_path: Path, broken: str, key: str) -> None:
    from dialogs.checklist_path import RULES_FILE

    text = RULES_FILE.read_text(encoding="utf-8")
    top = broken.split(":", 1)[0]
    kept = [block for block in text.split("\n\n") if not block.lstrip().startswith(f"{top}:")]
    path = tmp_path / "rules.yaml"
    path.write_text("\n\n".join(kept) + "\n\n" + broken, encoding="utf-8")
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        load_rules(path)
