"""The digest's lines, one builder per figure; dialogs.digest_render puts them in order.

Everything here is addressed to the manager reading the digest; the action point's own text
(what the manager sends) is addressed to the rep.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from dialogs.action_proposal import ActionProgress, ActionProposal
from dialogs.checklist import POINTS
from dialogs.digest_figures import MIN_DEALS, MIN_EVIDENCE, Figures, PointEvidence
from dialogs.text import Texts, format_day, format_ratio


def t(texts: Texts, loc: str, key: str, **ctx: Any) -> str:
    return texts.render(loc, "digest", key, **ctx)


def rate(value: float | None, loc: str) -> str:
    return format_ratio(value, locale=loc) if value is not None else ""


def day(moment: datetime, loc: str) -> str:
    return format_day(moment.date(), locale=loc)


def points_signed(value: float) -> str:
    """A difference of shares in whole percentage points, with its sign ("+36", "−5", "0")."""
    n = round(value * 100)
    return f"+{n}" if n > 0 else (f"−{-n}" if n < 0 else "0")


def win_rate(texts: Texts, loc: str, f: Figures, *, goal: bool) -> list[str]:
    deals = f.deals
    if deals.win_rate is None:
        return [t(texts, loc, "win_rate_few", won=deals.won, concluded=deals.concluded, minimum=MIN_DEALS)]
    lines = [
        t(
            texts,
            loc,
            "win_rate",
            won=deals.won,
            concluded=deals.concluded,
            rate=rate(deals.win_rate, loc),
            previous=rate(f.deals_previous.win_rate, loc),
        )
    ]
    if goal:
        level = "below" if deals.win_rate < 0.1 else ("start" if deals.win_rate < 0.3 else "aim")
        lines.append(t(texts, loc, f"win_goal.{level}"))
    return lines


def closing_rate(texts: Texts, loc: str, f: Figures) -> list[str]:
    if not f.debriefs:
        return []
    return [
        t(texts, loc, "closing_rate", closing=f.closing, meetings=f.debriefs, rate=rate(f.closing_rate, loc))
    ]


def profile(texts: Texts, loc: str, f: Figures) -> list[str]:
    lines = [t(texts, loc, "profile_title")]
    for p in POINTS:
        prof = f.profile[p]
        lines.append(
            t(
                texts,
                loc,
                "profile_line",
                title=texts.point(loc, p, "title"),
                yes=prof.yes,
                partly=prof.partly,
                no=prof.no,
            )
        )
    return lines


def score(texts: Texts, loc: str, f: Figures) -> list[str]:
    if f.score is None:
        return []
    key = f"score.{f.trend}" if f.trend else "score.new"
    return [t(texts, loc, key, score=rate(f.score, loc), previous=rate(f.score_previous, loc))]


def concessions(texts: Texts, loc: str, f: Figures, *, rep_name: str | None) -> list[str]:
    if not (f.concessions_given or f.concessions_got):
        return []
    lines = [t(texts, loc, "concessions", given=f.concessions_given, got=f.concessions_got)]
    if f.concessions_given > f.concessions_got:
        if rep_name is None:
            lines.append(t(texts, loc, "concessions_behind_team"))
        else:
            lines.append(t(texts, loc, "concessions_behind_rep", name=rep_name))
    return lines


def evidence(texts: Texts, loc: str, table: dict[str, PointEvidence], since: datetime | None) -> list[str]:
    since_day = day(since, loc) if since else ""
    shown = [(p, e) for p in POINTS if (e := table.get(p, PointEvidence())).enough]
    if not shown:
        return [t(texts, loc, "evidence_none", since=since_day, minimum=MIN_EVIDENCE)]
    lines = [t(texts, loc, "evidence_title", since=since_day)]
    for p, e in shown:
        interval = e.interval
        assert interval is not None
        lines.append(
            t(
                texts,
                loc,
                "evidence_line",
                title=texts.point(loc, p, "title"),
                well_won=e.well_won,
                well_n=e.well_n,
                weak_won=e.weak_won,
                weak_n=e.weak_n,
                difference=points_signed(interval.difference),
                low=points_signed(interval.low),
                high=points_signed(interval.high),
            )
        )
    hidden = [texts.point(loc, p, "title") for p in POINTS if not table.get(p, PointEvidence()).enough]
    if hidden:
        lines.append(t(texts, loc, "evidence_hidden", titles=", ".join(hidden)))
    lines.append(t(texts, loc, "evidence_caveat"))
    return lines


def proposal(
    texts: Texts, loc: str, name: str, point: ActionProposal | None, meetings: int, since: datetime | None
) -> list[str]:
    since_day = day(since, loc) if since else ""
    if point is None:
        key = "proposal_all_well" if meetings else "proposal_no_meetings"
        return [
            t(texts, loc, key, name=name, since=since_day, meetings=meetings),
            t(texts, loc, f"{key}_question", name=name),
        ]
    example = point.example
    return [
        t(
            texts,
            loc,
            "proposal",
            title=texts.point(loc, point.point, "title"),
            count=point.count,
            meetings=point.meetings,
            since=since_day,
            seen=t(texts, loc, f"patterns.{point.pattern}.seen"),
            account=example.account if example else "",
            day=day(example.created_at, loc) if example else "",
        ),
        t(texts, loc, "proposal_text", name=name, text=point.text),
        t(texts, loc, "proposal_question", name=name, question=point.question),
    ]


def action_points(texts: Texts, loc: str, open_: int, done: int) -> list[str]:
    if not (open_ or done):
        return []
    return [t(texts, loc, "action_points", open=open_, done=done)]


def progress(texts: Texts, loc: str, moved: ActionProgress | None) -> list[str]:
    if moved is None or moved.measured is None:
        return []
    a = moved.action
    ctx = {
        "day": day(a.created_at, loc),
        "status": t(texts, loc, f"progress_status.{a.status}"),
        "before_count": moved.before.count,
        "before_meetings": moved.before.meetings,
    }
    if moved.since.meetings == 0:
        return [t(texts, loc, "progress_no_meetings", **ctx)]
    return [
        t(
            texts,
            loc,
            "progress",
            seen=t(texts, loc, f"patterns.{moved.measured}.seen"),
            since_count=moved.since.count,
            since_meetings=moved.since.meetings,
            **ctx,
        )
    ]
