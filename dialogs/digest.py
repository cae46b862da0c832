"""The manager's digest as figures: pure computation over storage.digest_queries results.

`compute_digests` runs the fixed set of aggregate queries once for any number of managers and
turns them into one `Digest` per manager (team summary + one `RepDigest` per rep). Rendering to
Replies is dialogs.digest_render, the chart dialogs.digest_chart; `Digest.as_json()` is what
`coach digest preview --json` prints.

Definitions (also in the README):
- score of a point: yes = 1, partly = ½, no = 0, averaged over the period's debriefs;
- weakest point: the lowest score below 1; ties go to the earlier checklist point;
- trend: the overall checklist score against the previous period of equal length; "up"/"down"
  from a change of 5 percentage points, else "steady"; None when either period has no debriefs;
- close rate: closed outcomes / debriefs in the period.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.checklist import POINTS
from storage.digest_queries import (
    DigestData,
    ManagerRow,
    MissedMeeting,
    MissedStep,
    NoteRow,
    OutcomeCount,
    Period,
    load_digest_data,
)

TREND_STEP = 0.05  # a change of 5 percentage points in the checklist score is a trend


@dataclass(frozen=True)
class PointProfile:
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


@dataclass(frozen=True)
class Figures:
    """What is counted the same way for one rep and for the whole team."""

    debriefs: int
    debriefs_previous: int
    closed: int
    closed_previous: int
    profile: dict[str, PointProfile]
    profile_previous: dict[str, PointProfile]
    concessions_given: int
    concessions_got: int

    @property
    def close_rate(self) -> float | None:
        return self.closed / self.debriefs if self.debriefs else None

    @property
    def close_rate_previous(self) -> float | None:
        return self.closed_previous / self.debriefs_previous if self.debriefs_previous else None

    @property
    def score(self) -> float | None:
        return _overall(self.profile)

    @property
    def score_previous(self) -> float | None:
        return _overall(self.profile_previous)

    @property
    def weakest(self) -> str | None:
        scored = [
            (s, POINTS.index(p), p)
            for p, prof in self.profile.items()
            if (s := prof.score) is not None and s < 1
        ]
        return min(scored)[2] if scored else None

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
            "closed": self.closed,
            "closed_previous": self.closed_previous,
            "close_rate": self.close_rate,
            "close_rate_previous": self.close_rate_previous,
            "profile": {p: asdict(v) for p, v in self.profile.items()},
            "profile_previous": {p: asdict(v) for p, v in self.profile_previous.items()},
            "score": self.score,
            "score_previous": self.score_previous,
            "trend": self.trend,
            "weakest": self.weakest,
            "concessions_given": self.concessions_given,
            "concessions_got": self.concessions_got,
        }


def _overall(profile: dict[str, PointProfile]) -> float | None:
    total = PointProfile()
    for prof in profile.values():
        total = total.plus(prof)
    return total.score


@dataclass(frozen=True)
class RepDigest:
    person_id: int
    name: str
    figures: Figures
    meetings_without_debrief: tuple[MissedMeeting, ...]
    missed_next_steps: tuple[MissedStep, ...]
    notes: tuple[NoteRow, ...] = ()

    def as_json(self) -> dict[str, Any]:
        return {
            "person_id": self.person_id,
            "name": self.name,
            **self.figures.as_json(),
            "meetings_without_debrief": [
                {"meeting_id": m.meeting_id, "account": m.account, "starts_at": m.starts_at.isoformat()}
                for m in self.meetings_without_debrief
            ],
            "missed_next_steps": [
                {"debrief_id": s.debrief_id, "account": s.account, "what": s.what, "due": s.due.isoformat()}
                for s in self.missed_next_steps
            ],
            "notes": [
                {
                    "point": n.point,
                    "account": n.account,
                    "note": n.note,
                    "created_at": n.created_at.isoformat(),
                }
                for n in self.notes
            ],
        }


@dataclass(frozen=True)
class TrendPoint:
    start: datetime
    debriefs: int
    closed: int

    @property
    def close_rate(self) -> float | None:
        return self.closed / self.debriefs if self.debriefs else None


@dataclass(frozen=True)
class Digest:
    manager_id: int
    workspace_id: int
    manager_name: str
    team_name: str | None
    channel_id: str | None
    locale: str
    timezone: str
    period_start: datetime
    period_end: datetime
    share_notes: bool
    team: Figures
    reps: tuple[RepDigest, ...]
    trend: tuple[TrendPoint, ...] = field(default=())  # team close rate per period, oldest first

    @property
    def meetings_without_debrief(self) -> int:
        return sum(len(r.meetings_without_debrief) for r in self.reps)

    @property
    def missed_next_steps(self) -> int:
        return sum(len(r.missed_next_steps) for r in self.reps)

    def as_json(self) -> dict[str, Any]:
        return {
            "manager": {"id": self.manager_id, "name": self.manager_name},
            "team": self.team_name,
            "workspace_id": self.workspace_id,
            "locale": self.locale,
            "period": {"start": self.period_start.isoformat(), "end": self.period_end.isoformat()},
            "share_notes": self.share_notes,
            "summary": {
                "reps": len(self.reps),
                **self.team.as_json(),
                "meetings_without_debrief": self.meetings_without_debrief,
                "missed_next_steps": self.missed_next_steps,
                "close_rate_trend": [
                    {
                        "start": t.start.isoformat(),
                        "debriefs": t.debriefs,
                        "closed": t.closed,
                        "close_rate": t.close_rate,
                    }
                    for t in self.trend
                ],
            },
            "reps": [r.as_json() for r in self.reps],
        }


def _figures(outcomes: Sequence[OutcomeCount], points: dict[tuple[int, str], PointProfile]) -> Figures:
    cur = [o for o in outcomes if o.bucket == 0]
    prev = [o for o in outcomes if o.bucket == 1]
    return Figures(
        debriefs=sum(o.debriefs for o in cur),
        debriefs_previous=sum(o.debriefs for o in prev),
        closed=sum(o.closed for o in cur),
        closed_previous=sum(o.closed for o in prev),
        profile={p: points.get((0, p), PointProfile()) for p in POINTS},
        profile_previous={p: points.get((1, p), PointProfile()) for p in POINTS},
        concessions_given=sum(o.concessions_given for o in cur),
        concessions_got=sum(o.concessions_got for o in cur),
    )


def build_digests(
    data: DigestData,
    *,
    share_notes: bool,
    default_locale: str = "en",
    default_timezone: str = "Europe/Amsterdam",
) -> list[Digest]:
    """One Digest per manager in `data`, reps in name order. Pure: no I/O."""
    period = data.period
    outcomes: dict[int, list[OutcomeCount]] = defaultdict(list)
    for o in data.outcomes:
        outcomes[o.person_id].append(o)
    profiles_of: dict[int, dict[tuple[int, str], PointProfile]] = defaultdict(dict)
    for c in data.points:
        profiles_of[c.person_id][(c.bucket, c.point)] = PointProfile(c.yes, c.partly, c.no)
    missed_m: dict[int, list[MissedMeeting]] = defaultdict(list)
    for m in data.missed_meetings:
        missed_m[m.person_id].append(m)
    missed_s: dict[int, list[MissedStep]] = defaultdict(list)
    for s in data.missed_steps:
        missed_s[s.person_id].append(s)
    notes: dict[int, list[NoteRow]] = defaultdict(list)
    for n in data.notes:
        notes[n.person_id].append(n)
    reps_of: dict[int, list[RepDigest]] = defaultdict(list)
    for rep in data.reps:
        profiles = profiles_of[rep.id]
        reps_of[rep.manager_id].append(
            RepDigest(
                person_id=rep.id,
                name=rep.name or rep.email or f"#{rep.id}",
                figures=_figures(outcomes[rep.id], profiles),
                meetings_without_debrief=tuple(missed_m[rep.id]),
                missed_next_steps=tuple(missed_s[rep.id]),
                notes=tuple(notes[rep.id]) if share_notes else (),
            )
        )
    return [
        _digest(m, reps_of[m.id], outcomes, period, share_notes, default_locale, default_timezone)
        for m in data.managers
    ]


def _digest(
    manager: ManagerRow,
    reps: list[RepDigest],
    outcomes: dict[int, list[OutcomeCount]],
    period: Period,
    share_notes: bool,
    default_locale: str,
    default_timezone: str,
) -> Digest:
    team_profile = {key: PointProfile() for key in ((b, p) for b in (0, 1) for p in POINTS)}
    for r in reps:
        for p in POINTS:
            team_profile[(0, p)] = team_profile[(0, p)].plus(r.figures.profile[p])
            team_profile[(1, p)] = team_profile[(1, p)].plus(r.figures.profile_previous[p])
    team_outcomes = [o for r in reps for o in outcomes[r.person_id]]
    trend = []
    for i in reversed(range(period.buckets)):
        rows = [o for o in team_outcomes if o.bucket == i]
        trend.append(
            TrendPoint(period.bucket_start(i), sum(o.debriefs for o in rows), sum(o.closed for o in rows))
        )
    return Digest(
        manager_id=manager.id,
        workspace_id=manager.workspace_id,
        manager_name=manager.name or manager.email or f"#{manager.id}",
        team_name=manager.team_name,
        channel_id=manager.channel_id,
        locale=manager.locale if manager.locale in ("en", "nl") else default_locale,
        timezone=manager.timezone or default_timezone,
        period_start=period.start,
        period_end=period.end,
        share_notes=share_notes,
        team=_figures(team_outcomes, team_profile),
        reps=tuple(reps),
        trend=tuple(trend),
    )


async def compute_digests(
    *,
    session: AsyncSession,
    period: Period,
    manager_ids: Sequence[int] | None = None,
    workspace_id: int | None = None,
    share_notes: bool = False,
    default_locale: str = "en",
    default_timezone: str = "Europe/Amsterdam",
    due_from: date | None = None,
    due_to: date | None = None,
) -> list[Digest]:
    """The digests of these managers (None: every manager with reps), in a fixed number of queries."""
    data = await load_digest_data(
        session=session,
        period=period,
        manager_ids=manager_ids,
        workspace_id=workspace_id,
        include_notes=share_notes,
        due_from=due_from,
        due_to=due_to,
    )
    return build_digests(
        data, share_notes=share_notes, default_locale=default_locale, default_timezone=default_timezone
    )
