"""The preparation message, a working day or two before a customer meeting while there is still
time to act: the informal contact to make (a draft icebreaker naming the account and the last
topic), the information to ask for beforehand, an informal agenda to propose (draft lines), the
recap of the last debrief, and the rep's own choice of two counter-tactics (buttons with the
best-fitting ones, or "tactic" and their own words). Wording in prompts/<locale>/preparation.yaml."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from dialogs.context import CoachContext
from dialogs.meeting_brief import MeetingBrief
from dialogs.messages import Button, Reply
from dialogs.nudge import RECENT_DEBRIEFS, TACTIC_HISTORY, bullet, live_brief, section
from dialogs.recap import recap_lines, topic_of
from dialogs.text import format_long_day, format_when, join
from dialogs.timing import local_of
from storage.nudge_queries import load_nudge_batch
from storage.outbox import Item

PICK = "pick"  # the buttons send `nudges pick <meeting id> <tactic>`


def pick_value(meeting_id: int, tactic: str) -> str:
    return f"nudges {PICK} {meeting_id} {tactic}"


def compose_preparation(ctx: CoachContext, brief: MeetingBrief) -> list[Reply]:
    """The preparation for one meeting: one reply, the tactics first when the meeting is formal."""
    t, rep, view = ctx.texts, brief.rep, brief.view
    loc, account, meeting = rep.locale, view.account, view.meeting

    def say(key: str, **values: object) -> str:
        return t.render(loc, "preparation", key, **values)

    day = format_long_day(local_of(meeting.starts_at, rep.timezone).date(), locale=loc)
    topic = topic_of(brief.last)
    contact = section(say("contact_title"), [
        say("contact_hint"),
        say("icebreaker_topic", day=day, topic=topic, account=account) if topic
        else say("icebreaker", day=day, account=account),
    ])
    formal_ask = brief.formal_by_debrief
    ask = section(say("ask_title"), [
        say("ask_formal", account=account) if formal_ask else say("ask_hint"),
        say("ask_formal_line") if formal_ask else say("ask_line"),
    ])
    agenda = section(say("agenda_title"), [
        say("agenda_hint"), say("agenda_open", day=day), say("agenda_changed"),
        *([say("agenda_topic", topic=topic)] if topic else []), say("agenda_next"), say("agenda_close"),
    ])
    recap_title, recap = recap_lines(ctx, rep, account, brief.last, brief.answers)
    recap_block = section(recap_title, [bullet(line) for line in recap])
    tactics = _tactics_block(ctx, brief, say)
    intro = say("intro_formal" if brief.formal else "intro", account=account, day=day)
    body = [contact, ask, agenda, recap_block]
    body = [tactics, *body] if brief.formal else [*body, tactics]
    when = format_when(meeting.starts_at, locale=loc, tz=rep.timezone)
    return [
        Reply(
            kind="prepare",
            title=say("title", account=account, when=when),
            text=join("\n\n", (intro, *body)),
            buttons=tuple(
                Button(t.render(loc, "tactics", f"{key}.name"), pick_value(brief.meeting_id, key))
                for key in brief.offered
            ),
            meta={"meeting_id": brief.meeting_id, "formal": brief.formal, "tactics": list(brief.offered),
                  "chosen": list(brief.tactics) if brief.chosen_by_rep else [],
                  "own_tactics": list(brief.own), "recap": brief.last is not None},
        )
    ]


def _tactics_block(ctx: CoachContext, brief: MeetingBrief, say: Callable[..., str]) -> str:
    t, loc = ctx.texts, brief.rep.locale
    lines = [
        bullet(say("tactic_line", name=t.render(loc, "tactics", f"{key}.name"),
                   when=t.render(loc, "tactics", f"{key}.when")))
        for key in brief.offered
    ]
    return section(say("tactics_title"), [say("tactics_hint", account=brief.view.account), *lines])


async def render_preparations(ctx: CoachContext, items: Sequence[Item]) -> dict[int, list[Reply] | None]:
    """Batch renderer for kind "prepare" (the same fixed handful of queries as the nudges'); None
    cancels a row whose meeting is gone or moved, or whose rep paused or switched nudges off."""
    now = ctx.clock()
    out: dict[int, list[Reply] | None] = {}
    async with ctx.db() as session:
        batch = await load_nudge_batch(
            session=session, person_ids={i.person_id for i in items},
            meeting_ids={int(i.payload["meeting_id"]) for i in items},
            tactic_history=TACTIC_HISTORY, recent_debriefs=RECENT_DEBRIEFS,
        )
    for item in items:
        brief = live_brief(ctx, batch, item, now, offer=True)
        out[item.id] = None if brief is None else compose_preparation(ctx, brief)
    return out


async def render_preparation(ctx: CoachContext, item: Item) -> list[Reply] | None:
    return (await render_preparations(ctx, [item]))[item.id]
