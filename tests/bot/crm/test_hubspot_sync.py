"""HubSpot: a debrief lands on the company and the deal once, as one note and one task, through
the outbox, however HubSpot answers (429, a dropped answer, a revoked token)."""

from __future__ import annotations

import pytest

from bot.scheduling.calendar import import_calendar
from dialogs.debrief import submit_debrief
from dialogs.validation import Locality, validate_form
from storage import crm
from storage.crm_models import CrmStatus
from storage.inbox import take_unseen
from storage.models import Person
from tests.bot.crm.conftest import correct, crm_writes, due_now, file, ics, settled, tick
from tests.conftest import LiveApp
from tests.factories import full_form
from tests.fakes.hubspot_api import FakeHubSpot


@pytest.fixture
async def acme(hubspot: FakeHubSpot, live_app: LiveApp, rep: Person) -> dict[str, str]:
    """Acme in HubSpot (with one open deal and the rep as an owner), and in the rep's calendar."""
    company = hubspot.add_company("ACME Holding B.V.", "acme.com")
    hubspot.add_company("Acme Bakery", "acmebakery.nl")  # same name, other domain: not this one
    owner = hubspot.add_owner("sanne@ourco.nl")
    deal = hubspot.add_deal("Acme pilot", company, owner=owner)
    assert rep.id is not None
    await import_calendar(ctx=live_app.coach, person_id=rep.id, data=ics("sanne@ourco.nl", "jan@acme.com"))
    await tick(live_app)
    return {"company": company, "deal": deal, "owner": owner}


async def test_a_debrief_is_one_note_with_the_questions_and_answers_and_one_task(
    live_app: LiveApp, hubspot: FakeHubSpot, rep: Person, acme: dict[str, str]
) -> None:
    await file(
        live_app,
        rep,
        account="Acme",
        customer_questions="Is <b>SSO</b> & SCIM included?",
        answers_given="Yes, both, from the Pro plan.",
    )
    notes, tasks = hubspot.to("POST", "/crm/v3/objects/notes"), hubspot.to("POST", "/crm/v3/objects/tasks")
    assert len(notes) == 1 and len(tasks) == 1
    note = notes[0].body
    body = note["properties"]["hs_note_body"]
    assert "Is &lt;b&gt;SSO&lt;/b&gt; &amp; SCIM included?" in body and "<b>SSO" not in body
    assert "Yes, both, from the Pro plan." in body
    assert "Concessions" in body and "Framework agreement" in body and "Pilot proposal" in body
    assert note["properties"]["hubspot_owner_id"] == acme["owner"]
    targets = {(a["to"]["id"], a["types"][0]["associationTypeId"]) for a in note["associations"]}
    assert targets == {(acme["company"], 190), (acme["deal"], 214)}
    task = tasks[0].body["properties"]
    assert task["hs_task_subject"].startswith("Next step with Acme: Pilot proposal")
    assert task["hs_timestamp"].startswith("2026-12-07") and task["hubspot_owner_id"] == acme["owner"]
    assert "They sent a formal agenda" not in body  # the rep's own notes stay out (crm.include_notes)
    [row] = await crm_writes(live_app)
    assert row["status"] == "sent"


async def test_none_asked_and_who_sees_what(
    live_app: LiveApp, hubspot: FakeHubSpot, rep: Person, acme: dict[str, str]
) -> None:
    assert rep.id is not None
    coach = live_app.coach
    loc = Locality(locale="en", timezone="Europe/Amsterdam", now=coach.clock())
    form = full_form(
        account="Acme",
        **{"rating:concessions": "none"},
        concessions_asked=None,
        concessions_given=None,
        concessions_got=None,
    )
    debrief, errors = validate_form(form, texts=coach.texts, loc=loc)
    assert debrief is not None, errors
    result = await submit_debrief(ctx=coach, person_id=rep.id, debrief=debrief, idempotency_key="none-asked")
    assert "A copy goes onto Acme in HubSpot" in result.replies[-1].text  # told who sees what
    await settled(live_app)
    [note] = hubspot.notes.values()
    assert "Concessions: None asked" in note["properties"]["hs_note_body"]


async def test_an_edit_updates_the_same_note(
    live_app: LiveApp, hubspot: FakeHubSpot, rep: Person, acme: dict[str, str]
) -> None:
    debrief_id = await file(live_app, rep, account="Acme")
    await correct(live_app, rep, debrief_id, account="Acme", answers_given="Eight weeks, not six.")
    assert len(hubspot.to("POST", "/crm/v3/objects/notes")) == 1
    [patch] = hubspot.to("PATCH", "/crm/v3/objects/notes/")
    [note_id] = hubspot.notes
    assert patch.path.endswith(f"/{note_id}")
    assert "Eight weeks, not six." in hubspot.notes[note_id]["properties"]["hs_note_body"]
    assert len(hubspot.to("POST", "/crm/v3/objects/tasks")) == 1 and hubspot.to(
        "PATCH", "/crm/v3/objects/tasks/"
    )


async def test_429_then_200_is_written_once(
    live_app: LiveApp, hubspot: FakeHubSpot, rep: Person, acme: dict[str, str]
) -> None:
    hubspot.limit_next(3)  # more than the short waits: back to the outbox, then through
    await file(live_app, rep, account="Acme")
    limited = [c for c in hubspot.calls if c.status == 429]
    assert len(limited) == 3
    await due_now(live_app, rep)
    await settled(live_app)
    assert len(hubspot.notes) == 1 and len(hubspot.tasks) == 1


async def test_a_timeout_after_hubspot_stored_the_note_does_not_write_it_twice(
    live_app: LiveApp, hubspot: FakeHubSpot, rep: Person, acme: dict[str, str]
) -> None:
    hubspot.drop_after_store("notes")
    await file(live_app, rep, account="Acme")
    [row] = await crm_writes(live_app)
    assert row["status"] == "pending" and row["attempts"] == 1  # retried later: the outcome was unknown
    await due_now(live_app, rep)
    await settled(live_app)
    assert len(hubspot.notes) == 1 and len(hubspot.tasks) == 1
    searched = [c for c in hubspot.to("POST", "/crm/v3/objects/notes/search")]
    assert searched and searched[0].body["filterGroups"][0]["filters"][0]["operator"] == "CONTAINS_TOKEN"


async def test_a_revoked_token_marks_the_connection_broken_and_tells_the_admin(
    live_app: LiveApp, hubspot: FakeHubSpot, rep: Person, admin: Person, acme: dict[str, str]
) -> None:
    hubspot.revoke("pat-test")
    await file(live_app, rep, account="Acme")
    async with live_app.coach.db() as session:
        conn = await crm.connection_of(session=session, workspace_id=rep.workspace_id)
        [status] = await crm.status_by_workspace(session=session)
    assert conn is not None and conn.status == CrmStatus.BROKEN and "refused" in (conn.reason or "")
    assert status.pending == 1 and status.failed == 0  # waits for a reconnect, visibly
    assert admin.id is not None
    async with live_app.coach.db() as session, session.begin():  # what the admin's web chat shows
        notices = await take_unseen(session=session, person_id=admin.id, limit=10, now=live_app.coach.clock())
    assert any("HubSpot connection stopped working" in str(n) for n in notices)
    assert not hubspot.notes
