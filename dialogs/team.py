"""`team`: the manager's digest on demand, one rep's section, and `team add` / `team remove`.

Who may see whom: a person sees their own figures; a rep's own managers (the manager line above
them, inside their workspace) see the rep. Names are only ever looked up inside the asker's
workspace, so another workspace's people cannot even be found. The rep is told, through the
outbox (kind "team_notice"), when a manager adds or removes them.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace

from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.commands import Command
from dialogs.context import CoachContext
from dialogs.debrief import Rep
from dialogs.digest import Digest, compute_digests
from dialogs.digest_render import digest_replies, rep_reply
from dialogs.messages import Reply
from dialogs.text import join
from storage import sales_teams
from storage.digest_queries import Period
from storage.errors import Forbidden
from storage.models import DialogState, Person, Role

ADD_WORDS = {"add", "toevoegen", "voegtoe", "+"}
REMOVE_WORDS = {"remove", "verwijder", "verwijderen", "delete", "-"}
NOTICE_KIND = "team_notice"


def _t(ctx: CoachContext, loc: str, key: str, **kw: object) -> str:
    return ctx.texts.render(loc, "digest", key, **kw)


def _who(text: str) -> str:
    """A person as typed: @name, an e-mail, a name or a platform user id (the channels turn their
    own mentions into user ids or names before the text gets here)."""
    return text.strip().removeprefix("@").strip()


def _name(p: Person) -> str:
    return p.display_name or p.email or p.platform_user_id


async def team_digest(ctx: CoachContext, manager_id: int, session: AsyncSession) -> Digest:
    digests = await compute_digests(
        session=session,
        period=Period.ending(ctx.clock()),
        manager_ids=[manager_id],
        share_notes=ctx.share_notes,
        default_locale=ctx.default_locale,
        default_timezone=ctx.default_timezone,
        texts=ctx.texts,
    )
    return digests[0]


async def _resolve(ctx: CoachContext, session: AsyncSession, rep: Rep, who: str) -> Person | Reply:
    people = await sales_teams.find_people(session=session, workspace_id=rep.workspace_id, who=_who(who))
    if not people:
        return Reply(kind="error", text=_t(ctx, rep.locale, "person_not_found", who=who[:80]))
    if len(people) > 1:
        return Reply(
            kind="error",
            text=_t(
                ctx,
                rep.locale,
                "person_ambiguous",
                who=who[:80],
                names=", ".join(_name(p) for p in people[:5]),
            ),
        )
    return people[0]


async def authorize_view(*, session: AsyncSession, viewer_id: int, person_id: int) -> None:
    """Raise Forbidden unless the viewer is this person or one of their own managers.

    Forbidden.details["reason"] is "other_workspace", "other_rep" or "other_team".
    """
    viewer = await session.get(Person, viewer_id)
    target = await session.get(Person, person_id)
    if viewer is None or target is None or viewer.workspace_id != target.workspace_id:
        raise Forbidden("not in the viewer's workspace", reason="other_workspace")
    if viewer_id == person_id:
        return
    if viewer_id in await sales_teams.manager_chain(session=session, person=target):
        return
    has_team = await sales_teams.count_reps(session=session, manager_id=viewer_id) > 0
    raise Forbidden(
        "not one of this person's managers",
        reason="other_team" if has_team or viewer.role != Role.REP else "other_rep",
    )


async def team_reply(
    ctx: CoachContext, rep: Rep, channel: str, state: DialogState | None, cmd: Command
) -> list[Reply]:
    word, _, rest = cmd.arg.partition(" ")
    if word.casefold() in ADD_WORDS | REMOVE_WORDS:
        if not rest.strip():
            return [Reply(kind="error", text=_t(ctx, rep.locale, "team_usage"))]
        return await _change(ctx, rep, rest.strip(), add=word.casefold() in ADD_WORDS)
    if cmd.arg:
        return await _one_rep(ctx, rep, cmd.arg)
    async with ctx.db() as session:
        digest = await team_digest(ctx, rep.id, session)
        me = await session.get(Person, rep.id)
    if not digest.reps:
        if me is not None and me.role in (Role.MANAGER, Role.ADMIN):
            return [Reply(kind="digest", text=_t(ctx, rep.locale, "no_reps"))]
        lines = [_t(ctx, rep.locale, "not_manager")]
        if rep.manager_name:
            lines.append(
                _t(ctx, rep.locale, "rep_manager_sees", manager=rep.manager_name, notes=ctx.share_notes)
            )
        return [Reply(kind="info", text=join("\n", lines))]
    # The chart takes a CPU moment: keep the event loop free for other requests.
    return await asyncio.to_thread(digest_replies, ctx.texts, digest)


async def _one_rep(ctx: CoachContext, rep: Rep, who: str) -> list[Reply]:
    async with ctx.db() as session:
        found = await _resolve(ctx, session, rep, who)
        if isinstance(found, Reply):
            return [found]
        assert found.id is not None
        try:
            await authorize_view(session=session, viewer_id=rep.id, person_id=found.id)
        except Forbidden as exc:
            key = (
                "refused_" + str(exc.details["reason"])
                if exc.details["reason"] != "other_workspace"
                else "person_not_found"
            )
            return [Reply(kind="error", text=_t(ctx, rep.locale, key, rep=_name(found), who=who[:80]))]
        if found.manager_id is None:
            return [Reply(kind="info", text=_t(ctx, rep.locale, "not_manager"))]
        digest = await team_digest(ctx, found.manager_id, session)
    if digest.locale != rep.locale:  # the viewer's language, whoever's team it is
        digest = replace(digest, locale=rep.locale)
    section = [r for r in digest.reps if r.person_id == found.id]
    return [rep_reply(ctx.texts, digest, section[0])] if section else []


async def _change(ctx: CoachContext, rep: Rep, who: str, *, add: bool) -> list[Reply]:
    from storage import outbox  # the scheduler's outbox; the notice is delivered like any nudge

    loc = rep.locale
    now = ctx.clock()
    async with ctx.db() as session, session.begin():
        me = await session.get(Person, rep.id)
        if me is None or me.role not in (Role.MANAGER, Role.ADMIN):
            return [Reply(kind="error", text=_t(ctx, loc, "only_managers_add"))]
        found = await _resolve(ctx, session, rep, who)
        if isinstance(found, Reply):
            return [found]
        assert found.id is not None
        name = _name(found)
        if found.id == rep.id:
            return [Reply(kind="error", text=_t(ctx, loc, "not_yourself"))]
        if add:
            if found.manager_id == rep.id:
                return [Reply(text=_t(ctx, loc, "already_in_team", rep=name))]
            if found.manager_id is not None and me.role != Role.ADMIN:
                boss = await session.get(Person, found.manager_id)
                return [
                    Reply(
                        kind="error",
                        text=_t(
                            ctx, loc, "has_other_manager", rep=name, manager=_name(boss) if boss else "?"
                        ),
                    )
                ]
            await sales_teams.set_manager(session=session, person_id=found.id, manager_id=rep.id)
        else:
            if found.manager_id != rep.id:
                return [Reply(kind="error", text=_t(ctx, loc, "not_in_team", rep=name))]
            await sales_teams.set_manager(session=session, person_id=found.id, manager_id=None)
        change = "added" if add else "removed"
        await outbox.enqueue(
            session=session,
            dedup_key=f"{NOTICE_KIND}:{found.id}:{rep.id}:{change}:{now.isoformat()}",
            kind=NOTICE_KIND,
            person_id=found.id,
            due_at=now,
            payload={
                "key": f"rep_told_{change}",
                "manager": rep.name or me.email or "",
                "notes": ctx.share_notes,
            },
        )
    return [Reply(kind="saved", text=_t(ctx, loc, change, rep=name, notes=ctx.share_notes))]


def notice_replies(ctx: CoachContext, *, locale: str, payload: dict[str, object]) -> list[Reply]:
    """The rep's side of `team add` / `team remove`, rendered when the outbox row is delivered."""
    return [
        Reply(
            kind="info",
            text=_t(
                ctx,
                locale,
                str(payload["key"]),
                manager=payload.get("manager", ""),
                notes=bool(payload.get("notes")),
            ),
        )
    ]
