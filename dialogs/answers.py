"""Answers a channel sends after it acknowledged the request (in Slack: the reply to a DM, a
button's answer, the file of `export` or `team`), stored as outbox rows that the scheduler delivers
once, retrying until they are sent or fail for good (kind REPLY, rendered by
bot/scheduling/reply_jobs.py).

A row holds the replies as rendered, never a file: a file is made again when its row is sent, by
the read-only command that made it, so no copy of a person's data (an export, a chart with the
team's names) waits in the outbox where `forget` and retention do not look. The payload is
emptied once the row is finished (storage.outbox.MESSAGE_KINDS).
"""

from __future__ import annotations

from collections.abc import Sequence

from dialogs import data_rights, team
from dialogs.commands import parse_command
from dialogs.context import CoachContext
from dialogs.debrief import load_rep
from dialogs.messages import FileAttachment, Reply, reply_from_record, reply_record
from dialogs.validation import clean_text
from storage import outbox

REPLY = outbox.REPLY
OPEN_FORM = "open_debrief_form"  # Reply.meta key: the account ("" for none) a channel may offer
# a button for that opens the debrief form (a message can't open a form by itself)

# The commands whose files can be made again when their row is sent: read-only, without words after.
FILE_COMMANDS = {"export": data_rights.export_reply, "team": team.team_reply}


def file_source(words: str) -> str | None:
    """The command that makes these words' files again, or None when they have no such command."""
    command = parse_command(clean_text(words or ""))
    return command.name if command.name in FILE_COMMANDS and not command.arg else None


async def answer_later(
    *,
    ctx: CoachContext,
    person_id: int,
    key: str,
    channel: str,
    replies: Sequence[Reply],
    words: str = "",
    shown: bool = False,
) -> bool:
    """Store what is still to send of an answer to `words`, as outbox rows due now, in one
    transaction: the replies (unless `shown`: the channel answered with them in place), then,
    when some carry a file, a row that makes the files again when it is sent. `key` names the
    request (a repeat stores nothing new). Returns False when a file can't be made again (no
    command in `FILE_COMMANDS` made it): it is left out."""
    with_files = any(r.attachment is not None for r in replies)
    source = file_source(words) if with_files else None
    now, head = ctx.clock(), f"reply:{channel}:{key}"[:240]
    rows: list[outbox.Planned] = []
    if replies and not shown:
        payload = {"channel": channel, "replies": [reply_record(r) for r in replies]}
        rows.append(outbox.Planned(head, REPLY, person_id, now, payload=payload))
    if source is not None:  # after the replies: on one replica they go out in this order
        payload = {"channel": channel, "replies": [], "files_from": source}
        rows.append(outbox.Planned(f"{head}:files", REPLY, person_id, now, payload=payload))
    if rows:
        async with ctx.db() as session, session.begin():
            await outbox.enqueue_many(session=session, rows=rows)
    return source is not None or not with_files


def stored_replies(item: outbox.Item) -> list[Reply]:
    """The replies a REPLY row holds."""
    return [reply_from_record(r) for r in item.payload.get("replies") or []]


async def remade_files(ctx: CoachContext, item: outbox.Item) -> list[FileAttachment]:
    """The files of a REPLY row, made now by the command that made them (none: the row has none)."""
    handler = FILE_COMMANDS.get(str(item.payload.get("files_from") or ""))
    if handler is None:
        return []
    async with ctx.db() as session:
        rep = await load_rep(session=session, ctx=ctx, person_id=item.person_id)
    command = parse_command(str(item.payload["files_from"]))
    replies = await handler(ctx, rep, str(item.payload.get("channel") or ""), None, command)
    return [r.attachment for r in replies if r.attachment is not None]
