"""`forget confirm` leaves the person nowhere: every table the database has (found by reflection,
so new tables are covered) and every column of it, JSON included, is searched for their name,
e-mail, platform ids and a note they wrote, for a rep and for a manager on Slack, Teams and web."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from dialogs import conversation
from dialogs.debrief import submit_debrief
from dialogs.validation import Locality, validate_form
from storage import teams_store
from storage.models import Person
from tests.bot.database_scan import hits
from tests.factories import make_person

NOTE = "Quokka-lantern clause 7731"


@dataclass(frozen=True)
class Someone:
    person: Person
    name: str
    email: str
    user_id: str
    teams_id: str  # Teams' own "29:" id of the account, kept in conversation references

    @property
    def needles(self) -> list[str]:
        return [self.name, self.email, self.user_id, self.teams_id, NOTE]


async def _someone(db: Any, platform: str, key: str, *, role: str = "rep") -> Someone:
    name = {"mgr": "Marguerite Quellington", "rep": "Rosalind Verhoeven", "other": "Otto Brandsma"}[key]
    email = f"{key}.7731@forget.example"
    user_ids = {"slack": f"U{key.upper()}7731", "teams": f"aad-{key}-7731-0000", "web": f"web:{key}7731"}
    user_id = user_ids[platform]
    person = await make_person(
        db, user_id=user_id, name=name, email=email, role=role,
        platform=platform, workspace="EXT-7731",
    )
    return Someone(person, name, email, user_id, f"29:{key}-7731")


def _account(who: Someone) -> dict[str, str]:
    return {"id": who.teams_id, "name": who.name, "aadObjectId": who.user_id}


async def _teams_chats(db: Any, people: list[Someone]) -> None:
    """A personal chat per person, and a channel where each of them spoke last once."""
    async with db() as session, session.begin():
        for n, who in enumerate(people):
            for kind, person_id in (("personal", who.person.id), ("channel", None)):
                conversation_id = f"a:{who.teams_id}" if kind == "personal" else f"19:channel-{n}@thread"
                await teams_store.save_conversation(
                    session=session, workspace_id=who.person.workspace_id, person_id=person_id,
                    conversation_id=conversation_id, kind=kind, service_url="https://smba.example/",
                    reference={
                        "user": _account(who), "bot": {"id": "28:bot", "name": "Coach"},
                        "conversation": {"id": conversation_id, "conversationType": kind},
                        "channelId": "msteams", "serviceUrl": "https://smba.example/",
                    },
                )


async def _debrief(coach: Any, who: Someone, note: str, key: str) -> None:
    raw = {
        "account": "Acme", "rating:opening": "yes", "note:opening": note, "rating:interaction": "yes",
        "rating:situation": "partly", "rating:concessions": "yes", "rating:next_step": "yes",
        "next_step_what": f"Pilot proposal ({note})", "outcome": "next_step", "next_step_due": "2026-12-07",
    }
    loc = Locality("en", "Europe/Amsterdam", coach.clock())
    debrief, errors = validate_form(raw, texts=coach.texts, loc=loc)
    assert debrief is not None, errors
    assert who.person.id is not None
    await submit_debrief(ctx=coach, person_id=who.person.id, debrief=debrief, idempotency_key=key)


async def _say(coach: Any, who: Someone, channel: str, text: str) -> Any:
    return await conversation.reply_to(ctx=coach, person_id=who.person.id, channel=channel, text=text)


@pytest.mark.parametrize("platform", ["slack", "teams", "web"])
@pytest.mark.parametrize("target", ["rep", "mgr"])
async def test_forget_confirm_leaves_no_trace_in_any_table(coach, db, database_url, platform, target) -> None:
    manager = await _someone(db, platform, "mgr", role="manager")
    people = {
        "mgr": manager,
        "rep": await _someone(db, platform, "rep"),
        "other": await _someone(db, platform, "other"),
    }
    # The manager adds both reps through the conversation: each rep's outbox gets a notice naming them.
    for rep in ("rep", "other"):
        (added,) = await _say(coach, manager, platform, f"team add {people[rep].email}")
        assert added.kind == "saved", added
    for key, who in people.items():
        await _debrief(coach, who, NOTE if key == target else "Nothing unusual", key=f"{platform}:{key}")
    if platform == "teams":
        await _teams_chats(db, list(people.values()))
    elsewhere = "slack" if platform == "web" else "web"
    await _say(coach, people[target], elsewhere, "debrief Zeta")  # a dialog left open in another channel
    forgotten = people[target]
    assert await hits(db, forgotten.needles)  # the scan sees the person before

    replies = await _say(coach, forgotten, platform, "forget")
    assert [b.value for r in replies for b in r.buttons] == ["forget confirm"], replies
    replies = await _say(coach, forgotten, platform, "forget confirm")
    assert [r.kind for r in replies][-1] == "saved", replies

    assert await hits(db, forgotten.needles) == []
    # Everyone else is still there, with what they wrote.
    stay = [who for key, who in people.items() if key != target]
    for who in stay:
        assert {(t, n) for t, _, n in await hits(db, [who.name, who.email])} >= {("person", who.name)}
    assert await hits(db, ["Nothing unusual"])
