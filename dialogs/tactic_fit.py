"""Which counter-tactics fit a coming meeting. The situation is read from the last debrief with the
account and from the calendar invite, as tags; each tactic in prompts/<locale>/tactics.yaml names
the tags it answers (`fits`). Two (or, for the rep to choose from, a few) are picked one at a time:
the one that answers most of what the tactics picked so far leave open (what the customer said or
did counts double what the coach infers), then the best fit at all, then the rep's own verdicts,
then in turn: the one suggested longest ago (or never) first, the library's order breaking what is
left. No randomness: the same history gives the same choice."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any, Protocol

from storage.errors import ConfigError
from storage.meetings import MeetingView
from storage.models import Debrief

TACTICS_PER_NUDGE = 2
CHOICES_OFFERED = 4  # the preparation's buttons
# Feedback weights: a tactic that worked comes first among equally fitting ones, one that flopped last.
WEIGHTS = {"worked": 1.0, "flopped": -0.5, "unused": -0.1}
SHORT_SLOT = timedelta(minutes=45)
WEAK = ("partly", "no")

# The situations a tactic can fit (tactics.yaml `fits`), each read from the last debrief or the invite.
FIT_TAGS: tuple[str, ...] = (
    "agenda_by_mail",  # the customer set the agenda formally, or the invite carries a fixed one
    "customer_organised",  # the invite came from the customer's side
    "demand_on_price",  # a concession asked on price or terms
    "demand_on_process",  # a concession asked on their procedure (framework, tender, contract)
    "pitch_first",  # they want our story first: opening weak under their formal agenda, or no questions
    "few_questions",  # interaction weak: the customer asked little
    "why_now_unknown",  # a first meeting, or a postponement: what drives them is unknown
    "history_unknown",  # current situation weak, or the supplier question not asked
    "supplier_could_solve",  # asked, and their current supplier could solve it
    "no_next_step",  # no concrete next step last time (point 5 weak, or postponed)
    "short_slot",  # the meeting is 45 minutes or shorter
)


# Tags that are what the customer said or did (the invite, a demand, an answer), not inferred.
OBSERVED = frozenset({
    "agenda_by_mail", "customer_organised", "demand_on_price", "demand_on_process",
    "supplier_could_solve", "short_slot",
})


class PastSuggestion(Protocol):
    """An earlier suggestion to the rep (storage.nudge_queries.TacticHistory), newest first."""

    @property
    def tactic(self) -> str: ...
    @property
    def meeting_id(self) -> int: ...
    @property
    def verdict(self) -> str | None: ...


def demand_tags(asked: str, words: Mapping[str, str]) -> set[str]:
    """demand_on_price and/or demand_on_process for what the customer asked (word beginnings from
    prompts/<locale>/tactic_signals.yaml); neither list matching means either may be it."""
    tokens = re.findall(r"\w+|[%€$£]", asked.casefold())
    found = set()
    for tag in ("demand_on_price", "demand_on_process"):
        stems = str(words.get(tag, "")).casefold().split()
        if any(token.startswith(stem) for token in tokens for stem in stems):
            found.add(tag)
    return found or {"demand_on_price", "demand_on_process"}


def situation(
    *,
    view: MeetingView,
    last: Debrief | None,
    ratings: Mapping[str, str],
    demand_words: Mapping[str, str],
) -> frozenset[str]:
    """The tags that describe the coming meeting: from its invite and length, and from the last
    debrief with the account (`ratings`: that debrief's point -> rating)."""
    tags: set[str] = set()
    invite, meeting = view.invite, view.meeting
    if invite is not None and invite.formal_agenda:
        tags.add("agenda_by_mail")
    if invite is not None and invite.organiser_external:
        tags.add("customer_organised")
    if meeting.ends_at is not None and meeting.ends_at - meeting.starts_at <= SHORT_SLOT:
        tags.add("short_slot")
    if last is None:
        return frozenset(tags | {"why_now_unknown"})
    answers = {k: getattr(last, k) for k in DEBRIEF_KEYS}
    return frozenset(tags | debrief_tags(answers, ratings, demand_words))


DEBRIEF_KEYS = ("agenda_set_by", "concessions_asked", "customer_questions", "supplier_check", "outcome")


def debrief_tags(
    answers: Mapping[str, Any], ratings: Mapping[str, str], demand_words: Mapping[str, str]
) -> set[str]:
    """The tags a debrief's answers give the next meeting with that account (the coach's tip after
    the debrief and the next nudge read the same ones, so they name the same tactics)."""
    tags: set[str] = set()
    formal = answers.get("agenda_set_by") == "customer_formal"
    if formal:
        tags.add("agenda_by_mail")
    asked = answers.get("concessions_asked")
    if isinstance(asked, str) and asked.strip():
        tags |= demand_tags(asked, demand_words)
    few_questions = ratings.get("interaction") in WEAK
    if few_questions:
        tags.add("few_questions")
    no_questions = few_questions and not answers.get("customer_questions")
    if (formal and ratings.get("opening") in WEAK) or no_questions:
        tags.add("pitch_first")
    if ratings.get("situation") in WEAK or answers.get("supplier_check") == "not_asked":
        tags.add("history_unknown")
    if answers.get("supplier_check") == "could_solve":
        tags.add("supplier_could_solve")
    if answers.get("outcome") == "postponed":
        tags |= {"why_now_unknown", "no_next_step"}
    if ratings.get("next_step") in WEAK:
        tags.add("no_next_step")
    return tags


def fits_of(library: Mapping[str, Any]) -> dict[str, frozenset[str]]:
    """Per tactic, the tags it fits (its `fits` in tactics.yaml)."""
    return {key: frozenset(entry.get("fits") or ()) for key, entry in library.items()}


def _weight(tags: Iterable[str]) -> int:
    return sum(2 if tag in OBSERVED else 1 for tag in tags)


def choose_tactics(
    keys: Sequence[str],
    history: Sequence[PastSuggestion],
    *,
    fits: Mapping[str, frozenset[str]] | None = None,
    tags: Iterable[str] = (),
    n: int = TACTICS_PER_NUDGE,
    already: Sequence[str] = (),
) -> list[str]:
    """`n` more tactics besides those `already` chosen, "not for me" ones left out, picked one at
    a time: the most of the situation's `tags` not yet answered, then the most of them at all,
    then the rep's verdicts, then the one suggested the most meetings ago (never: first), then the
    library's order. `history` is newest first."""
    dropped = {h.tactic for h in history if h.verdict == "drop"} | set(already)
    feedback = dict.fromkeys(keys, 0.0)
    for h in history:
        if h.tactic in feedback and h.verdict in WEIGHTS:
            feedback[h.tactic] += WEIGHTS[h.verdict]
    meetings: list[int] = []
    ago: dict[str, int] = {}  # tactic -> how many meetings back it was last suggested
    for h in history:
        if h.meeting_id not in meetings:
            meetings.append(h.meeting_id)
        ago.setdefault(h.tactic, len(meetings))
    never = len(meetings) + 1
    situation_tags, fitting = frozenset(tags), fits or {}
    order = {key: i for i, key in enumerate(keys)}
    open_tags = set(situation_tags).difference(*(fitting.get(k, frozenset()) for k in already))

    live = [k for k in keys if k not in dropped]
    relevant = {k: fitting.get(k, frozenset()) & situation_tags for k in live}
    # after what it adds: how well it fits at all (a second answer beats none), verdicts, turn
    rest = {k: (-_weight(relevant[k]), -feedback[k], -ago.get(k, never), order[k]) for k in live}

    def rank(k: str, unanswered: set[str]) -> tuple[int, tuple[int, float, int, int]]:
        return (-_weight(relevant[k] & unanswered) if unanswered else 0, rest[k])

    chosen: list[str] = []
    for _ in range(min(n, len(live))):
        best = min((k for k in live if k not in chosen), key=lambda k: rank(k, open_tags))
        chosen.append(best)
        open_tags -= fitting.get(best, frozenset())
    return chosen


def check_tactics(
    data: Callable[[str, str], dict[str, Any]], prompts_dir: Path, locales: Sequence[str]
) -> None:
    """Fail at start unless every tactic has a name, when and say, and `fits` tags the coach
    reads, the same tactics with the same tags in every locale."""
    first: dict[str, list[str]] | None = None
    for locale in locales:
        where = prompts_dir / locale / "tactics.yaml"
        tags: dict[str, list[str]] = {}
        for key, entry in data(locale, "tactics").items():
            if not isinstance(entry, dict) or not all(
                isinstance(entry.get(k), str) and entry[k].strip() for k in ("name", "when", "say")
            ):
                raise ConfigError(f"{where}: tactic '{key}' needs a name, a when and a say")
            fits = entry.get("fits") or []
            if not isinstance(fits, list):
                fits = [fits]
            unknown = sorted(str(tag) for tag in fits if tag not in FIT_TAGS)
            if unknown:
                raise ConfigError(
                    f"{where}: key '{key}.fits': unknown tags {', '.join(unknown)} "
                    f"(known: {', '.join(FIT_TAGS)})"
                )
            tags[str(key)] = sorted(fits)
        if first is None:
            first = tags
        elif tags != first:
            raise ConfigError(
                f"{where}: the tactics or their fits differ from prompts/{locales[0]}/tactics.yaml"
            )
