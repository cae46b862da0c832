"""The manager's digest: pure computation over the storage.digest_queries results.

`compute_digests` runs the fixed set of aggregate queries once for any number of managers and
turns them into one `Digest` per manager (team summary + one `RepDigest` per rep, each with the
action point proposed from the rep's own debriefs). Definitions of the figures are in
dialogs.digest_figures; rendering to Replies is dialogs.digest_render, the chart
dialogs.digest_chart; `Digest.as_json()` is what `coach digest preview --json` prints.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Protocol, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.action_proposal import ActionProgress, ActionProposal, chosen_pattern, progress, propose
from dialogs.checklist import POINTS
from dialogs.digest_figures import Deals, Figures, MonthDeals, PointEvidence, PointProfile, WeekCell
from dialogs.text import Texts, default_texts
from storage.action_points import ActionCounts
from storage.debrief_patterns import ExampleMeeting, PatternCount, example_meetings
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


@dataclass(frozen=True)
class RepDigest:
    person_id: int
    name: str
    figures: Figures
    meetings_without_debrief: tuple[MissedMeeting, ...]
    missed_next_steps: tuple[MissedStep, ...]
    notes: tuple[NoteRow, ...] = ()
    action_point: ActionProposal | None = None
    action_points_open: int = 0
    action_points_done: int = 0  # done by the rep, or closed by the manager, in the period
    progress: ActionProgress | None = None
    weeks: tuple[WeekCell, ...] = ()
    pattern_meetings: int = 0  # debriefs in the pattern window the action point was chosen from

    def as_json(self) -> dict[str, Any]:
        return {
            "person_id": self.person_id,
            "name": self.name,
            "action_point": self.action_point.as_json() if self.action_point else None,
            "action_points_open": self.action_points_open,
            "action_points_done": self.action_points_done,
            "action_point_progress": self.progress.as_json() if self.progress else None,
            **self.figures.as_json(),
            "weeks": [w.as_json() for w in self.weeks],
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
    weeks: tuple[WeekCell, ...] = ()  # the team's checklist score per period, oldest first
    months: tuple[MonthDeals, ...] = ()  # the team's deals per calendar month, oldest first
    evidence: dict[str, PointEvidence] = field(default_factory=dict)
    evidence_since: datetime | None = None
    pattern_start: datetime | None = None

    @property
    def meetings_without_debrief(self) -> int:
        return sum(len(r.meetings_without_debrief) for r in self.reps)

    @property
    def missed_next_steps(self) -> int:
        return sum(len(r.missed_next_steps) for r in self.reps)

    @property
    def action_points_open(self) -> int:
        return sum(r.action_points_open for r in self.reps)

    @property
    def action_points_done(self) -> int:
        return sum(r.action_points_done for r in self.reps)

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
                "action_points_open": self.action_points_open,
                "action_points_done": self.action_points_done,
                "meetings_without_debrief": self.meetings_without_debrief,
                "missed_next_steps": self.missed_next_steps,
                "point_evidence": {p: self.evidence.get(p, PointEvidence()).as_json() for p in POINTS},
                "evidence_since": self.evidence_since.isoformat() if self.evidence_since else None,
                "win_rate_by_month": [m.as_json() for m in self.months],
                "weeks": [w.as_json() for w in self.weeks],
            },
            "reps": [r.as_json() for r in self.reps],
        }


Ratings = dict[str, tuple[int, int, int]]  # point -> (yes, partly, no)
_NONE = (0, 0, 0)


def _by_bucket(outcomes: Sequence[OutcomeCount]) -> dict[int, list[OutcomeCount]]:
    out: dict[int, list[OutcomeCount]] = defaultdict(list)
    for o in outcomes:
        out[o.bucket].append(o)
    return out


def _figures(
    outcomes: Sequence[OutcomeCount], ratings: dict[int, Ratings], deals: dict[int, Deals]
) -> Figures:
    buckets = _by_bucket(outcomes)
    cur, prev = buckets[0], buckets[1]
    now, before = ratings.get(0, {}), ratings.get(1, {})
    return Figures(
        debriefs=sum(o.debriefs for o in cur),
        debriefs_previous=sum(o.debriefs for o in prev),
        closing=sum(o.closing for o in cur),
        closing_previous=sum(o.closing for o in prev),
        profile={p: PointProfile(*now.get(p, _NONE)) for p in POINTS},
        profile_previous={p: PointProfile(*before.get(p, _NONE)) for p in POINTS},
        concessions_given=sum(o.concessions_given for o in cur),
        concessions_got=sum(o.concessions_got for o in cur),
        deals=deals.get(0, Deals()),
        deals_previous=deals.get(1, Deals()),
    )


def _weeks(
    period: Period, outcomes: Sequence[OutcomeCount], ratings: dict[int, Ratings]
) -> tuple[WeekCell, ...]:
    debriefs = {b: sum(o.debriefs for o in rows) for b, rows in _by_bucket(outcomes).items()}
    cells = []
    for i in reversed(range(period.buckets)):
        counts = ratings.get(i, {}).values()
        answers = PointProfile(
            sum(c[0] for c in counts), sum(c[1] for c in counts), sum(c[2] for c in counts)
        )
        cells.append(
            WeekCell(period.bucket_start(i), period.bucket_start(i - 1), debriefs.get(i, 0), answers)
        )
    return tuple(cells)


def example_ids(data: DigestData) -> list[int]:
    """The example meetings the proposals will name: one per rep, known before rendering."""
    ids = []
    for counts in data.coaching.patterns:
        chosen = chosen_pattern(counts)
        if chosen is not None and chosen[1] in counts.examples:
            ids.append(counts.examples[chosen[1]])
    return ids


class _HasPerson(Protocol):
    @property
    def person_id(self) -> int: ...


R = TypeVar("R", bound=_HasPerson)


def _by_person(rows: Iterable[R]) -> dict[int, list[R]]:
    out: dict[int, list[R]] = defaultdict(list)
    for row in rows:
        out[row.person_id].append(row)
    return out


@dataclass
class _RepRows:
    """One rep's rows out of the batch, and the sums the team adds up."""

    outcomes: list[OutcomeCount] = field(default_factory=list)
    ratings: dict[int, Ratings] = field(default_factory=dict)  # by trend bucket
    deals: dict[int, Deals] = field(default_factory=dict)  # by period bucket
    months: dict[int, Deals] = field(default_factory=dict)  # by month index
    evidence: dict[str, PointEvidence] = field(default_factory=dict)

    def add(self, other: _RepRows) -> None:
        self.outcomes += other.outcomes
        for bucket, theirs in other.ratings.items():
            mine = self.ratings.setdefault(bucket, {})
            for p, (y, partly, n) in theirs.items():
                a = mine.get(p, _NONE)
                mine[p] = (a[0] + y, a[1] + partly, a[2] + n)
        for bucket, deals in other.deals.items():
            self.deals[bucket] = self.deals.get(bucket, Deals()).plus(deals)
        for month, deals in other.months.items():
            self.months[month] = self.months.get(month, Deals()).plus(deals)
        for point, e in other.evidence.items():
            self.evidence[point] = self.evidence.get(point, PointEvidence()).plus(e)

    def figures(self) -> Figures:
        return _figures(self.outcomes, self.ratings, self.deals)


