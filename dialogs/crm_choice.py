"""The rep's part in the CRM sync: which CRM company (and open deal) an account is, asked once
with the likely candidates as buttons (`crm company <account> <id|none>`, `crm deal …`), and the
outbox renderers of that question and of the notice that tells an admin the connection broke."""

from __future__ import annotations

import re

from dialogs.commands import Command
from dialogs.context import CoachContext
from dialogs.crm_entry import crm_name
from dialogs.debrief import Rep
from dialogs.messages import Button, Reply
from storage import crm, crm_links
from storage.directory import person_by_id
from storage.models import DialogState
from storage.outbox import Item

ASKS = ("company", "deal")
_CHOICE = re.compile(r"^(company|deal) \d+ \S+$")
NONE = "none"


def is_choice(command: Command) -> bool:
    """A press of the CRM question's buttons (exactly their shape, so no typed answer is taken)."""
    return command.name == "crm" and bool(_CHOICE.match(command.arg))


async def crm_command(
    ctx: CoachContext, rep: Rep, channel: str, state: DialogState | None, cmd: Command
) -> list[Reply]:
    """A button under the question: remember the choice for the account, send the waiting writes."""
    t, loc = ctx.texts, rep.locale
    parts = cmd.arg.split()
    if len(parts) != 3 or parts[0] not in ASKS or not parts[1].isdigit():
        return [Reply(kind="info", text=t.render(loc, "crm", "choice_usage"))]
    ask, account_id, choice = parts[0], int(parts[1]), parts[2]
    now = ctx.clock()
    async with ctx.db() as session, session.begin():
        account = await crm_links.workspace_account(
            session=session, account_id=account_id, workspace_id=rep.workspace_id
        )
        question = await crm_links.asked(session=session, ask=ask, account_id=account_id)
        link = await crm_links.account_link(session=session, account_id=account_id)
        offered = {str(c["id"]): str(c["name"]) for c in _candidates(question)}
        open_ = link is None if ask == "company" else (link is not None and not link.deal_decided)
        if account is None or question is None or not open_ or (choice != NONE and choice not in offered):
            return [Reply(kind="info", text=t.render(loc, "crm", "choice_stale"))]
        name = crm_name(str(question.get("crm") or ""))
        if ask == "company":
            await crm_links.save_account_link(
                session=session,
                account_id=account_id,
                company_id=None if choice == NONE else choice,
                company_name=offered.get(choice, ""),
                matched_by="rep",
                now=now,
            )
        else:
            await crm_links.save_deal(
                session=session, account_id=account_id, deal_id=None if choice == NONE else choice, now=now
            )
        await crm.wake_writes(session=session, person_id=rep.id, now=now)
    if ask == "company":
        key = "chose_no_company" if choice == NONE else "chose_company"
        text = t.render(loc, "crm", key, account=account.name, company=offered.get(choice, ""), crm=name)
    else:
        key = "chose_no_deal" if choice == NONE else "chose_deal"
        text = t.render(loc, "crm", key, account=account.name, deal=offered.get(choice, ""))
    return [Reply(kind="info", text=text)]


def _candidates(question: dict[str, object] | None) -> list[dict[str, object]]:
    found = (question or {}).get("candidates")
    return [c for c in found if isinstance(c, dict)] if isinstance(found, list) else []


async def _locale(ctx: CoachContext, person_id: int) -> str:
    async with ctx.db() as session:
        person = await person_by_id(session=session, person_id=person_id)
    return person.locale if person is not None and person.locale in ("en", "nl") else ctx.default_locale


async def render_question(ctx: CoachContext, item: Item) -> list[Reply] | None:
    """The question of a CRM_QUESTION row; None (nothing to ask) once it is answered."""
    p = item.payload
    ask, account_id = str(p.get("ask")), int(p["account_id"])
    async with ctx.db() as session:
        link = await crm_links.account_link(session=session, account_id=account_id)
    if (ask == "company" and link is not None) or (ask == "deal" and (link is None or link.deal_decided)):
        return None
    loc = await _locale(ctx, item.person_id)
    t = ctx.texts
    key = "ask_company" if ask == "company" else "ask_deal"
    text = t.render(
        loc,
        "crm",
        key,
        account=str(p.get("account") or ""),
        crm=crm_name(str(p.get("crm"))),
        company=str(p.get("company") or ""),
    )
    buttons = [Button(str(c["name"])[:70], f"crm {ask} {account_id} {c['id']}") for c in _candidates(p)]
    buttons.append(Button(t.render(loc, "crm", "none_of_these"), f"crm {ask} {account_id} {NONE}"))
    return [Reply(kind="question", text=text, buttons=tuple(buttons))]


async def render_broken(ctx: CoachContext, item: Item) -> list[Reply]:
    loc = await _locale(ctx, item.person_id)
    p = item.payload
    return [
        Reply(
            kind="info",
            text=ctx.texts.render(
                loc, "crm", "broken", crm=crm_name(str(p.get("crm"))), reason=str(p.get("reason") or "")
            ),
        )
    ]
