"""Every outbox kind's renderer: what each kind of row becomes when the scheduler sends it.

A renderer is `(ctx, item) -> list[Reply] | Outgoing | None` (None: nothing to say any more, the row
is cancelled); a batch renderer does a whole claimed batch of its kind in a few queries; an action
is work instead of a message (a CRM write). bot.scheduling.scheduler runs them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence

from bot.config import OrgConfig
from bot.delivery import Outgoing
from bot.scheduling.digest_jobs import DIGEST_KINDS
from bot.scheduling.reply_jobs import render_reply
from dialogs import action_points, answers, debrief, followup, meetings, nudge, preparation
from dialogs.context import CoachContext
from dialogs.messages import Reply
from dialogs.timing import SchedulePolicy
from storage import outbox

Rendered = list[Reply] | Outgoing | None
Renderer = Callable[[CoachContext, outbox.Item], Awaitable[Rendered]]
BatchRenderer = Callable[[CoachContext, Sequence[outbox.Item]], Awaitable[Mapping[int, Rendered]]]
Action = Callable[[CoachContext, outbox.Item], Awaitable[None]]


def renderers() -> dict[str, Renderer]:
    """A new registry of every outbox kind's renderer (one per app, so apps never share one)."""
    return {
        meetings.PREPARE: action_points.reminding(preparation.render_preparation),
        meetings.NUDGE: action_points.reminding(nudge.render_nudge),
        meetings.PROMPT: followup.render_prompt,
        meetings.REMINDER: followup.render_reminder,
        meetings.FOLLOW_THROUGH: followup.render_follow_through,
        meetings.TACTIC_FEEDBACK: followup.render_tactic_feedback,
        debrief.TIPS: debrief.render_tips,
        action_points.NOTICE: action_points.render_notice,
        answers.REPLY: render_reply,
        **DIGEST_KINDS,
    }


def batch_renderers() -> dict[str, BatchRenderer]:
    """Kinds whose renderer can do a whole claimed batch in a few queries (by row id). Preparations
    and nudges end with the rep's open action points; a new debrief's tips ask about one."""
    return {
        meetings.PREPARE: action_points.reminding_batch(preparation.render_preparations),
        meetings.NUDGE: action_points.reminding_batch(nudge.render_nudges),
        debrief.TIPS: action_points.asking_after_tips(debrief.render_tips_batch),
    }


def schedule_policy(org: OrgConfig) -> SchedulePolicy:
    return SchedulePolicy(
        lead_minutes=org.nudge.lead_minutes,
        prompt_delay_minutes=org.nudge.debrief_prompt_delay_minutes,
        prepare_days=org.nudge.prepare_working_days,
        quiet_start=org.quiet_hours.start,
        quiet_end=org.quiet_hours.end,
        working_days=tuple(org.working_days),
        internal_domains=tuple(org.internal_domains),
    )
