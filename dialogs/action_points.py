"""A rep's action points as they travel: the notice that a manager set one, the reminder that
comes with every preparation and nudge, the one-tap question after a debrief, and `actions` /
`done` / `not-yet` (the rep marks a point done; the manager who set it closes it).

The manager's side, `assign` and the digest's form, is dialogs/action_assign.py. Buttons carry
the point's id (`done #12`); who may finish it is always the signed person (storage checks it).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import replace
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.commands import Command
from dialogs.context import CoachContext
from dialogs.debrief import Rep
from dialogs.messages import Button, Reply
from dialogs.text import Texts, format_day
from storage import action_points as store
from storage.action_points import ActionStatus, ActionView
from storage.models import DialogState
from storage.outbox import Item
from storage.sales_teams import count_reps

NOTICE = "action_point"  # outbox kind: the rep is told about a new point (one row per point)
REMINDED = 3  # open points a preparation or nudge lists (oldest first)
_BY_ID = re.compile(r"^#(\d{1,18})$")
_NUMBER = re.compile(r"^(\d{1,4})$")

Rendered = list[Reply] | None  # what the outbox renderers this module extends return


def t(texts: Texts, loc: str, key: str, **kw: object) -> str:
    return texts.render(loc, "action_points", key, **kw)


def asked_line(texts: Texts, loc: str, view: ActionView) -> str:
    return t(texts, loc, "asked", manager=view.manager_name, text=view.point.text)


def _id(view: ActionView) -> int:
    assert view.point.id is not None
    return view.point.id


def _locale(ctx: CoachContext, view: ActionView) -> str:
    return view.rep_locale if view.rep_locale in ("en", "nl") else ctx.default_locale


# -- the notice, sent through the outbox when the manager sets the point ---------------------------
async def render_notice(ctx: CoachContext, item: Item) -> list[Reply] | None:
    """Outbox renderer of NOTICE: the point as it is now; None (cancelled) once it is finished."""
    async with ctx.db() as session:
        view = await store.action_view(session=session, action_id=int(item.payload["action_id"]))
    if view is None or view.point.status != ActionStatus.OPEN or view.point.person_id != item.person_id:
        return None
    texts, loc = ctx.texts, _locale(ctx, view)
    return [
        Reply(
            kind="info",
            title=t(texts, loc, "notice_title"),
            text=asked_line(texts, loc, view),
            items=(t(texts, loc, "notice_hint"),),
            buttons=(Button(t(texts, loc, "button_done"), f"done #{_id(view)}"),),
            meta={"action_point": _id(view)},
        )
    ]


# -- the reminder in every preparation and nudge ---------------------------------------------------
def reminder(texts: Texts, loc: str, views: Sequence[ActionView]) -> Reply | None:
    shown = list(views)[:REMINDED]
    if not shown:
        return None
    return Reply(
        kind="info",
        title=t(texts, loc, "reminder_title"),
        items=tuple(asked_line(texts, loc, v) for v in shown),
        buttons=tuple(
            Button(t(texts, loc, "button_done_number", number=n) if len(shown) > 1
                   else t(texts, loc, "button_done"), f"done #{_id(v)}")
            for n, v in enumerate(shown, start=1)
        ),
        meta={"action_points": [_id(v) for v in shown]},
    )


def reminders(ctx: CoachContext, views: Sequence[ActionView]) -> list[Reply]:
    """The reminder a preparation or nudge ends with, in its rep's language (none: no points)."""
    shown = reminder(ctx.texts, _locale(ctx, views[0]), views) if views else None
    return [shown] if shown is not None else []


async def open_points_reply(*, session: AsyncSession, ctx: CoachContext, rep: Rep) -> list[Reply]:
    """The rep's open action points as one reply (with the greeting), or nothing."""
    views = (await store.open_points_of(session=session, person_ids=[rep.id])).get(rep.id, [])
    shown = reminder(ctx.texts, rep.locale, views)
    return [shown] if shown is not None else []


BatchRenderer = Callable[[CoachContext, Sequence[Item]], Awaitable[Mapping[int, Rendered]]]
Renderer = Callable[[CoachContext, Item], Awaitable[Rendered]]


