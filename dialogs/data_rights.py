"""`export` and `forget`: a person's own data as a JSON file, and deleting all of it after a confirmation.

The export travels as `Reply.attachment` (see dialogs.digest_render); in Teams, which takes no
file in the bot's chat, the answer says so and how to get a copy instead. `forget` asks first;
`forget confirm` (or the button) deletes the person and every row they own, in every table.
"""

from __future__ import annotations

import json

from dialogs.commands import Command
from dialogs.context import CoachContext
from dialogs.debrief import Rep
from dialogs.messages import Button, FileAttachment, Reply
from storage import data_rights
from storage.debriefs import count_debriefs
from storage.models import DialogState

CONFIRM_WORDS = {"confirm", "yes", "bevestig", "bevestigen", "ja"}


def _t(ctx: CoachContext, loc: str, key: str, **kw: object) -> str:
    return ctx.texts.render(loc, "digest", key, **kw)


async def export_reply(
    ctx: CoachContext, rep: Rep, channel: str, state: DialogState | None, cmd: Command
) -> list[Reply]:
    async with ctx.db() as session:
        tables = await data_rights.export_person(session=session, person_id=rep.id)
    rows = sum(len(v) for v in tables.values())
    if channel == "teams":  # Teams takes no file in the bot's chat: say so, and how to get a copy
        text = ctx.texts.render(rep.locale, "teams", "export_no_file", rows=rows, tables=len(tables))
        return [Reply(kind="info", title=_t(ctx, rep.locale, "export_title"), text=text)]
    now = ctx.clock()
    document = {"exported_at": now.isoformat(), "person_id": rep.id, "tables": tables}
    content = json.dumps(document, ensure_ascii=False, indent=2, sort_keys=True).encode()
    day = now.date().isoformat()
    return [
        Reply(
            kind="info",
            title=_t(ctx, rep.locale, "export_title"),
            text=_t(ctx, rep.locale, "export_ready", rows=rows, tables=len(tables)),
            attachment=FileAttachment(
                filename=f"closing-coach-export-{day}.json",
                content=content,
                mime_type="application/json",
                title=_t(ctx, rep.locale, "export_file_title", day=day),
            ),
        )
    ]


async def forget_reply(
    ctx: CoachContext, rep: Rep, channel: str, state: DialogState | None, cmd: Command
) -> list[Reply]:
    loc = rep.locale
    if cmd.arg.casefold() not in CONFIRM_WORDS:
        async with ctx.db() as session:
            debriefs = await count_debriefs(session=session, person_id=rep.id)
        return [
            Reply(
                kind="question",
                text=_t(ctx, loc, "forget_confirm", debriefs=debriefs),
                buttons=(Button(_t(ctx, loc, "forget_button"), "forget confirm"),),
            )
        ]
    async with ctx.db() as session, session.begin():
        rows = await data_rights.forget_person(session=session, person_id=rep.id)
    return [
        Reply(
            kind="saved", text=_t(ctx, loc, "forget_done", rows=rows), meta={"forgotten": True, "locale": loc}
        )
    ]
