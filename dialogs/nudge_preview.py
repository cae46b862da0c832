"""What a person would get before their next (or a given) meeting, without waiting for it: the
preparation or the nudge, rendered as it will be sent, when it is due, which tactics it carries and
whether it leads with them. Reads only: nothing is sent, suggested or recorded (`coach nudge
preview`)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from dialogs.context import CoachContext
from dialogs.meeting_brief import meeting_brief
from dialogs.meetings import NUDGE, PREPARE, meeting_messages, meeting_prefix
from dialogs.messages import Reply
from dialogs.nudge import RECENT_DEBRIEFS, TACTIC_HISTORY, nudge_of
from dialogs.preparation import compose_preparation
from storage import outbox
from storage.errors import NotFound
from storage.meetings import upcoming
from storage.nudge_queries import load_nudge_batch

KINDS = (PREPARE, NUDGE)


def as_text(replies: list[Reply]) -> str:
    """The replies as plain text: each title, text and list, then the buttons' labels."""
    parts: list[str] = []
    for reply in replies:
        parts += [p for p in (reply.title, reply.text, "\n".join(f"• {i}" for i in reply.items)) if p]
        if reply.buttons:
            parts.append("  ".join(f"[{b.label}]" for b in reply.buttons))
    return "\n\n".join(parts)


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment else None


async def preview(ctx: CoachContext, *, person_id: int, meeting_id: int | None, kind: str) -> dict[str, Any]:
    """The `kind` message ("prepare" or "nudge") for the person's meeting (default: the next
    one). `due_at` is the planned row's (its `status` too), else when it would be planned now;
    None for a preparation that no longer fits before the nudge."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}")
    now = ctx.clock()
    async with ctx.db() as session:
        if meeting_id is None:
            coming = await upcoming(session=session, person_id=person_id, now=now, limit=1)
            if not coming or coming[0].id is None:
                raise NotFound(f"person {person_id} has no coming meeting")
            meeting_id = coming[0].id
        batch = await load_nudge_batch(
            session=session, person_ids={person_id}, meeting_ids={meeting_id},
            tactic_history=TACTIC_HISTORY, recent_debriefs=RECENT_DEBRIEFS,
        )
        brief = meeting_brief(ctx, batch, person_id, meeting_id, offer=kind == PREPARE)
        if brief is None:
            raise NotFound(f"person {person_id} has no meeting {meeting_id}")
        meeting = brief.view.meeting
        tail = f"{kind}:{meeting.starts_at:%Y%m%dT%H%MZ}"
        key = f"{meeting_prefix(meeting_id)}{tail}"
        row = (await outbox.rows_by_key(session=session, dedup_keys=[key])).get(key)
    due: datetime | None = row.due_at if row is not None else None
    if row is None:
        planned = meeting_messages(starts_at=meeting.starts_at, ends_at=meeting.ends_at,
                                   tz=brief.rep.timezone, policy=ctx.schedule, now=now)
        due = next((m.due_at for m in planned if m.tail == tail), None)
    at_send = replace(ctx, clock=lambda: due or now)  # the text as it reads when it goes out
    replies = compose_preparation(at_send, brief) if kind == PREPARE else nudge_of(at_send, brief)
    return {
        "kind": kind,
        "person_id": person_id,
        "meeting_id": meeting_id,
        "account": brief.view.account,
        "starts_at": _iso(meeting.starts_at),
        "due_at": _iso(due),
        "status": row.status if row is not None else None,
        "tactics": list(brief.offered if kind == PREPARE else brief.tactics),
        "own_tactics": list(brief.own),
        "chosen_by_rep": brief.chosen_by_rep,
        "leads_with_tactics": brief.formal,
        "text": as_text(replies),
        "buttons": [{"label": b.label, "value": b.value} for r in replies for b in r.buttons],
    }
