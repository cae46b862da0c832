"""The outbox action that writes one debrief into its workspace's CRM: one note on the company and
the deal, one task for the next step, each created once and updated after an edit.

Exactly once across replicas: the CRM id is stored when the CRM answers; before creating, the
note or task is claimed in crm_record (a second writer waits); after an unknown outcome (a timeout,
a 5xx, a crash) the CRM is searched for the record's unique marker before anything is created again.
An expired token is refreshed once (bot.crm.transport); refused again, the connection is marked
broken and the workspace's admins are told, and the writes wait for a reconnect."""

from __future__ import annotations

import asyncio
import html
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot import log_messages as msg
from bot.crm.api import (
    CrmApi,
    CrmNotReady,
    CrmRejected,
    CrmUnauthorized,
    CrmUnavailable,
    NoteWrite,
    TaskWrite,
)
from bot.crm.connectors import Connectors
from bot.crm.matching import Matcher
from bot.delivery import DeliveryError
from dialogs.context import CoachContext
from dialogs.crm_entry import Entry, compose
from storage import crm, crm_links, outbox
from storage.crm_links import Claim, WriteSubject
from storage.crm_models import CrmConnection, CrmStatus
from storage.models import not_null

log = logging.getLogger("coach.crm")

# Writes in flight per replica: the CRM's rate limit caps the pace anyway, and a burst of writes
# must not take the CPU from the reps' own answers (bench/bench_crm.py).
CONCURRENCY = 8
IN_FLIGHT = timedelta(minutes=2)  # a create claimed longer ago than this is taken as unanswered
BUSY_WAIT = 30.0
BROKEN_WAIT = 3600.0


def marker(connection: CrmConnection, debrief_id: int, kind: str) -> str:
    """One token, unique per workspace, debrief and kind: what a search after a timeout looks for."""
    return f"cc{connection.workspace_id}x{debrief_id}{kind[0]}"


def note_html(entry: Entry, footer: str) -> str:
    """HubSpot's note body: every value escaped as HTML; the rep's line breaks kept as <br>."""

    def line(text: str) -> str:
        return html.escape(str(text)).replace("\n", "<br>")

    out = [f"<p><strong>{line(entry.title)}</strong></p>", *(f"<p>{line(i)}</p>" for i in entry.intro)]
    for section in entry.sections:
        out.append(f"<p><strong>{line(section.title)}</strong></p>")
        out.append("<ul>" + "".join(f"<li>{line(x)}</li>" for x in section.lines) + "</ul>")
    out.append(f"<p><em>{line(footer)}</em></p>")
    return "".join(out)


def note_text(entry: Entry, footer: str) -> str:
    parts = [entry.title, *entry.intro, ""]
    for section in entry.sections:
        parts += [section.title, *(f"• {x}" for x in section.lines), ""]
    return "\n".join([*parts, footer])


