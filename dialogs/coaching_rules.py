"""The schema of the coaching rules (prompts/coaching_rules.yaml), read and checked once at start.

A rule is a condition over one debrief's answers (and, for a pattern, over the rep's last
debriefs), the checklist point its tip is about, and its place in the method's order. Its wording
is per locale, in prompts/<locale>/coaching.yaml under `tips.<rule id>`. An answer that is missing
(not asked, skipped) is unknown: no test holds on it, except `skipped`, which only counts next to
a rating that says the point went weak.
"""

from __future__ import annotations

from functools import cache, cached_property
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from dialogs.checklist import FIELDS_BY_KEY, OUTCOMES, POINTS, RATINGS
from dialogs.yaml_file import read_mapping
from storage.errors import ConfigError

RULES_FILE = "coaching_rules.yaml"
# Ratings a condition may name: the checklist's, and "none" (no concession was asked at all).
KNOWN_RATINGS = (*RATINGS, "none")
_TEXT_FIELDS = {k for k, f in FIELDS_BY_KEY.items() if f.kind == "text" and not k.startswith("note:")}
_CHOICE_FIELDS = {k: f.choices for k, f in FIELDS_BY_KEY.items() if f.kind == "choice" and k != "outcome"}
_DATE_FIELDS = {k for k, f in FIELDS_BY_KEY.items() if f.kind in ("date", "datetime")}


class Condition(BaseModel):
    """Every test given must hold. Text tests name answer fields, or `note` (this point's note)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    rating: tuple[str, ...] = ()  # the rule's own point was rated one of these
    ratings: dict[str, tuple[str, ...]] = Field(default_factory=dict)  # other points, by name
    choice: dict[str, tuple[str, ...]] = Field(default_factory=dict)  # agenda_set_by: [customer_formal]
    outcome: tuple[str, ...] = ()
    answered: tuple[str, ...] = ()  # the rep typed something that is not "nothing"
    said_nothing: tuple[str, ...] = ()  # the rep typed that there was nothing ("nothing", "niets")
    skipped: tuple[str, ...] = ()  # left empty; only together with `rating` or `ratings`
    any_of: tuple[Condition, ...] = ()  # and at least one of these holds

    @model_validator(mode="after")
    def _known_names(self) -> Condition:
        bad = [r for r in (*self.rating, *(r for rs in self.ratings.values() for r in rs))
               if r not in KNOWN_RATINGS]
        if bad:
            raise ValueError(f"unknown rating {bad[0]!r} (known: {', '.join(KNOWN_RATINGS)})")
        if unknown := set(self.ratings) - set(POINTS):
            raise ValueError(f"unknown point {sorted(unknown)[0]!r} in ratings")
        for key, values in self.choice.items():
            if key not in _CHOICE_FIELDS:
                raise ValueError(f"{key!r} is not a choice field ({', '.join(sorted(_CHOICE_FIELDS))})")
            if wrong := set(values) - set(_CHOICE_FIELDS[key]):
                raise ValueError(f"{key!r} has no choice {sorted(wrong)[0]!r}")
        if wrong := set(self.outcome) - set(OUTCOMES):
            raise ValueError(f"unknown outcome {sorted(wrong)[0]!r}")
        texts = _TEXT_FIELDS | {"note"}
        for key in (*self.answered, *self.said_nothing, *self.skipped):
            if key not in texts and not (key in _DATE_FIELDS and key in self.skipped):
                raise ValueError(f"{key!r} is not a text field ({', '.join(sorted(texts))})")
        if self.skipped and not (self.rating or self.ratings):
            raise ValueError("`skipped` needs `rating` or `ratings` beside it: an empty answer alone "
                             "proves nothing")
        return self


class Pattern(BaseModel):
    """The rule's condition held in `at_least` of the rep's last `of_last` debriefs (this one included)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    of_last: int = Field(ge=2, le=20)
    at_least: int = Field(ge=2)

    @model_validator(mode="after")
    def _fits(self) -> Pattern:
        if self.at_least > self.of_last:
            raise ValueError("at_least cannot be more than of_last")
        return self


