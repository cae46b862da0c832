"""What the preparation and the nudge of one meeting are built from, worked out once from what a
batch read (storage.nudge_queries.NudgeBatch): the rep, the meeting, the last debrief with the
account and its answers, whether the meeting is formal, and which counter-tactics to show."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from dialogs.checklist import POINTS, SCORE
from dialogs.context import CoachContext
from dialogs.debrief import Rep
from dialogs.recap import Answers
from dialogs.tactic_fit import (
    CHOICES_OFFERED,
    TACTICS_PER_NUDGE,
    choose_tactics,
    fits_of,
    situation,
)
from storage.meetings import MeetingView
from storage.models import Debrief, Person, not_null
from storage.nudge_queries import NudgeBatch

FORMAL_BY_DEBRIEF = "customer_formal"  # agenda_set_by: the customer, formally


@dataclass(frozen=True)
class MeetingBrief:
    rep: Rep
    view: MeetingView
    last: Debrief | None  # the rep's last debrief with the account
    answers: Answers  # that debrief's point -> (rating, note)
    tags: frozenset[str]  # the situation (dialogs.tactic_fit.FIT_TAGS)
    tactics: tuple[str, ...]  # library keys to show: the rep's own choice first
    own: tuple[str, ...]  # counter-tactics the rep wrote in their own words
    chosen_by_rep: bool  # the rep chose (some of) them in the preparation
    offered: tuple[str, ...]  # the best-fitting ones, for the preparation's buttons (if asked)
    weak: str | None  # the rep's weakest point lately

    @property
    def meeting_id(self) -> int:
        return not_null(self.view.meeting.id)

    @property
    def formal_by_debrief(self) -> bool:
        return self.last is not None and self.last.agenda_set_by == FORMAL_BY_DEBRIEF

    @property
    def formal(self) -> bool:
        """The customer sets the agenda: the invite says so, or the last debrief did. Its messages
        lead with the counter-tactics."""
        return self.view.formal or self.formal_by_debrief


def weakest_point(recent: Iterable[Mapping[str, str]]) -> str | None:
    """The point with the worst summed rating over recent debriefs (checklist order breaks ties)."""
    totals = {p: 0 for p in POINTS}
    for ratings in recent:
        for point, rating in ratings.items():
            if point in totals:
                totals[point] += SCORE.get(rating, 0)
    worst = max(POINTS, key=lambda p: (totals[p], -POINTS.index(p)))
    return worst if totals[worst] > 0 else None


def rep_of(ctx: CoachContext, person: Person) -> Rep:
    return Rep(
        id=not_null(person.id),
        workspace_id=person.workspace_id,
        name=person.display_name,
        locale=person.locale if person.locale in ("en", "nl") else ctx.default_locale,
        timezone=person.timezone or ctx.default_timezone,
        manager_name=None,
    )


def meeting_brief(
    ctx: CoachContext, batch: NudgeBatch, person_id: int, meeting_id: int, *, offer: bool = False
) -> MeetingBrief | None:
    """The brief of this person's meeting; None when either is gone or the meeting is not theirs.
    `offer`: also pick the tactics a preparation offers as buttons."""
    person = batch.people.get(person_id)
    view = batch.meetings.get(meeting_id)
    if person is None or view is None or view.meeting.person_id != person.id:
        return None
    rep = rep_of(ctx, person)
    library = ctx.texts.data(rep.locale, "tactics")
    keys = list(library)
    last = batch.last_debrief.get((rep.id, view.meeting.account_id))
    answers = batch.last_answers.get(not_null(last.id), {}) if last is not None else {}
    tags = situation(
        view=view, last=last, ratings={p: r for p, (r, _) in answers.items()},
        demand_words=ctx.texts.data(rep.locale, "tactic_signals"),
    )
    fits = fits_of(library)
    past = [h for h in batch.history.get(rep.id, []) if h.meeting_id != meeting_id]
    chosen = batch.chosen.get(meeting_id, [])
    picked = [c.tactic for c in chosen if c.tactic is not None and c.tactic in library]
    own = tuple(c.own_text for c in chosen if c.tactic is None and c.own_text is not None)
    if picked or own:
        fill = max(0, TACTICS_PER_NUDGE - len(picked) - len(own))
        more = choose_tactics(keys, past, fits=fits, tags=tags, n=fill, already=picked)
        tactics = [*picked, *more][:TACTICS_PER_NUDGE]
    else:
        before = [k for k in batch.chosen_before.get(meeting_id, []) if k in library]
        tactics = before[:TACTICS_PER_NUDGE] or choose_tactics(keys, past, fits=fits, tags=tags)
    return MeetingBrief(
        rep=rep,
        view=view,
        last=last,
        answers=answers,
        tags=tags,
        tactics=tuple(tactics),
        own=own,
        chosen_by_rep=bool(picked or own),
        offered=tuple(choose_tactics(keys, past, fits=fits, tags=tags, n=CHOICES_OFFERED)) if offer else (),
        weak=weakest_point(batch.recent_ratings.get(rep.id, {}).values()),
    )