class CrmSync:
    def __init__(
        self, *, connectors: Connectors, matcher: Matcher, include_notes: bool, wake: Callable[[], None]
    ) -> None:
        self.connectors = connectors
        self.matcher = matcher
        self.include_notes = include_notes
        self.wake = wake
        self.gate = asyncio.Semaphore(CONCURRENCY)

    async def write(self, ctx: CoachContext, item: outbox.Item) -> None:
        """The CRM_WRITE action (bot.scheduling.scheduler ACTIONS)."""
        async with self.gate:
            await self._write_row(ctx, item)

    async def _write_row(self, ctx: CoachContext, item: outbox.Item) -> None:
        debrief_id = int(item.payload["debrief_id"])
        async with ctx.db() as session:
            subject = await crm_links.write_subject(session=session, debrief_id=debrief_id)
            conn = (
                None
                if subject is None
                else await crm.connection_of(session=session, workspace_id=subject.rep.workspace_id)
            )
        if subject is None:
            return  # the debrief is gone (forgotten, retention): nothing to write
        if conn is None:
            raise CrmRejected("the workspace has no CRM connection any more")
        if conn.status == CrmStatus.BROKEN:
            raise CrmNotReady(f"the CRM connection is broken: {conn.reason}", retry_after=BROKEN_WAIT)
        try:
            await self._write(ctx, conn, subject)
        except CrmUnauthorized as exc:
            await self.broken(ctx, conn, exc.message)
            raise CrmNotReady(
                f"the CRM connection is broken: {exc.message}", retry_after=BROKEN_WAIT
            ) from None

    async def _write(self, ctx: CoachContext, conn: CrmConnection, subject: WriteSubject) -> None:
        api = self.connectors.api(conn)
        link = await self.matcher.company(api, subject)
        if link.company_id is None:
            return  # the rep said this account is none of the CRM's companies
        deal_id = await self.matcher.deal(api, subject, link)
        owner_id = await self.matcher.owner(api, subject)
        rep = subject.rep
        locale = rep.locale if rep.locale in ("en", "nl") else ctx.default_locale
        tz = rep.timezone or ctx.default_timezone
        now = ctx.clock()
        entry = compose(
            ctx.texts,
            locale=locale,
            tz=tz,
            stored=subject.stored,
            rep_name=rep.display_name,
            include_notes=self.include_notes,
            today=now.astimezone(ZoneInfo(tz)).date(),
        )
        debrief_id = not_null(subject.stored.debrief.id)
        note_marker = marker(conn, debrief_id, "note")
        footer = ctx.texts.render(locale, "crm", "footer", marker=note_marker)
        note = NoteWrite(
            title=entry.title,
            html=note_html(entry, footer),
            text=note_text(entry, footer),
            marker=note_marker,
            at=subject.stored.debrief.created_at,
            company_id=link.company_id,
            deal_id=deal_id,
            owner_id=owner_id,
        )
        await self._once(
            ctx,
            api,
            debrief_id,
            "note",
            note_marker,
            lambda: api.create_note(note),
            lambda i: api.update_note(i, note),
        )
        if entry.task is not None:
            task_marker = marker(conn, debrief_id, "task")
            task_footer = ctx.texts.render(locale, "crm", "footer", marker=task_marker)
            body = f"{entry.task.body}\n\n{task_footer}"
            task = TaskWrite(
                subject=entry.task.subject,
                body=html.escape(body).replace("\n", "<br>") if api.name == "hubspot" else body,
                marker=task_marker,
                due=entry.task.due,
                company_id=link.company_id,
                deal_id=deal_id,
                owner_id=owner_id,
            )
            await self._once(
                ctx,
                api,
                debrief_id,
                "task",
                task_marker,
                lambda: api.create_task(task),
                lambda i: api.update_task(i, task),
            )
        async with ctx.db() as session, session.begin():
            await crm.mark_synced(session=session, connection_id=not_null(conn.id), now=ctx.clock())

    async def _once(
        self,
        ctx: CoachContext,
        api: CrmApi,
        debrief_id: int,
        kind: str,
        mark: str,
        create: Callable[[], Awaitable[str]],
        update: Callable[[str], Awaitable[None]],
    ) -> None:
        """Create the note or task once, or update the one the CRM has."""
        now = ctx.clock()
        async with ctx.db() as session, session.begin():
            claimed = await crm_links.claim_record(
                session=session,
                debrief_id=debrief_id,
                kind=kind,
                marker=mark,
                now=now,
                stale_before=now - IN_FLIGHT,
            )
        if claimed.claim == Claim.BUSY:
            raise CrmNotReady(f"another replica is writing the {kind}", retry_after=BUSY_WAIT)
        external_id = claimed.external_id
        try:
            if claimed.claim == Claim.UNKNOWN:
                external_id = await api.find_by_marker(kind, mark)
            if external_id is not None:
                await update(external_id)
            else:
                external_id = await create()
        except CrmUnavailable:
            await self._settle(ctx, claimed.record_id, None, unknown=True)
            raise
        except DeliveryError:  # a clear answer: nothing was created by this try
            await self._settle(ctx, claimed.record_id, None, unknown=False)
            raise
        await self._settle(ctx, claimed.record_id, external_id, unknown=False)

    async def _settle(
        self, ctx: CoachContext, record_id: int, external_id: str | None, *, unknown: bool
    ) -> None:
        async with ctx.db() as session, session.begin():
            if external_id is not None:
                await crm_links.record_written(
                    session=session, record_id=record_id, external_id=external_id, now=ctx.clock()
                )
            elif unknown:
                await crm_links.record_unknown(session=session, record_id=record_id)
            else:
                await crm_links.record_not_created(session=session, record_id=record_id)

    async def broken(self, ctx: CoachContext, conn: CrmConnection, reason: str) -> None:
        """Mark the connection broken and tell the workspace's admins, once."""
        if await mark_broken_and_tell(ctx, conn, reason):
            self.wake()


async def mark_broken_and_tell(ctx: CoachContext, conn: CrmConnection, reason: str) -> bool:
    """Mark the connection broken and plan the message to each workspace admin (an outbox row the
    scheduler delivers), the first time only; True when it was connected until now."""
    now = ctx.clock()
    async with ctx.db() as session, session.begin():
        connection_id = not_null(conn.id)
        first = await crm.mark_broken(session=session, connection_id=connection_id, reason=reason, now=now)
        admins = await crm.workspace_admins(session=session, workspace_id=conn.workspace_id) if first else []
        payload: dict[str, Any] = {"crm": conn.crm, "reason": reason[:300]}
        await outbox.enqueue_many(
            session=session,
            rows=[
                outbox.Planned(
                    f"crm:broken:{conn.id}:{int(now.timestamp())}:{p}", crm.CRM_BROKEN, p, now, payload
                )
                for p in admins
            ],
        )
    if first:
        log.warning(msg.CRM_BROKEN.format(crm=conn.crm, workspace=conn.workspace_id, reason=reason))
    return first