class Rule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    point: str
    when: Condition
    priority: int | None = None  # default: the point's place in `order`
    pattern: Pattern | None = None  # a drill for a habit, instead of the one-off tip
    tactics: tuple[str, ...] = ()  # counter-tactic ids from tactics.yaml the tip names (two)
    covers: tuple[str, ...] = ()  # points this tip already answers: no second tip for them

    @model_validator(mode="after")
    def _known_points(self) -> Rule:
        for point in (self.point, *self.covers):
            if point not in POINTS:
                raise ValueError(f"unknown point {point!r} (known: {', '.join(POINTS)})")
        if self.tactics and len(self.tactics) != 2:
            raise ValueError("a rule names two tactics, or none")
        return self


class CoachingRules(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    order: tuple[str, ...]  # the checklist points, most important first (the method's order)
    nothing_words: frozenset[str] = frozenset()  # answers that mean "nothing" (either language)
    rules: tuple[Rule, ...]

    @model_validator(mode="after")
    def _complete(self) -> CoachingRules:
        if sorted(self.order) != sorted(POINTS):
            raise ValueError(f"order must list each point once: {', '.join(POINTS)}")
        if self.order[0] != "opening":
            raise ValueError("order must start with opening (the start decides the close)")
        seen: set[str] = set()
        for rule in self.rules:
            if rule.id in seen:
                raise ValueError(f"rule id {rule.id!r} is used twice")
            seen.add(rule.id)
        return self

    @cached_property
    def history_reads(self) -> tuple[tuple[str, ...], bool, int]:
        """What pattern rules read of earlier debriefs: the answer fields, whether notes, and how
        many debriefs back."""
        fields: set[str] = set()
        notes = False
        window = 0
        for rule in self.rules:
            if rule.pattern is None:
                continue
            window = max(window, rule.pattern.of_last - 1)
            stack = [rule.when]
            while stack:
                c = stack.pop()
                named = {*c.choice, *c.answered, *c.said_nothing, *c.skipped}
                notes = notes or "note" in named
                fields |= named - {"note"}
                fields |= {"outcome"} if c.outcome else set()
                stack.extend(c.any_of)
        return tuple(sorted(fields)), notes, window

    def priority(self, rule: Rule) -> int:
        return rule.priority if rule.priority is not None else 10 * (self.order.index(rule.point) + 1)

    def point_priority(self, point: str) -> int:
        return 10 * (self.order.index(point) + 1)


@cache
def load_rules(prompts_dir: Path) -> CoachingRules:
    """The rules file, parsed and checked; a ConfigError names the file, the rule and the fault."""
    path = prompts_dir / RULES_FILE
    raw = read_mapping(path)
    try:
        return CoachingRules.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(f"{path}: {_first_error(exc, raw)}") from None


def _first_error(exc: ValidationError, raw: Any) -> str:
    error = exc.errors()[0]
    where = list(error["loc"])
    label = ".".join(str(p) for p in where) or "top level"
    if len(where) >= 2 and where[0] == "rules" and isinstance(where[1], int) and isinstance(raw, dict):
        rules = raw.get("rules") or []
        entry = rules[where[1]] if where[1] < len(rules) else None
        rule_id = entry.get("id") if isinstance(entry, dict) else None
        if rule_id:
            label = f"rule {rule_id!r}: " + ".".join(str(p) for p in where[2:])
    message = str(error["msg"]).removeprefix("Value error, ")
    return f"{label.rstrip(': ')}: {message}"


def check_wording(rules: CoachingRules, *, coaching: dict[str, Any], tactics: dict[str, Any],
                  where: Path) -> None:
    """Each rule has a tip in this locale's coaching.yaml, and names tactics tactics.yaml knows."""
    tips = coaching.get("tips")
    if not isinstance(tips, dict):
        raise ConfigError(f"{where}: key 'tips' is missing")
    for rule in rules.rules:
        entry = tips.get(rule.id)
        if not isinstance(entry, dict) or not str(entry.get("tip") or "").strip():
            raise ConfigError(f"{where}: key 'tips.{rule.id}.tip' is missing or empty")
        for tactic in rule.tactics:
            if tactic not in tactics:
                raise ConfigError(f"{where.parent / 'tactics.yaml'}: rule {rule.id!r} names tactic "
                                  f"{tactic!r}, which is not there")
    if extra := set(tips) - {r.id for r in rules.rules}:
        raise ConfigError(f"{where}: 'tips.{sorted(extra)[0]}' belongs to no rule in {RULES_FILE}")