def _rep_rows(data: DigestData) -> dict[int, _RepRows]:
    rows: dict[int, _RepRows] = defaultdict(_RepRows)
    for o in data.outcomes:
        rows[o.person_id].outcomes.append(o)
    for c in data.weekly:
        rows[c.person_id].ratings[c.bucket] = c.ratings
    for d in data.coaching.deals:
        r = rows[d.person_id]
        r.deals[d.bucket] = r.deals.get(d.bucket, Deals()).plus(Deals(d.won, d.lost))
        r.months[d.month] = r.months.get(d.month, Deals()).plus(Deals(d.won, d.lost))
    for e in data.coaching.evidence:
        r = rows[e.person_id]
        for p in POINTS:
            well, weak = e.well.get(p, 0), e.weak.get(p, 0)
            if well or weak:
                r.evidence[p] = r.evidence.get(p, PointEvidence()).plus(
                    PointEvidence(well * e.won, well, weak * e.won, weak)
                )
    return rows


def build_digests(
    data: DigestData,
    *,
    share_notes: bool,
    default_locale: str = "en",
    default_timezone: str = "Europe/Amsterdam",
    texts: Texts | None = None,
    examples: dict[int, ExampleMeeting] | None = None,
) -> list[Digest]:
    """One Digest per manager in `data`, reps in name order. Pure: no I/O."""
    texts = texts or default_texts()
    period, coaching = data.period, data.coaching
    rows = _rep_rows(data)
    patterns = {c.person_id: c for c in coaching.patterns}
    tracked = {a.person_id: a for a in coaching.tracked}
    tracked_phases: dict[int, dict[int, PatternCount]] = defaultdict(dict)
    for c in coaching.tracked_patterns:
        tracked_phases[c.person_id][c.tracked] = c
    missed_m, missed_s = _by_person(data.missed_meetings), _by_person(data.missed_steps)
    notes = _by_person(data.notes)
    locale_of = {m.id: _locale(m, default_locale) for m in data.managers}
    reps_of: dict[int, list[RepDigest]] = defaultdict(list)
    for rep in data.reps:
        counts = coaching.action_counts.get(rep.id, ActionCounts())
        pattern = patterns.get(rep.id)
        reps_of[rep.manager_id].append(
            RepDigest(
                person_id=rep.id,
                name=rep.name or rep.email or f"#{rep.id}",
                figures=rows[rep.id].figures(),
                meetings_without_debrief=tuple(missed_m.get(rep.id, ())),
                missed_next_steps=tuple(missed_s.get(rep.id, ())),
                notes=tuple(notes.get(rep.id, ())) if share_notes else (),
                action_point=propose(
                    texts, locale_of.get(rep.manager_id, default_locale), pattern, examples or {}
                ),
                action_points_open=counts.open,
                action_points_done=counts.done,
                progress=progress(tracked.get(rep.id), tracked_phases[rep.id]),
                weeks=_weeks(period, rows[rep.id].outcomes, rows[rep.id].ratings),
                pattern_meetings=pattern.meetings if pattern else 0,
            )
        )
    month_starts = period.month_starts()
    digests = []
    for manager in data.managers:
        reps = reps_of[manager.id]
        team = _RepRows()
        for r in reps:
            team.add(rows[r.person_id])
        digests.append(
            Digest(
                manager_id=manager.id,
                workspace_id=manager.workspace_id,
                manager_name=manager.name or manager.email or f"#{manager.id}",
                team_name=manager.team_name,
                channel_id=manager.channel_id,
                locale=locale_of[manager.id],
                timezone=manager.timezone or default_timezone,
                period_start=period.start,
                period_end=period.end,
                share_notes=share_notes,
                team=team.figures(),
                reps=tuple(reps),
                weeks=_weeks(period, team.outcomes, team.ratings),
                months=tuple(
                    MonthDeals(start, team.months.get(i, Deals())) for i, start in enumerate(month_starts)
                ),
                evidence=team.evidence,
                evidence_since=period.evidence_start,
                pattern_start=period.pattern_start,
            )
        )
    return digests


def _locale(manager: ManagerRow, default_locale: str) -> str:
    return manager.locale if manager.locale in ("en", "nl") else default_locale


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
    texts: Texts | None = None,
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
    examples = await example_meetings(session=session, debrief_ids=example_ids(data))
    return build_digests(
        data,
        share_notes=share_notes,
        default_locale=default_locale,
        default_timezone=default_timezone,
        texts=texts,
        examples=examples,
    )
