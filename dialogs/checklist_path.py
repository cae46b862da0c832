"""Which checklist fields a debrief asks, given the answers so far (rules: prompts/checklist_rules.yaml).

One set of rules for every channel. The web chat asks `questions(values)` one at a time; the
Slack modal and the Teams card show `form_fields(values)` and redraw as ratings change; every
channel stores `settle(values)`, so a detail that does not apply is never stored.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dialogs.checklist import FIELDS_BY_KEY, OUTCOMES, POINTS, RATINGS
from dialogs.yaml_file import read_mapping
from storage.errors import ConfigError

RULES_FILE = Path(__file__).resolve().parent.parent / "prompts" / "checklist_rules.yaml"
NOTE = "note"
AFTER_POINTS: tuple[str, ...] = ("next_meeting_at", "next_step_due")


@dataclass(frozen=True)
class Condition:
    """When a field after the points is asked."""

    outcomes: tuple[str, ...] | None = None
    ratings: Mapping[str, tuple[str, ...]] | None = None
    unset: tuple[str, ...] = ()


@dataclass(frozen=True)
class ChecklistRules:
    ratings: Mapping[str, tuple[str, ...]]
    sequence: tuple[str, ...]
    implied: Mapping[str, Mapping[str, str]]
    details: Mapping[str, Mapping[str, tuple[str, ...]]]
    when: Mapping[str, Condition]

    def rating_choices(self, point: str) -> tuple[str, ...]:
        return self.ratings.get(point, RATINGS)

    def implied_rating(self, point: str, values: Mapping[str, Any]) -> str | None:
        return self.implied.get(point, {}).get(str(values.get("outcome")))

    def detail_keys(self, point: str, rating: str) -> tuple[str, ...]:
        keys = self.details.get(point, {}).get(rating, ())
        return tuple(f"note:{point}" if k == NOTE else k for k in keys)


def questions(values: Mapping[str, Any], rules: ChecklistRules | None = None) -> tuple[list[str], bool]:
    """The fields asked so far and next, in order, and whether that list is complete.

    The list stops after the first rating, outcome or condition field not answered yet (a key
    missing from `values`; a skipped field is present with None), since what follows depends on it.
    """
    return _walk(values, rules or RULES, stop_at_unknown=True)


def form_fields(values: Mapping[str, Any], rules: ChecklistRules | None = None) -> list[str]:
    """The fields a form shows for these answers: every rating asked and the outcome, plus the
    details of each rated point and the fields whose condition holds (unanswered counts as empty)."""
    keys, _ = _walk(values, rules or RULES, stop_at_unknown=False)
    return keys


def settle(values: Mapping[str, Any], rules: ChecklistRules | None = None) -> dict[str, Any]:
    """The answers as stored: implied ratings filled in, fields that do not apply set to None."""
    rules = rules or RULES
    out = dict(values)
    for point in POINTS:
        implied = rules.implied_rating(point, out)
        if implied is not None:
            out[f"rating:{point}"] = implied
    applies = set(form_fields(out, rules))
    for key in FIELDS_BY_KEY:
        if key not in applies and not key.startswith("rating:") and key != "outcome":
            out[key] = None
    return out


def _walk(
    values: Mapping[str, Any], rules: ChecklistRules, *, stop_at_unknown: bool
) -> tuple[list[str], bool]:
    keys: list[str] = []
    for item in rules.sequence:
        if item in POINTS:
            key = f"rating:{item}"
            rating = rules.implied_rating(item, values)
            if rating is None:
                keys.append(key)
                rating = values.get(key)
            if rating is None:
                if stop_at_unknown:
                    return keys, False
                continue
            keys += rules.detail_keys(item, str(rating))
        elif item == "outcome":
            keys.append(item)
            if values.get(item) is None and stop_at_unknown:
                return keys, False
        else:
            cond = rules.when.get(item, Condition())
            asked_before = [k for k in cond.unset if k in keys]  # a field never asked is unset
            if stop_at_unknown and any(k not in values for k in asked_before):
                return keys, False
            if _holds(cond, values):
                keys.append(item)
    return keys, True


def _holds(cond: Condition, values: Mapping[str, Any]) -> bool:
    if cond.outcomes is not None and values.get("outcome") not in cond.outcomes:
        return False
    for point, allowed in (cond.ratings or {}).items():
        if values.get(f"rating:{point}") not in allowed:
            return False
    return all(values.get(k) in (None, "") for k in cond.unset)


# -- reading and checking the rules file ----------------------------------------------------------
def load_rules(path: Path = RULES_FILE) -> ChecklistRules:
    """Read and check the rules; a mistake stops the bot at start with the file and key named."""
    raw = read_mapping(path)

    def fail(key: str, why: str) -> ConfigError:
        return ConfigError(f"{path}: key '{key}' {why}")

    ratings: dict[str, tuple[str, ...]] = {}
    for point, choices in (raw.get("ratings") or {}).items():
        if point not in POINTS or not isinstance(choices, list) or not set(RATINGS) <= set(choices):
            raise fail(f"ratings.{point}", f"must be a point of {POINTS} listing at least {RATINGS}")
        ratings[str(point)] = tuple(str(c) for c in choices)
    sequence = tuple(str(s) for s in raw.get("sequence") or ())
    if sorted(sequence) != sorted((*POINTS, "outcome", *AFTER_POINTS)):
        raise fail("sequence", f"must list each of {(*POINTS, 'outcome', *AFTER_POINTS)} once")
    implied: dict[str, dict[str, str]] = {}
    for point, by_outcome in (raw.get("implied") or {}).items():
        if point not in POINTS or not isinstance(by_outcome, dict):
            raise fail(f"implied.{point}", "must map a point to outcome: rating")
        for outcome, rating in by_outcome.items():
            if outcome not in OUTCOMES or rating not in ratings.get(point, RATINGS):
                raise fail(f"implied.{point}.{outcome}", "names an unknown outcome or rating")
        implied[str(point)] = {str(k): str(v) for k, v in by_outcome.items()}
    details: dict[str, dict[str, tuple[str, ...]]] = {}
    for point in POINTS:
        by_rating = (raw.get("details") or {}).get(point)
        choices = ratings.get(point, RATINGS)
        if not isinstance(by_rating, dict) or set(by_rating) != set(choices):
            raise fail(f"details.{point}", f"must list the details for each rating {choices}")
        details[point] = {}
        for rating, keys in by_rating.items():
            for k in keys or ():
                field = FIELDS_BY_KEY.get(str(k))
                if k != NOTE and (field is None or field.point != point or field.is_rating):
                    raise fail(f"details.{point}.{rating}", f"names '{k}', not a detail of {point}")
            details[point][str(rating)] = tuple(str(k) for k in keys or ())
    when: dict[str, Condition] = {}
    for key, cond in (raw.get("when") or {}).items():
        if key not in AFTER_POINTS or not isinstance(cond, dict):
            raise fail(f"when.{key}", f"must be one of {AFTER_POINTS} with a condition")
        outcomes = cond.get("outcome")
        if outcomes is not None and not set(outcomes) <= set(OUTCOMES):
            raise fail(f"when.{key}.outcome", f"must list outcomes of {OUTCOMES}")
        by_point = cond.get("rating")
        if by_point is not None and not set(by_point) <= set(POINTS):
            raise fail(f"when.{key}.rating", "must map points to ratings")
        unset = tuple(str(u) for u in cond.get("unset") or ())
        if any(u not in FIELDS_BY_KEY for u in unset):
            raise fail(f"when.{key}.unset", "names an unknown field")
        when[str(key)] = Condition(
            outcomes=tuple(outcomes) if outcomes is not None else None,
            ratings={str(p): tuple(r) for p, r in by_point.items()} if by_point else None,
            unset=unset,
        )
    return ChecklistRules(ratings=ratings, sequence=sequence, implied=implied, details=details, when=when)


RULES = load_rules()