async def _with_reminders(
    ctx: CoachContext, items: Sequence[Item], rendered: Mapping[int, Rendered]
) -> dict[int, Rendered]:
    """Each rendered message with the rep's open action points after it (one query per batch)."""
    sent = [i for i in items if rendered.get(i.id)]
    async with ctx.db() as session:
        points = await store.open_points_of(session=session, person_ids=sorted({i.person_id for i in sent}))
    out = dict(rendered)
    for item in sent:
        added, before = reminders(ctx, points.get(item.person_id, [])), rendered[item.id]
        if added and before:
            out[item.id] = [*before, *added]
    return out


def reminding_batch(render: BatchRenderer) -> BatchRenderer:
    """A batch renderer (preparation, nudge) whose messages also remind of open action points."""

    async def with_points(ctx: CoachContext, items: Sequence[Item]) -> Mapping[int, Rendered]:
        return await _with_reminders(ctx, items, await render(ctx, items))

    return with_points


def reminding(render: Renderer) -> Renderer:
    async def with_points(ctx: CoachContext, item: Item) -> Rendered:
        return (await _with_reminders(ctx, [item], {item.id: await render(ctx, item)}))[item.id]

    return with_points


# -- the one optional question after a debrief ---------------------------------------------------
def question(texts: Texts, loc: str, view: ActionView) -> Reply:
    """Did the rep do the latest open point in this meeting: one tap, or none at all."""
    action = _id(view)
    return Reply(
        kind="info",
        text=t(texts, loc, "question", manager=view.manager_name, text=view.point.text),
        buttons=(
            Button(t(texts, loc, "button_yes_done"), f"done #{action}"),
            Button(t(texts, loc, "button_not_yet"), f"not-yet #{action}"),
        ),
        meta={"action_point": action},
    )


async def debrief_question(*, session: AsyncSession, ctx: CoachContext, rep: Rep) -> list[Reply]:
    """After a new debrief: the question about the rep's latest open point, if there is one."""
    views = (await store.open_points_of(session=session, person_ids=[rep.id])).get(rep.id, [])
    return [question(ctx.texts, rep.locale, views[-1])] if views else []


def asking_after_tips(render: BatchRenderer) -> BatchRenderer:
    """The tips of a new debrief (filed by the Slack modal or a Teams card), then the question."""

    async def with_question(ctx: CoachContext, items: Sequence[Item]) -> Mapping[int, Rendered]:
        rendered = dict(await render(ctx, items))
        new = [i for i in items if not i.payload.get("corrected") and rendered.get(i.id)]
        async with ctx.db() as session:
            points = await store.open_points_of(
                session=session, person_ids=sorted({i.person_id for i in new})
            )
        for item in new:
            views, before = points.get(item.person_id), rendered[item.id]
            if views and before:
                rendered[item.id] = [*before, question(ctx.texts, _locale(ctx, views[-1]), views[-1])]
        return rendered

    return with_question


# -- `actions`, `done`, `not-yet` ------------------------------------------------------------------
async def _listed(session: AsyncSession, person_id: int) -> tuple[list[ActionView], list[ActionView]]:
    """What `actions` numbers: the person's own open points, then the open ones they set."""
    mine = (await store.open_points_of(session=session, person_ids=[person_id])).get(person_id, [])
    return mine, await store.open_points_set_by(session=session, manager_id=person_id)


async def actions_reply(
    ctx: CoachContext, rep: Rep, channel: str, state: DialogState | None, cmd: Command
) -> list[Reply]:
    texts, loc = ctx.texts, rep.locale
    async with ctx.db() as session:
        mine, given = await _listed(session, rep.id)
    if not mine and not given:
        managing = await _manages(ctx, rep)
        return [Reply(kind="info", text=t(texts, loc, "none_open_managing" if managing else "none_open"))]
    replies: list[Reply] = []
    number = 0
    for key, views, line, button in (("list_title", mine, "list_mine", "button_done_number"),
                                     ("list_set_title", given, "list_set", "button_close_number")):
        if not views:
            continue
        items, buttons = [], []
        for view in views:
            number += 1
            day = format_day(view.point.created_at.astimezone(ZoneInfo(rep.timezone)).date(), locale=loc)
            items.append(t(texts, loc, line, number=number, manager=view.manager_name, rep=view.rep_name,
                           day=day, text=view.point.text))
            buttons.append(Button(t(texts, loc, button, number=number), f"done #{_id(view)}"))
        replies.append(
            Reply(kind="info", title=t(texts, loc, key), items=tuple(items), buttons=tuple(buttons))
        )
    last = replies[-1]
    replies[-1] = replace(last, text=t(texts, loc, "list_hint", managing=bool(given)))
    return replies


