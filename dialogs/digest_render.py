"""A Digest as neutral Replies: team summary first, then one Reply per rep, then the chart.

The digest leads with the HOW: the team part opens with what to coach on, each rep's part with
the proposed action point and a question for the one-to-one; the figures follow.

Files travel with a Reply as `Reply.attachment` (a dialogs.messages.FileAttachment).
bot.delivery.to_outgoing lifts them into bot.delivery.Outgoing.attachments for the Slack/Teams
senders; the web chat shows images inline.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from dialogs import digest_lines as lines
from dialogs.digest import Digest, RepDigest
from dialogs.messages import FileAttachment, Reply
from dialogs.text import Texts, format_day, format_when

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


def _summary_reps(texts: Texts, digest: Digest) -> str:
    f = digest.team
    return _t(
        texts,
        digest.locale,
        "summary_reps",
        reps=len(digest.reps),
        debriefs=f.debriefs,
        previous=f.debriefs_previous,
    )


def summary_reply(texts: Texts, digest: Digest) -> Reply:
    """The team part, for the manager: what to coach on first, then the figures."""
    loc, f = digest.locale, digest.team
    if not digest.reps:
        return Reply(kind="digest", title=_title(texts, digest), text=_t(texts, loc, "no_reps"))
    items = [_summary_reps(texts, digest)]
    quiet = [r.name for r in digest.reps if r.figures.debriefs == 0]
    if quiet:
        items.append(_t(texts, loc, "summary_quiet_reps", names=", ".join(quiet)))
    if f.debriefs and f.weakest:
        targeted = sum(1 for r in digest.reps if r.action_point and r.action_point.point == f.weakest)
        items.append(_t(texts, loc, "team_focus", title=texts.point(loc, f.weakest, "title"), reps=targeted))
    elif f.debriefs:
        items.append(_t(texts, loc, "team_focus_none"))
    items += lines.action_points(texts, loc, digest.action_points_open, digest.action_points_done)
    items += lines.win_rate(texts, loc, f, goal=True) + lines.closing_rate(texts, loc, f)
    items += lines.score(texts, loc, f) + lines.profile(texts, loc, f)
    items += lines.evidence(texts, loc, digest.evidence, digest.evidence_since)
    items.append(_t(texts, loc, "missed_meetings", count=digest.meetings_without_debrief))
    items.append(_t(texts, loc, "missed_steps", count=digest.missed_next_steps))
    items += lines.concessions(texts, loc, f, rep_name=None)
    items.append(_t(texts, loc, "definitions"))
    return Reply(
        kind="digest",
        title=_title(texts, digest),
        text=_t(texts, loc, "summary_title"),
        items=tuple(items),
        meta={"section": "summary"},
    )


def rep_reply(texts: Texts, digest: Digest, rep: RepDigest) -> Reply:
    """One rep, for the manager: the action point and the one-to-one question first."""
    loc, f = digest.locale, rep.figures
    items = lines.proposal(texts, loc, rep.name, rep.action_point, rep.pattern_meetings, digest.pattern_start)
    items += lines.action_points(texts, loc, rep.action_points_open, rep.action_points_done)
    items += lines.progress(texts, loc, rep.progress)
    if f.debriefs:
        items.append(_t(texts, loc, "debriefs", debriefs=f.debriefs, previous=f.debriefs_previous))
        items += lines.win_rate(texts, loc, f, goal=False) + lines.closing_rate(texts, loc, f)
        items += lines.score(texts, loc, f) + lines.profile(texts, loc, f)
        items += lines.concessions(texts, loc, f, rep_name=rep.name)
    else:
        items.append(_t(texts, loc, "no_debriefs", previous=f.debriefs_previous))
        if f.deals.concluded:
            items += lines.win_rate(texts, loc, f, goal=False)
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
        kind="digest", title=rep.name, items=tuple(items), meta={"section": "rep", "person_id": rep.person_id}
    )


def chart_reply(texts: Texts, digest: Digest) -> Reply:
    """The chart image, with its alt text as the message text (every channel shows it)."""
    loc = digest.locale
    from dialogs.digest_chart import chart_alt_text, chart_png  # matplotlib is heavy: load on first chart

    png = chart_png(digest, texts)
    day = digest.period_end.date().isoformat()
    return Reply(
        kind="digest",
        title=_t(texts, loc, "chart_title"),
        text=chart_alt_text(digest, texts),
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
    replies += [rep_reply(texts, digest, r) for r in digest.reps]
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
    items += lines.win_rate(texts, loc, f, goal=False) + lines.closing_rate(texts, loc, f)
    items += lines.score(texts, loc, f) + lines.profile(texts, loc, f)
    if f.debriefs and f.weakest:
        items.append(_t(texts, loc, "weakest", title=texts.point(loc, f.weakest, "title")))
    items.append(_t(texts, loc, "missed_meetings", count=digest.meetings_without_debrief))
    items.append(_t(texts, loc, "missed_steps", count=digest.missed_next_steps))
    items += lines.concessions(texts, loc, f, rep_name=None)[:1]
    items.append(_t(texts, loc, "definitions"))
    return [
        Reply(
            kind="digest",
            title=_title(texts, digest, "channel_title"),
            items=tuple(items),
            meta={"section": "channel"},
        )
    ]
