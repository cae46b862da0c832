"""The action point the digest proposes per rep, from that rep's own debriefs, and its follow-up.

The method's order: the rep's weakest checklist point over the pattern window (the last
`Period.pattern_buckets` periods), then, within that point, the concrete pattern seen in most of
those meetings (like "the customer set the agenda formally"), when seen at least MIN_CONCRETE
times; otherwise the plain "the point went partly or not". The proposal carries the count ("3 of
7 meetings"), one such meeting of the most recent week as the example, the text the manager can send
the rep and a question for the one-to-one, both from prompts/<locale>/digest.yaml `patterns`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dialogs.checklist import POINTS
from dialogs.digest_figures import PointProfile, weakest_of
from dialogs.text import Texts, format_day
from storage.debrief_patterns import PATTERN_POINTS, ExampleMeeting, PatternCount
from storage.digest_coaching import TrackedAction

MIN_CONCRETE = 2  # a concrete pattern seen this often is proposed before the point's plain rating


def profile_of(counts: PatternCount) -> dict[str, PointProfile]:
    return {p: PointProfile(*counts.ratings.get(p, (0, 0, 0))) for p in POINTS}


def chosen_pattern(counts: PatternCount | None) -> tuple[str, str] | None:
    """(point, pattern) to work on, or None when there are no meetings or no weak point."""
    if counts is None or counts.meetings == 0:
        return None
    point = weakest_of(profile_of(counts))
    if point is None:
        return None
    concrete = [
        (counts.counts.get(name, 0), -i, name)
        for i, (name, p) in enumerate(PATTERN_POINTS.items())
        if p == point and not name.startswith("rating:")
    ]
    best = max(concrete, default=(0, 0, ""))
    if best[0] >= MIN_CONCRETE:
        return point, best[2]
    return point, f"rating:{point}"


@dataclass(frozen=True)
class ActionProposal:
    point: str
    pattern: str
    count: int
    meetings: int
    example: ExampleMeeting | None
    text: str  # what the manager can send the rep, as is
    question: str  # for the manager's one-to-one with the rep

    @property
    def example_debrief_id(self) -> int | None:
        return self.example.debrief_id if self.example else None

    def as_json(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "pattern": self.pattern,
            "count": self.count,
            "example_debrief_id": self.example_debrief_id,
            "point": self.point,
            "meetings": self.meetings,
            "question": self.question,
            "example": (
                {"account": self.example.account, "created_at": self.example.created_at.isoformat()}
                if self.example
                else None
            ),
        }


def propose(
    texts: Texts,
    locale: str,
    counts: PatternCount | None,
    examples: dict[int, ExampleMeeting],
) -> ActionProposal | None:
    chosen = chosen_pattern(counts)
    if counts is None or chosen is None:
        return None
    point, pattern = chosen
    example = examples.get(counts.examples.get(pattern, -1))
    ctx = {
        "account": example.account if example else "",
        "day": format_day(example.created_at.date(), locale=locale) if example else "",
        "count": counts.counts[pattern],
        "meetings": counts.meetings,
    }
    return ActionProposal(
        point=point,
        pattern=pattern,
        count=counts.counts[pattern],
        meetings=counts.meetings,
        example=example,
        text=texts.render(locale, "digest", f"patterns.{pattern}.action", **ctx),
        question=texts.render(locale, "digest", f"patterns.{pattern}.question", **ctx),
    )


@dataclass(frozen=True)
class Share:
    count: int
    meetings: int

    def as_json(self) -> dict[str, int]:
        return {"count": self.count, "meetings": self.meetings}


@dataclass(frozen=True)
class ActionProgress:
    """The rep's latest open (or just finished) action point and how what it targets moved since."""

    action: TrackedAction
    before: Share  # the pattern (else the point rated partly/no) in the window before the point
    since: Share  # the same since the point was set

    @property
    def measured(self) -> str | None:
        return measured_pattern(self.action)

    def as_json(self) -> dict[str, Any]:
        a = self.action
        return {
            "id": a.id,
            "text": a.text,
            "pattern": a.pattern,
            "point": a.point,
            "status": a.status,
            "created_at": a.created_at.isoformat(),
            "done_at": a.done_at.isoformat() if a.done_at else None,
            "measured": self.measured,
            "before": self.before.as_json(),
            "since": self.since.as_json(),
        }


def measured_pattern(action: TrackedAction) -> str | None:
    """The pattern a follow-up counts: the action point's own, else its point rated partly or no."""
    if action.pattern in PATTERN_POINTS:
        return action.pattern
    return f"rating:{action.point}" if action.point in POINTS else None


def progress(action: TrackedAction | None, phases: dict[int, PatternCount]) -> ActionProgress | None:
    if action is None:
        return None
    measured = measured_pattern(action)

    def share(phase: int) -> Share:
        c = phases.get(phase)
        if c is None:
            return Share(0, 0)
        return Share(c.counts.get(measured, 0) if measured else 0, c.meetings)

    return ActionProgress(action, share(0), share(1))
