"""`assign`: a manager gives one of their own reps an action point, typed or as the digest
proposed it (sent as is or edited), and the form each channel shows under a rep in the digest.

`assign Tom: ask for their agenda before every meeting`, `assign tom@ourco.nl …`, `assign U0TOM …`
(a Slack mention, turned into the user id by the channel) or, from the digest's form,
`assign #12 (agenda:customer_formal,345): …` (the rep's id, and the pattern and example debrief
the proposal came from, so the next digests can follow what it targets). A name is looked up in
the manager's workspace (storage.sales_teams.find_people) and must be one of the manager's own
reps. The rep is told at once through the outbox: one row per point, delivered once, retried.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.action_points import NOTICE
from dialogs.commands import Command
from dialogs.context import CoachContext
from dialogs.debrief import Rep
from dialogs.messages import Reply, TextForm
from dialogs.text import Texts
from dialogs.validation import clean_text
from storage import outbox, sales_teams
from storage.action_points import TEXT_LIMIT, assign_action_point
from storage.debrief_patterns import PATTERN_POINTS
from storage.models import Debrief, DialogState, Person

REPEAT = "repeat"  # Reply.meta key: the point was already set (a form sent twice), nothing new
MAX_NAME_WORDS = 4  # "assign Sanne de Vries ask …": the longest name tried without a colon
_FORM = re.compile(r"^#(\d{1,18})(?:\s*\(([a-z_]{1,30}:[a-z_]{1,30})(?:,(\d{1,18}))?\))?\s*:?\s*(.*)$", re.S)


def t(texts: Texts, loc: str, key: str, **kw: object) -> str:
    return texts.render(loc, "action_points", key, **kw)


def _name(p: Person) -> str:
    return p.display_name or p.email or p.platform_user_id


# -- the digest's form ----------------------------------------------------------------------------
def assign_form(
    texts: Texts,
    loc: str,
    *,
    rep_id: int,
    rep_name: str,
    proposed: str,
    pattern: str | None = None,
    example_debrief_id: int | None = None,
) -> TextForm:
    """The proposed action point for one rep, to send as is or edited (see the module doc)."""
    source = ""
    if pattern is not None and _FORM.match(f"#1 ({pattern}):"):
        source = f" ({pattern}{f',{example_debrief_id}' if example_debrief_id else ''})"
    return TextForm(
        command=f"assign #{rep_id}{source}:",
        text=proposed[:TEXT_LIMIT],
        label=t(texts, loc, "form_label", rep=rep_name),
        button=t(texts, loc, "form_button", rep=rep_name),
        title=t(texts, loc, "form_title"),
        hint=t(texts, loc, "form_hint", rep=rep_name),
        limit=TEXT_LIMIT,
    )


def is_form(command: Command) -> bool:
    """What a digest's form sends (`assign #12 …`): acted on even while a debrief is open, since
    no answer to a checklist question looks like it."""
    return command.name == "assign" and _FORM.match(command.arg) is not None and command.arg.startswith("#")


# -- `assign` ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Request:
    who: str  # as typed: a name, an e-mail, a platform user id, or "#<person id>" (the form)
    text: str
    pattern: str | None = None
    example_debrief_id: int | None = None


def _parse_colon(arg: str) -> Request | None:
    form = _FORM.match(arg)
    if form is not None:
        example = int(form.group(3)) if form.group(3) else None
        return Request(f"#{form.group(1)}", form.group(4).strip(), form.group(2), example)
    if ":" in arg:
        who, _, text = arg.partition(":")
        return Request(who.strip(), text.strip())
    return None


def _matches(p: Person, who: str) -> bool:
    """`who` names this person exactly: e-mail, user id, full name or first name."""
    key = who.casefold()
    name = (p.display_name or "").casefold()
    first = name.split(" ")[0] if name else ""
    return key in ((p.email or "").casefold(), name, first) or who == p.platform_user_id


async def _people(session: AsyncSession, me: Person, who: str) -> list[Person]:
    if who.startswith("#") and who[1:].isdigit():
        person = await session.get(Person, int(who[1:]))
        return [person] if person is not None and person.workspace_id == me.workspace_id else []
    found = await sales_teams.find_people(session=session, workspace_id=me.workspace_id, who=who)
    return [p for p in found if p.id != me.id]


async def _request(session: AsyncSession, me: Person, arg: str) -> tuple[Request, list[Person]]:
    """Who is meant and what to send: the name before a colon, else (or when that names nobody)
    the longest run of leading words that names someone exactly ("Sanne de Vries ask …")."""
    parsed = _parse_colon(arg)
    if parsed is not None:
        people = await _people(session, me, parsed.who.removeprefix("@").strip())
        if people or parsed.who.startswith("#"):
            return parsed, people
    words = arg.split()
    for n in range(min(MAX_NAME_WORDS, len(words)), 0, -1):
        who = " ".join(words[:n]).removeprefix("@").strip()
        exact = [p for p in await _people(session, me, who) if _matches(p, who)]
        if exact:
            return Request(who, " ".join(words[n:])), exact
    return Request(words[0] if words else "", " ".join(words[1:])), []


async def assign_reply(
    ctx: CoachContext, rep: Rep, channel: str, state: DialogState | None, cmd: Command
) -> list[Reply]:
    texts, loc = ctx.texts, rep.locale
    arg = clean_text(cmd.arg)
    if not arg:
        return [Reply(kind="error", text=t(texts, loc, "assign_usage"))]
    now = ctx.clock()
    async with ctx.db() as session, session.begin():
        me = await session.get(Person, rep.id)
        if me is None or await sales_teams.count_reps(session=session, manager_id=rep.id) == 0:
            return [Reply(kind="error", text=t(texts, loc, "assign_no_team"))]
        request, people = await _request(session, me, arg)
        mine = [p for p in people if p.manager_id == rep.id]
        shown_who = request.who[:80]
        if not people:
            return [Reply(kind="error", text=t(texts, loc, "assign_not_found", who=shown_who))]
        if not mine:
            return [Reply(kind="error", text=t(texts, loc, "assign_not_in_team", rep=_name(people[0])))]
        if len(mine) > 1:
            names = ", ".join(_name(p) for p in mine[:5])
            return [Reply(kind="error", text=t(texts, loc, "assign_ambiguous", who=shown_who, names=names))]
        target = mine[0]
        assert target.id is not None
        if not request.text:
            return [Reply(kind="error", text=t(texts, loc, "assign_empty", rep=_name(target)))]
        if len(request.text) > TEXT_LIMIT:
            return [Reply(kind="error", text=t(texts, loc, "assign_too_long", limit=TEXT_LIMIT,
                                               length=len(request.text)))]
        pattern = request.pattern if request.pattern in PATTERN_POINTS else None  # what it targets
        assigned = await assign_action_point(
            session=session, workspace_id=me.workspace_id, person_id=target.id, manager_id=rep.id,
            text=request.text, pattern=pattern, point=PATTERN_POINTS.get(pattern or ""),
            example_debrief_id=await _own_debrief(session, target, request.example_debrief_id), now=now,
        )
        if not assigned.created:  # the same form sent twice (a double click, a retry): one point
            return [Reply(kind="info", text=t(texts, loc, "already_assigned", rep=_name(target),
                                              text=request.text), meta={REPEAT: True})]
        row = assigned.point
        await outbox.enqueue(
            session=session, dedup_key=f"{NOTICE}:{row.id}", kind=NOTICE, person_id=target.id,
            due_at=now, payload={"action_id": row.id},
        )
    return [Reply(kind="saved", text=t(texts, loc, "assigned", rep=_name(target), text=request.text),
                  meta={"action_point": row.id, "person_id": target.id})]


async def _own_debrief(session: AsyncSession, rep: Person, debrief_id: int | None) -> int | None:
    """The example debrief the proposal named, if it is this rep's (else none is kept)."""
    if debrief_id is None:
        return None
    debrief = await session.get(Debrief, debrief_id)
    return debrief_id if debrief is not None and debrief.person_id == rep.id else None
