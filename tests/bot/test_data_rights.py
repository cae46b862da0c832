"""Who may see whom (the authorization matrix), team add/remove, export → forget, retention."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import SQLModel

from bot.slack.mentions import person_references
from dialogs import conversation
from dialogs.team import authorize_view
from storage import data_rights, outbox
from storage.errors import Forbidden
from storage.models import Debrief, DebriefAnswer, Outbox, Person
from tests.bot.database_scan import hits
from tests.digest_history import add_meeting, at, seed_history
from tests.factories import make_person


async def say(coach, person, text):
    return await conversation.reply_to(ctx=coach, person_id=person.id, channel="web", text=text)


async def test_authorization_matrix(coach, db, database_url):
    h = await seed_history(db)
    # rep -> another rep
    (reply,) = await say(coach, h.anna, "team Bram")
    assert reply.kind == "error"
    assert reply.text == (
        "You can only see your own debriefs. Bram Bos's debriefs are visible to Bram Bos "
        "and their managers only."
    )
    # manager -> another team's rep
    (reply,) = await say(coach, h.olaf, "team anna@example.com")
    assert reply.kind == "error"
    assert (
        reply.text
        == "Anna Aalders is not in your team: only Anna Aalders's own managers can see their debriefs."
    )
    # workspace A -> workspace B: the person cannot even be found
    (reply,) = await say(coach, h.manager, "team eve@example.com")
    assert reply.kind == "error" and reply.text == (
        "I can't find “eve@example.com” among the people in your workspace."
    )
    async with db() as session:
        with pytest.raises(Forbidden) as exc:
            await authorize_view(session=session, viewer_id=h.manager.id, person_id=h.eve.id)
        assert exc.value.details["reason"] == "other_workspace"
        with pytest.raises(Forbidden):
            await authorize_view(session=session, viewer_id=h.dirk.id, person_id=h.anna.id)
        await authorize_view(session=session, viewer_id=h.manager.id, person_id=h.anna.id)  # allowed
        await authorize_view(session=session, viewer_id=h.anna.id, person_id=h.anna.id)  # oneself
    # the rep's own manager sees the rep; a rep asking for the team overview is told who sees them
    (reply,) = await say(coach, h.manager, "team Anna")
    assert reply.title == "Anna Aalders" and reply.items[0].startswith("Action point on Opening commitment:")
    (reply,) = await say(coach, h.anna, "team")
    assert "for managers" in reply.text and "Mira Manager is your manager" in reply.text
    assert "including your notes" not in reply.text
    # the other manager's overview contains only their own rep
    replies = await say(coach, h.olaf, "team")
    assert [r.title for r in replies[1:-1]] == ["Dirk Dekker"]


async def test_team_overview_in_chat_has_the_chart(coach, db):
    h = await seed_history(db)
    replies = await say(coach, h.manager, "team")
    assert replies[0].meta["section"] == "summary"
    assert [r.title for r in replies[1:4]] == ["Anna Aalders", "Bram Bos", "Cor Claes"]
    assert replies[-1].attachment.content[:4] == b"\x89PNG"


async def test_team_add_and_remove_tell_the_rep(coach, db):
    h = await seed_history(db)
    fay = await make_person(db, user_id="F", name="Fay Fens", email="fay@example.com", locale="nl")
    (reply,) = await say(coach, h.anna, "team add fay@example.com")
    assert reply.text.startswith("Only managers can add or remove reps.")
    (reply,) = await say(coach, h.olaf, "team add Bram")
    assert reply.text == "Bram Bos already reports to Mira Manager. Mira Manager has to remove them first."
    (reply,) = await say(coach, h.olaf, person_references("team add <@F>"))  # a Slack mention
    assert reply.kind == "saved" and reply.text.startswith("Fay Fens is now in your team.")
    async with db() as session:
        assert (await session.get(Person, fay.id)).manager_id == h.olaf.id
        row = await session.scalar(sa.select(Outbox).where(Outbox.person_id == fay.id))
    assert row.kind == "team_notice" and row.payload["key"] == "rep_told_added"
    from bot.scheduling.digest_jobs import render_team_notice

    item = outbox.Item(row.id, row.dedup_key, row.kind, row.person_id, row.payload, row.due_at, None, 0)
    (notice,) = await render_team_notice(coach, item)
    assert notice.text.startswith("Olaf Other heeft je aan het team toegevoegd.")  # in Fay's language
    (reply,) = await say(coach, h.olaf, "team remove Fay")
    assert reply.text.startswith("Fay Fens is no longer in your team")
    async with db() as session:
        assert (await session.get(Person, fay.id)).manager_id is None


async def _rows_referencing(session, person_id, exported):
    """Rows still present: exported primary keys per table, and any column pointing at the person."""
    left = {}
    for table in SQLModel.metadata.sorted_tables:
        conditions = []
        for fk in table.foreign_keys:
            if fk.column.table.name == "person":
                conditions.append(fk.parent == person_id)
        if table.name == "person":
            conditions.append(table.c.id == person_id)
        pk = list(table.primary_key.columns)
        ids = [r["id"] for r in exported.get(table.name, []) if "id" in r]
        if ids and len(pk) == 1:
            conditions.append(pk[0].in_(ids))
        if conditions:
            n = await session.scalar(sa.select(sa.func.count()).select_from(table).where(sa.or_(*conditions)))
            if n:
                left[table.name] = n
    return left


async def test_export_then_forget_leaves_nothing(coach, db, database_url):
    h = await seed_history(db)
    async with db() as s, s.begin():
        await add_meeting(s, h.anna, "Zeta", at(12, 2))
        await outbox.enqueue(
            session=s, dedup_key="x:anna", kind="nudge", person_id=h.anna.id, due_at=at(12, 1)
        )
    await say(coach, h.anna, "debrief Acme")  # a dialog in progress is Anna's data too
    await say(coach, h.anna, "cancel")
    await conversation.reply_to(ctx=coach, person_id=h.anna.id, channel="teams", text="debrief Kappa")
    await say(coach, h.manager, "team")

    (reply,) = await say(coach, h.anna, "export")
    attachment = reply.attachment
    assert attachment.mime_type == "application/json"
    exported = json.loads(attachment.content)["tables"]
    assert len(exported["debrief"]) == 6 and len(exported["debriefanswer"]) == 30
    assert (
        len(exported["meeting"]) == 1 and len(exported["dialogstate"]) == 1 and len(exported["outbox"]) == 1
    )
    assert exported["person"][0]["display_name"] == "Anna Aalders"
    assert {a["name"] for a in exported["account (names only)"]} == {"Acme", "Brouwer", "Kappa", "Delta"}

    (ask,) = await say(coach, h.anna, "forget")
    assert ask.kind == "question" and "6 debriefs" in ask.text and ask.buttons[0].value == "forget confirm"
    async with db() as session:
        assert await session.get(Person, h.anna.id) is not None  # nothing happens before confirming
    (done,) = await say(coach, h.anna, ask.buttons[0].value)
    assert done.kind == "saved" and "deleted" in done.text

    async with db() as session:
        assert await _rows_referencing(session, h.anna.id, exported) == {}
        # everyone else's data is untouched
        assert await session.scalar(sa.select(sa.func.count()).select_from(Debrief)) == 4
        assert await session.scalar(sa.select(sa.func.count()).select_from(DebriefAnswer)) == 20
        assert (await session.get(Person, h.bram.id)).manager_id == h.manager.id


async def test_forgetting_a_manager_keeps_the_reps(coach, db):
    h = await seed_history(db)
    async with db() as s, s.begin():
        await data_rights.forget_person(session=s, person_id=h.manager.id)
    async with db() as s:
        anna = await s.get(Person, h.anna.id)
        assert anna is not None and anna.manager_id is None
        assert await s.scalar(sa.select(sa.func.count()).select_from(Debrief)) == 10


async def test_retention_deletes_old_debriefs_only(db, clock, database_url):
    from bot.scheduling.digest_jobs import run_retention

    await seed_history(db)  # debriefs from 11-10 to 11-28
    async with db() as s, s.begin():
        deleted = await run_retention(session=s, now=clock() + timedelta(days=9), retention_days=28)
    assert deleted == 1  # only 11-10 is older than 28 days on 12-09
    async with db() as s:
        assert await s.scalar(sa.select(sa.func.count()).select_from(Debrief)) == 9
        assert await s.scalar(sa.select(sa.func.count()).select_from(DebriefAnswer)) == 45
        oldest = await s.scalar(sa.select(sa.func.min(Debrief.created_at)))
    assert oldest == at(11, 18)


async def test_web_chat_export_file_and_forget(live_app, http):
    url = live_app.url

    async def say(text):
        async with http.post(f"{url}/webchat/messages", json={"text": text}) as r:
            assert r.status == 200, await r.text()
            return await r.json()

    async with http.post(f"{url}/webchat/session", json={}) as r:
        assert r.status == 200
    (message,) = (await say("export"))["messages"]
    file = message["attachment"]
    assert file["mime_type"] == "application/json" and file["url"].startswith("data:application/json;base64,")
    assert (await say("forget"))["messages"][0]["buttons"][0]["value"] == "forget confirm"
    note = "Quokka-lantern clause 7731"
    await say(f"debrief {note}")  # a dialog in progress names an account: the visitor's words
    async with live_app.coach.db() as session:
        (visitor,) = (await session.scalars(sa.select(Person.platform_user_id))).all()
    before = await hits(live_app.coach.db, [visitor, note])
    assert {n for _, _, n in before} == {visitor, note}
    await say("cancel")
    done = await say("forget confirm")  # the person row is gone; the page still gets its answer
    assert done["messages"][0]["kind"] == "saved" and done["locale"] == "en"
    assert await hits(live_app.coach.db, [visitor, note]) == []