async def _manages(ctx: CoachContext, rep: Rep) -> bool:
    async with ctx.db() as session:
        return await count_reps(session=session, manager_id=rep.id) > 0


async def done_reply(
    ctx: CoachContext, rep: Rep, channel: str, state: DialogState | None, cmd: Command
) -> list[Reply]:
    """`done #12` (a button) or `done 1` (the number `actions` showed): the rep marks their point
    done, the manager who set it closes it; anyone else changes nothing."""
    texts, loc = ctx.texts, rep.locale
    arg = cmd.arg.strip()
    async with ctx.db() as session, session.begin():
        by_id, by_number = _BY_ID.match(arg), _NUMBER.match(arg)
        if by_id:
            action_id = int(by_id.group(1))
        else:
            mine, given = await _listed(session, rep.id)
            listed = [*mine, *given]
            if by_number and 1 <= int(by_number.group(1)) <= len(listed):
                action_id = _id(listed[int(by_number.group(1)) - 1])
            elif not arg and len(mine) == 1 and not given:
                action_id = _id(mine[0])
            elif by_number:
                return [Reply(kind="error", text=t(texts, loc, "done_not_found", number=by_number.group(1)))]
            else:
                return [Reply(kind="info", text=t(texts, loc, "done_which"))]
        view = await store.action_view(session=session, action_id=action_id)
        if view is None or view.point.workspace_id != rep.workspace_id:  # another workspace's: unseen
            return [Reply(kind="error", text=t(texts, loc, "gone"))]
        if rep.id not in (view.point.person_id, view.point.manager_id):
            return [Reply(kind="error", text=t(texts, loc, "not_yours"))]
        finished = await store.finish_action_point(
            session=session, action_id=action_id, by_person_id=rep.id, now=ctx.clock()
        )
    if finished is None:
        return [Reply(kind="info", text=t(texts, loc, "already_finished"))]
    if finished.status == ActionStatus.DONE:
        text = t(texts, loc, "marked_done", text=view.point.text, manager=view.manager_name)
    else:
        text = t(texts, loc, "closed", rep=view.rep_name, text=view.point.text)
    return [Reply(kind="saved", text=text, meta={"action_point": action_id, "status": finished.status})]


async def not_yet_reply(
    ctx: CoachContext, rep: Rep, channel: str, state: DialogState | None, cmd: Command
) -> list[Reply]:
    """The debrief question's "Not yet": the point stays open, nothing is written."""
    by_id = _BY_ID.match(cmd.arg.strip())
    if by_id is None:
        return [Reply(kind="info", text=t(ctx.texts, rep.locale, "done_which"))]
    async with ctx.db() as session:
        view = await store.action_view(session=session, action_id=int(by_id.group(1)))
    if view is None or view.point.workspace_id != rep.workspace_id:
        return [Reply(kind="error", text=t(ctx.texts, rep.locale, "gone"))]
    if view.point.person_id != rep.id:
        return [Reply(kind="error", text=t(ctx.texts, rep.locale, "not_yours"))]
    if view.point.status != ActionStatus.OPEN:
        return [Reply(kind="info", text=t(ctx.texts, rep.locale, "already_finished"))]
    return [Reply(kind="info", text=t(ctx.texts, rep.locale, "not_yet"))]


def is_button(command: Command) -> bool:
    """A Done / Not yet button (by the point's id): acted on even while a debrief is open."""
    return command.name in ("done", "not_yet") and _BY_ID.match(command.arg.strip()) is not None


async def press(
    ctx: CoachContext, rep: Rep, channel: str, state: DialogState | None, cmd: Command
) -> list[Reply]:
    handler = done_reply if cmd.name == "done" else not_yet_reply
    return await handler(ctx, rep, channel, state, cmd)
