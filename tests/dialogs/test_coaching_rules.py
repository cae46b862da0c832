"""prompts/coaching_rules.yaml and its wording are checked when the texts are read (at start): a
mistake stops the bot with one line naming the file, the rule and the fault."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from dialogs.coaching_rules import RULES_FILE
from dialogs.text import LOCALES, PROMPTS_DIR, Texts
from storage.errors import ConfigError


def prompts_with(tmp_path: Path, edit: Callable[[dict[str, Any], dict[str, Any]], None]) -> Path:
    """A copy of prompts/ with the rules file and the Dutch wording changed by `edit`."""
    for locale in LOCALES:
        shutil.copytree(PROMPTS_DIR / locale, tmp_path / locale)
    rules = yaml.safe_load((PROMPTS_DIR / RULES_FILE).read_text(encoding="utf-8"))
    wording = yaml.safe_load((PROMPTS_DIR / "nl" / "coaching.yaml").read_text(encoding="utf-8"))
    edit(rules, wording)
    (tmp_path / RULES_FILE).write_text(yaml.safe_dump(rules, allow_unicode=True), encoding="utf-8")
    (tmp_path / "nl" / "coaching.yaml").write_text(yaml.safe_dump(wording, allow_unicode=True),
                                                   encoding="utf-8")
    return tmp_path


def rule(rules: dict[str, Any], rule_id: str) -> dict[str, Any]:
    return next(r for r in rules["rules"] if r["id"] == rule_id)


def test_the_shipped_rules_load_for_both_locales() -> None:
    texts = Texts()
    for locale in LOCALES:
        texts.validate(locale)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda r, w: rule(r, "situation_tried")["when"].update(answered=["customer_triedd"]),
         r"coaching_rules\.yaml: rule 'situation_tried': when: 'customer_triedd' is not a text field"),
        (lambda r, w: rule(r, "opening_no_agenda")["when"].update(choice={"agenda_set_by": ["boss"]}),
         r"rule 'opening_no_agenda': when: 'agenda_set_by' has no choice 'boss'"),
        (lambda r, w: rule(r, "next_step_without_date").update(when={"skipped": ["next_step_due"]}),
         r"rule 'next_step_without_date': when: `skipped` needs `rating` or `ratings` beside it"),
        (lambda r, w: rule(r, "opening_noted")["when"].update(rating=["maybe"]),
         r"rule 'opening_noted': when: unknown rating 'maybe'"),
        (lambda r, w: rule(r, "opening_formal_agenda").update(pattern={"of_last": 3, "at_least": 4}),
         r"rule 'opening_formal_agenda': pattern: at_least cannot be more than of_last"),
        (lambda r, w: r.update(order=["situation", "opening", "interaction", "concessions", "next_step"]),
         r"coaching_rules\.yaml: top level: order must start with opening"),
        (lambda r, w: r["rules"].append(dict(rule(r, "opening_noted"))),
         r"rule id 'opening_noted' is used twice"),
        (lambda r, w: w["tips"].pop("situation_tried"),
         r"nl/coaching\.yaml: key 'tips\.situation_tried\.tip' is missing or empty"),
        (lambda r, w: w["tips"].update(situation_gone={"tip": "Weg."}),
         r"nl/coaching\.yaml: 'tips\.situation_gone' belongs to no rule"),
        (lambda r, w: rule(r, "opening_formal_agenda").update(tactics=["ask_why_now", "dance"]),
         r"tactics\.yaml: rule 'opening_formal_agenda' names tactic 'dance'"),
        (lambda r, w: w["tips"]["situation_tried"].update(tip="{{ tried "),
         r"nl/coaching\.yaml: key 'tips\.situation_tried\.tip': "),
    ],
    ids=["field", "choice", "skipped-alone", "rating", "pattern", "order", "twice", "no-tip",
         "orphan-tip", "tactic", "syntax"],
)
def test_a_mistake_stops_the_start_with_a_clear_line(tmp_path: Path, edit, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Texts(prompts_with(tmp_path, edit))
