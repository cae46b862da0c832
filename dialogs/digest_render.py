"""A Digest as neutral Replies: team summary first, then one Reply per rep, then the chart.

Files travel with a Reply as `Reply.attachment` (a dialogs.messages.FileAttachment).
bot.delivery.to_outgoing lifts them into bot.delivery.Outgoing.attachments for the Slack/Teams
senders; the web chat shows images inline.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from dialogs.action_assign import assign_form
from dialogs.checklist import POINTS
from dialogs.digest import Digest, Figures, RepDigest
from dialogs.messages import FileAttachment, Reply, TextForm
from dialogs.text import Texts, format_day, format_ratio, format_when

CHANNEL_MINIMUM_REPS = 3
NOTES_PER_REP = 5


def _t(texts: Texts, loc: str, key: str, **ctx: Any) -> str:
    return texts.render(loc, "digest", key, **ctx)


def team_name(texts: Texts, digest: Digest) -> str:
    return digest.team_name or _t(texts, digest.locale, "default_team", manager=digest.manager_name)


def _title(texts: Texts, digest: Digest, key: str = "title") -> str:
    loc = digest.locale
    last_day = (digest.period_end - timedelta(seconds=1)).date()
    return _t(
        texts,
        loc,
        key,
        team=team_name(texts, digest),
        start=format_day(digest.period_start.date(), locale=loc),
        end=format_day(last_day, locale=loc),
    )


def _rate(value: float | None, loc: str) -> str:
    return format_ratio(value, locale=loc) if value is not None else ""


def _close_rate(texts: Texts, loc: str, f: Figures) -> list[str]:
    rate = f.close_rate
    if rate is None:
        return [_t(texts, loc, "close_rate_none")]
    line = _t(
        texts,
        loc,
        "close_rate",
        closed=f.closed,
        debriefs=f.debriefs,
        rate=_rate(rate, loc),
        in_ten=round(rate * 10),
        previous=_rate(f.close_rate_previous, loc),
    )
    level = "low" if rate < 0.15 else ("mid" if rate < 0.25 else "high")
    return [line, _t(texts, loc, f"close_goal.{level}")]


def _profile(texts: Texts, loc: str, f: Figures) -> list[str]:
    lines = [_t(texts, loc, "profile_title")]
    for p in POINTS:
        prof = f.profile[p]
        lines.append(
            _t(
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


def _score(texts: Texts, loc: str, f: Figures) -> list[str]:
    if f.score is None:
        return []
    key = f"score.{f.trend}" if f.trend else "score.new"
    return [_t(texts, loc, key, score=_rate(f.score, loc), previous=_rate(f.score_previous, loc))]


def _weakest(texts: Texts, loc: str, f: Figures, name: str) -> list[str]:
    if f.debriefs == 0:
        return []
    if f.weakest is None:
        return [_t(texts, loc, "weakest_none")]
    return [
        _t(texts, loc, "weakest", title=texts.point(loc, f.weakest, "title")),
        _t(texts, loc, "action", action=_t(texts, loc, f"actions.{f.weakest}", name=name)),
    ]


def _concessions(texts: Texts, loc: str, f: Figures) -> list[str]:
    if not (f.concessions_given or f.concessions_got):
        return []
    lines = [_t(texts, loc, "concessions", given=f.concessions_given, got=f.concessions_got)]
    if f.concessions_given > f.concessions_got:
        lines.append(_t(texts, loc, "concessions_behind"))
    return lines


def _summary_reps(texts: Texts, digest: Digest) -> str:
    f = digest.team
    return _t(texts, digest.locale, "summary_reps", reps=len(digest.reps), debriefs=f.debriefs,
              previous=f.debriefs_previous)


def summary_reply(texts: Texts, digest: Digest) -> Reply:
    loc, f = digest.locale, digest.team
    if not digest.reps:
        return Reply(kind="digest", title=_title(texts, digest), text=_t(texts, loc, "no_reps"))
    items = [_summary_reps(texts, digest)]
    quiet = [r.name for r in digest.reps if r.figures.debriefs == 0]
    if quiet:
        items.append(_t(texts, loc, "summary_quiet_reps", names=", ".join(quiet)))
    items += _close_rate(texts, loc, f) + _score(texts, loc, f) + _profile(texts, loc, f)
    if f.debriefs and f.weakest:
        items.append(_t(texts, loc, "weakest", title=texts.point(loc, f.weakest, "title")))
    elif f.debriefs:
        items.append(_t(texts, loc, "weakest_none"))
    items.append(_t(texts, loc, "missed_meetings", count=digest.meetings_without_debrief))
    items.append(_t(texts, loc, "missed_steps", count=digest.missed_next_steps))
    items += _concessions(texts, loc, f)
    return Reply(
        kind="digest",
        title=_title(texts, digest),
        text=_t(texts, loc, "summary_title"),
        items=tuple(items),
        meta={"section": "summary"},
    )


def assign_form_of(texts: Texts, digest: Digest, rep: RepDigest) -> TextForm:
    """The form under a rep's part of their manager's digest: the action point to send."""
    return assign_form(texts, digest.locale, rep_id=rep.person_id, rep_name=rep.name, proposed="")


def rep_reply(texts: Texts, digest: Digest, rep: RepDigest, *, form: bool = False) -> Reply:
    """One rep's part; `form`: with the action point to send them (their own manager's digest)."""
    loc, f = digest.locale, rep.figures
    if f.debriefs:
        items = [_t(texts, loc, "debriefs", debriefs=f.debriefs, previous=f.debriefs_previous)]
        items += _profile(texts, loc, f) + _weakest(texts, loc, f, rep.name) + _score(texts, loc, f)
        items += _close_rate(texts, loc, f)[:1] + _concessions(texts, loc, f)
    else:
        items = [_t(texts, loc, "no_debriefs", previous=f.debriefs_previous)]
    if rep.meetings_without_debrief:
        items.append(_t(texts, loc, "missed_meetings", count=len(rep.meetings_without_debrief)))
        items += [
            _t(
                texts,
                loc,
                "missed_meeting_line",
                account=m.account,
                when=format_when(m.starts_at, locale=loc, tz=digest.timezone),
            )
            for m in rep.meetings_without_debrief
        ]
    if rep.missed_next_steps:
        items.append(_t(texts, loc, "missed_steps", count=len(rep.missed_next_steps)))
        items += [
            _t(
                texts,
                loc,
                "missed_step_line",
                account=s.account,
                what=s.what or "",
                due=format_day(s.due, locale=loc),
            )
            for s in rep.missed_next_steps
        ]
    if digest.share_notes:
        items += [
            _t(
                texts,
                loc,
                "note_line",
                point=texts.point(loc, n.point, "title"),
                account=n.account,
                note=n.note,
            )
            for n in rep.notes[:NOTES_PER_REP]
        ]
    return Reply(
        kind="digest",
        title=rep.name,
        items=tuple(items),
        meta={"section": "rep", "person_id": rep.person_id},
        form=assign_form_of(texts, digest, rep) if form else None,
    )


def chart_reply(texts: Texts, digest: Digest) -> Reply:
    loc = digest.locale
    from dialogs.digest_chart import chart_png  # matplotlib is heavy: load it on first chart

    png = chart_png(digest, texts)
    day = digest.period_end.date().isoformat()
    return Reply(
        kind="digest",
        title=_t(texts, loc, "chart_title"),
        meta={"section": "chart"},
        attachment=FileAttachment(
            filename=f"digest-{day}.png",
            content=png,
            mime_type="image/png",
            title=_t(texts, loc, "chart_title"),
        ),
    )


def digest_replies(texts: Texts, digest: Digest, *, chart: bool = True) -> list[Reply]:
    """The manager's DM: summary, one Reply per rep, and the chart image."""
    replies = [summary_reply(texts, digest)]
    if not digest.reps:
        return replies
    replies += [rep_reply(texts, digest, r, form=True) for r in digest.reps]
    if chart:
        replies.append(chart_reply(texts, digest))
    return replies


def channel_replies(texts: Texts, digest: Digest) -> list[Reply]:
    """Team totals only (no names, no accounts) and only for teams of at least three reps."""
    loc, f = digest.locale, digest.team
    if len(digest.reps) < CHANNEL_MINIMUM_REPS:
        return [
            Reply(
                kind="error",
                text=_t(texts, loc, "channel_too_small", minimum=CHANNEL_MINIMUM_REPS, reps=len(digest.reps)),
            )
        ]
    items = [_summary_reps(texts, digest)]
    items += _close_rate(texts, loc, f) + _score(texts, loc, f) + _profile(texts, loc, f)
    if f.debriefs and f.weakest:
        items.append(_t(texts, loc, "weakest", title=texts.point(loc, f.weakest, "title")))
    items.append(_t(texts, loc, "missed_meetings", count=digest.meetings_without_debrief))
    items.append(_t(texts, loc, "missed_steps", count=digest.missed_next_steps))
    items += _concessions(texts, loc, f)
    return [
        Reply(
            kind="digest",
            title=_title(texts, digest, "channel_title"),
            items=tuple(items),
            meta={"section": "channel"},
        )
    ]
