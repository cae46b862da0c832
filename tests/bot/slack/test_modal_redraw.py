"""The debrief modal over real HTTP: ratings first, each choice redraws it (block_actions ->
views.update against the fake Web API) with only the details that apply, nothing typed is lost,
races on the view hash are handled, and a submission stores only what applies."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
import sqlalchemy as sa
from slack_sdk.models.views import View

from dialogs.debrief import stored_values
from storage.debriefs import get_debrief
from storage.models import Debrief
from tests.bot.slack.conftest import (
    SlackClient,
    answers,
    fill_in,
    open_modal,
    opened,
    redrawn,
    settle,
)
from tests.conftest import LiveApp
from tests.fakes.slack_api import FakeSlackApi, default_user


def inputs(view: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {b["block_id"]: b for b in view["blocks"] if b["type"] == "input"}


def typed(view: dict[str, Any], block_id: str) -> Any:
    """What an input of the drawn view starts with: its initial value, option, date or time."""
    element = inputs(view)[block_id]["element"]
    for key in ("initial_value", "initial_date", "initial_time"):
        if key in element:
            return element[key]
    return (element.get("initial_option") or {}).get("value")


async def stored(live_app: LiveApp) -> dict[str, Any]:
    async with live_app.coach.db() as session:
        row = (await session.scalars(sa.select(Debrief))).one()
        assert row.id is not None
        return stored_values(await get_debrief(session=session, debrief_id=row.id, person_id=row.person_id))


async def test_a_rating_shows_its_details_and_keeps_what_was_typed(
    slack: SlackClient, slack_api: FakeSlackApi
) -> None:
    view = await open_modal(slack, slack_api, "Acme")
    form: dict[str, Any] = {"rating:opening": "no"}
    view = await redrawn(slack, slack_api, view, form, "rating:opening")
    View(**view).validate_json()
    shown = list(inputs(view))
    assert shown[:3] == ["rating:opening", "agenda_set_by", "note:opening"]
    assert "customer_questions" not in shown and "supplier_check" not in shown
    opened_hash = slack_api.to("views.open")[-1].answer["view"]["hash"]  # type: ignore[index]
    assert slack_api.to("views.update")[-1].params["hash"] == opened_hash  # the view clicked in

    form |= {"agenda_set_by": "customer_formal", "note:opening": "Their agenda, by mail.",
             "rating:interaction": "partly"}
    view = await redrawn(slack, slack_api, view, form, "rating:interaction")
    assert {"customer_questions", "answers_given"} <= set(inputs(view))
    assert typed(view, "note:opening") == "Their agenda, by mail."  # nothing typed is lost
    assert typed(view, "agenda_set_by") == "customer_formal"
    assert typed(view, "rating:opening") == "no"

    # Opening after all good: its note goes (kept aside), and comes back with the rating.
    form |= {"rating:opening": "yes"}
    view = await redrawn(slack, slack_api, view, form, "rating:opening")
    assert "note:opening" not in inputs(view) and "agenda_set_by" in inputs(view)
    form |= {"rating:opening": "partly"}
    view = await redrawn(slack, slack_api, view, form, "rating:opening")
    assert typed(view, "note:opening") == "Their agenda, by mail."


async def test_the_outcome_answers_the_next_step_and_decides_the_meeting(
    slack: SlackClient, slack_api: FakeSlackApi
) -> None:
    view = await open_modal(slack, slack_api, "Acme")
    form: dict[str, Any] = {"outcome": "closed"}
    view = await redrawn(slack, slack_api, view, form, "outcome")
    shown = list(inputs(view))
    assert "rating:next_step" not in shown  # a closed deal is a concrete next step
    assert {"next_step_what", "next_meeting_at", "next_meeting_time"} <= set(shown)
    form |= {"outcome": "lost", "next_step_what": "Nothing"}
    view = await redrawn(slack, slack_api, view, form, "outcome")
    shown = list(inputs(view))
    assert "rating:next_step" in shown and "next_meeting_at" not in shown and "next_step_what" not in shown
    form |= {"rating:next_step": "partly", "outcome": "postponed"}
    view = await redrawn(slack, slack_api, view, form, "rating:next_step")
    assert typed(view, "next_step_what") == "Nothing"  # kept aside while hidden
    assert "next_step_due" in inputs(view)  # a vague step without a meeting: by when?


async def test_none_asked_concessions_ask_nothing_more(slack: SlackClient, slack_api: FakeSlackApi) -> None:
    view = await open_modal(slack, slack_api, "Acme")
    before = set(inputs(view))
    view = await redrawn(slack, slack_api, view, {"rating:concessions": "none"}, "rating:concessions")
    assert set(inputs(view)) == before
    view = await redrawn(slack, slack_api, view, {"rating:concessions": "no"}, "rating:concessions")
    assert {"concessions_asked", "concessions_given"} <= set(inputs(view))


async def test_two_quick_choices_on_one_stale_hash_both_show(
    slack: SlackClient, slack_api: FakeSlackApi, live_app: LiveApp
) -> None:
    """The rep clicks two ratings before the first redraw arrives: both events carry the opened
    view's hash. The later one holds both choices and is drawn on the first redraw's hash."""
    view = await open_modal(slack, slack_api, "Acme")
    first = {"rating:opening": "no"}
    both = {**first, "rating:interaction": "yes"}
    assert await slack.choose(view, first, "rating:opening", action_ts="1000.1") == 200
    await settle(live_app)
    assert await slack.choose(view, both, "rating:interaction", action_ts="1000.2") == 200
    await settle(live_app)
    updates = slack_api.to("views.update")
    assert len(updates) == 2 and updates[1].params["hash"] == opened(updates[0])["hash"]
    final = opened(updates[-1])
    assert {"agenda_set_by", "note:opening", "customer_questions"} <= set(inputs(final))

    # A choice older than the one drawn, arriving late, is not drawn over it.
    assert await slack.choose(view, first, "rating:opening", action_ts="1000.0") == 200
    await settle(live_app)
    assert len(slack_api.to("views.update", ok_only=False)) == 2


async def test_a_view_redrawn_elsewhere_is_not_overwritten(
    slack: SlackClient, slack_api: FakeSlackApi, live_app: LiveApp, caplog: pytest.LogCaptureFixture
) -> None:
    """Another replica redrew the view since the rep clicked: Slack refuses the stale hash, and
    the newer drawing stands (no retry without a hash)."""
    view = await open_modal(slack, slack_api, "Acme")
    slack_api.view_hashes[view["id"]] = "99.hash"  # drawn again by someone else
    with caplog.at_level(logging.INFO, logger="coach.slack"):
        assert await slack.choose(view, {"rating:opening": "no"}, "rating:opening") == 200
        await settle(live_app)
    tried = slack_api.to("views.update", ok_only=False)
    assert [c.error for c in tried] == ["hash_conflict"]
    assert slack_api.view_hashes[view["id"]] == "99.hash"
    assert any("hash_conflict" in r.getMessage() for r in caplog.records)


async def test_a_hidden_fields_leftover_value_is_not_stored(
    slack: SlackClient, slack_api: FakeSlackApi, live_app: LiveApp
) -> None:
    """The view was drawn for a weak opening and concessions given; the rep then chose "yes" and
    "none asked", and submitted before a redraw came back: what no longer applies is dropped."""
    form = answers(**{"rating:concessions": "no", "outcome": "postponed", "rating:next_step": "no",
                      "note:next_step": "They will call me."})
    view = await fill_in(slack, slack_api, await open_modal(slack, slack_api, "Acme"), form)
    assert {"note:opening", "concessions_given", "note:next_step"} <= set(inputs(view))
    changed = {**form, "rating:opening": "yes", "rating:concessions": "none", "outcome": "lost"}
    status, body = await slack.submit(view, changed, view_id=view["id"])
    assert (status, body) == (200, "")
    values = await stored(live_app)
    assert values["rating:opening"] == "yes" and values["agenda_set_by"] == "customer_formal"
    assert values["note:opening"] is None
    assert values["concessions_asked"] is None and values["concessions_given"] is None
    assert values["next_meeting_at"] is None  # the date left in the hidden picker of a lost deal
    assert values["note:next_step"] == "They will call me."  # what still applies is stored


async def test_edit_opens_with_the_stored_answers_and_their_details(
    slack: SlackClient, slack_api: FakeSlackApi, live_app: LiveApp
) -> None:
    form = answers(**{"rating:interaction": "partly"})
    view = await fill_in(slack, slack_api, await open_modal(slack, slack_api, "Acme"), form)
    await slack.submit(view, form)
    async with live_app.coach.db() as session:
        debrief_id = await session.scalar(sa.select(Debrief.id))
    status, _ = await slack.command("edit 1")
    assert status == 200
    edit = opened((await slack_api.wait_for("views.open", 2))[1])
    View(**edit).validate_json()
    assert json.loads(edit["private_metadata"])["edit_of"] == debrief_id
    shown = inputs(edit)
    assert typed(edit, "rating:opening") == "no" and typed(edit, "note:opening") == "Formal agenda by mail."
    assert typed(edit, "answers_given") == "Six weeks." and typed(edit, "customer_tried") == "A spreadsheet."
    assert "rating:next_step" not in shown  # the outcome (next step agreed) answers it
    assert typed(edit, "next_step_what") == "Pilot proposal" and typed(edit, "next_meeting_time") == "14:00"
    assert "concessions_asked" not in shown and "next_step_due" not in shown
    assert all(shown[k].get("dispatch_action") for k in shown if k.startswith("rating:") or k == "outcome")


async def test_a_redraw_speaks_the_reps_language(slack: SlackClient, slack_api: FakeSlackApi) -> None:
    slack_api.users["U111"] = {**default_user("U111"), "locale": "nl-NL"}
    view = await open_modal(slack, slack_api, "Acme")
    view = await redrawn(slack, slack_api, view, {"rating:opening": "no"}, "rating:opening")
    assert inputs(view)["agenda_set_by"]["label"]["text"] == "Wie bepaalde de agenda?"
    assert view["submit"]["text"] == "Opslaan"
    # Without the owner hint (a view opened before the person was cached) the signed user's
    # profile decides the language.
    meta = json.loads(view["private_metadata"])
    assert meta.pop("owner") is not None
    view = {**view, "private_metadata": json.dumps(meta)}
    view = await redrawn(slack, slack_api, view, {"rating:opening": "no", "rating:interaction": "yes"},
                         "rating:interaction")
    assert inputs(view)["customer_questions"]["label"]["text"].startswith("Welke")
