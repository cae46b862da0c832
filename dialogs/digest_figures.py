"""The digest's figures, counted the same way for a rep and for the team.

Definitions (also in the README and the digest's own words):
- score of a point: yes = 1, partly = ½, no = 0, averaged over the period's debriefs;
- weakest point: the lowest score below 1; ties go to the earlier checklist point;
- trend: the overall checklist score against the previous period of equal length; "up"/"down"
  from a change of 5 percentage points, else "steady"; None when either period has no debriefs;
- win rate per deal: won / (won + lost) over the deals concluded in the period (a deal is an
  account's run of debriefs by one rep until closed = won, or lost); None below MIN_DEALS;
- closing rate per meeting: meetings ending closed or with a next step agreed / meetings;
- the team's evidence per point: the win rate of deals where the point went well (its mean score
  over the deal's debriefs above ½) against deals where it did not, with Newcombe's hybrid score
  interval (from two Wilson intervals) for the difference, only from MIN_EVIDENCE deals a side.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from dialogs.checklist import POINTS

TREND_STEP = 0.05  # a change of 5 percentage points in the checklist score is a trend
MIN_DEALS = 5  # below this many concluded deals a win rate says nothing
MIN_EVIDENCE = 10  # deals on each side before the team's evidence for a point is shown
Z95 = 1.959963984540054


class PointProfile(NamedTuple):  # a tuple: the digest adds tens of thousands of them up
    yes: int = 0
    partly: int = 0
    no: int = 0

    @property
    def total(self) -> int:
        return self.yes + self.partly + self.no

    @property
    def score(self) -> float | None:
        return (self.yes + self.partly / 2) / self.total if self.total else None

    def plus(self, other: PointProfile) -> PointProfile:
        return PointProfile(self.yes + other.yes, self.partly + other.partly, self.no + other.no)


def overall(profile: dict[str, PointProfile]) -> PointProfile:
    values = profile.values()
    return PointProfile(sum(p.yes for p in values), sum(p.partly for p in values), sum(p.no for p in values))


def weakest_of(profile: dict[str, PointProfile]) -> str | None:
    scored = [
        (s, POINTS.index(p), p) for p, prof in profile.items() if (s := prof.score) is not None and s < 1
    ]
    return min(scored)[2] if scored else None


@dataclass(frozen=True)
class Deals:
    won: int = 0
    lost: int = 0

    @property
    def concluded(self) -> int:
        return self.won + self.lost

    @property
    def win_rate(self) -> float | None:
        return self.won / self.concluded if self.concluded >= MIN_DEALS else None

    def plus(self, other: Deals) -> Deals:
        return Deals(self.won + other.won, self.lost + other.lost)

    def as_json(self) -> dict[str, Any]:
        return {"won": self.won, "lost": self.lost, "win_rate": self.win_rate}


@dataclass(frozen=True)
class Figures:
    """What is counted the same way for one rep and for the whole team."""

    debriefs: int
    debriefs_previous: int
    closing: int
    closing_previous: int
    profile: dict[str, PointProfile]
    profile_previous: dict[str, PointProfile]
    concessions_given: int
    concessions_got: int
    deals: Deals = Deals()
    deals_previous: Deals = Deals()

    @property
    def closing_rate(self) -> float | None:
        return self.closing / self.debriefs if self.debriefs else None

    @property
    def score(self) -> float | None:
        return overall(self.profile).score

    @property
    def score_previous(self) -> float | None:
        return overall(self.profile_previous).score

    @property
    def weakest(self) -> str | None:
        return weakest_of(self.profile)

    @property
    def trend(self) -> str | None:
        now, before = self.score, self.score_previous
        if now is None or before is None:
            return None
        if now - before >= TREND_STEP - 1e-9:
            return "up"
        if before - now >= TREND_STEP - 1e-9:
            return "down"
        return "steady"

    def as_json(self) -> dict[str, Any]:
        return {
            "debriefs": self.debriefs,
            "debriefs_previous": self.debriefs_previous,
            "deals": self.deals.as_json(),
            "deals_previous": self.deals_previous.as_json(),
            "meetings": {"count": self.debriefs, "closing": self.closing, "closing_rate": self.closing_rate},
            "profile": {p: v._asdict() for p, v in self.profile.items()},
            "profile_previous": {p: v._asdict() for p, v in self.profile_previous.items()},
            "score": self.score,
            "score_previous": self.score_previous,
            "trend": self.trend,
            "weakest": self.weakest,
            "concessions_given": self.concessions_given,
            "concessions_got": self.concessions_got,
        }


def wilson(successes: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson's score interval for a proportion."""
    if n == 0:
        return 0.0, 1.0
    p = successes / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


@dataclass(frozen=True)
class Interval:
    """95% interval for (win rate when the point went well) − (win rate when it did not)."""

    difference: float
    low: float
    high: float
    method: str = "newcombe"

    def as_json(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "confidence": 0.95,
            "difference": self.difference,
            "low": self.low,
            "high": self.high,
        }


@dataclass(frozen=True)
class PointEvidence:
    well_won: int = 0
    well_n: int = 0
    weak_won: int = 0
    weak_n: int = 0

    @property
    def enough(self) -> bool:
        return self.well_n >= MIN_EVIDENCE and self.weak_n >= MIN_EVIDENCE

    @property
    def interval(self) -> Interval | None:
        """Newcombe's hybrid score interval (his method 10) from the two Wilson intervals."""
        if not self.enough:
            return None
        p1, p2 = self.well_won / self.well_n, self.weak_won / self.weak_n
        l1, u1 = wilson(self.well_won, self.well_n)
        l2, u2 = wilson(self.weak_won, self.weak_n)
        d = p1 - p2
        return Interval(
            d, d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2), d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
        )

    def plus(self, other: PointEvidence) -> PointEvidence:
        return PointEvidence(
            self.well_won + other.well_won,
            self.well_n + other.well_n,
            self.weak_won + other.weak_won,
            self.weak_n + other.weak_n,
        )

    def as_json(self) -> dict[str, Any]:
        interval = self.interval
        return {
            "well_won": self.well_won,
            "well_n": self.well_n,
            "weak_won": self.weak_won,
            "weak_n": self.weak_n,
            "interval": interval.as_json() if interval else None,
        }


@dataclass(frozen=True)
class WeekCell:
    """One period of the weekly grid: the checklist score over its debriefs (None: no debriefs)."""

    start: datetime
    end: datetime
    debriefs: int
    answers: PointProfile

    @property
    def score(self) -> float | None:
        return self.answers.score if self.debriefs else None

    def as_json(self) -> dict[str, Any]:
        return {"end": self.end.isoformat(), "debriefs": self.debriefs, "score": self.score}


@dataclass(frozen=True)
class MonthDeals:
    start: datetime
    deals: Deals

    def as_json(self) -> dict[str, Any]:
        return {"month": self.start.strftime("%Y-%m"), **self.deals.as_json()}
