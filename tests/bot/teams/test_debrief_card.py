"""`debrief Acme` in Teams: the Adaptive Card, its validation, the summary, the tips, idempotency."""

from __future__ import annotations

import json
from typing import Any

from tests.bot.teams.conftest import (
    Debrief,
    TeamsUser,
    count,
    fill_in,
    form_values,
    good_answers,
    person,
)


def inputs(card: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}

    def walk(items: list[dict[str, Any]]) -> None:
        for item in items:
            if item.get("type", "").startswith("Input."):
                found[item["id"]] = item
            walk(item.get("items", []))

    walk(card["body"])
    return found


def texts_of(card: dict[str, Any]) -> list[str]:
    out: list[str] = []

    def walk(items: list[dict[str, Any]]) -> None:
        for item in items:
            if item.get("type") == "TextBlock":
                out.append(item["text"])
            if item.get("type") == "FactSet":
                out.extend(f"{f['title']}: {f['value']}" for f in item["facts"])
            walk(item.get("items", []))

    walk(card["body"])
    return out


async def open_card(rep: TeamsUser, text: str = "debrief Acme") -> tuple[str, dict[str, Any]]:
    assert await rep.say(text) == 201
    sent = rep.connector.sent()
    assert len(sent) == 1
    card = sent[0].card
    assert card is not None
    activity_id = "activity-1"  # the fake connector's id for the first message it accepted
    rep.connector.clear()
    return activity_id, card


async def open_details(rep: TeamsUser, answers: dict[str, Any] | None = None,
                       text: str = "debrief Acme") -> tuple[str, dict[str, Any]]:
    """`debrief Acme`, the ratings and outcome answered: the card with their details."""
    card_id, card = await open_card(rep, text)
    return card_id, await fill_in(rep, card_id, card, answers or good_answers())


async def test_debrief_answers_with_a_valid_adaptive_card_1_5(rep: TeamsUser, card_schema: Any) -> None:
    _, card = await open_card(rep)
    errors = sorted(card_schema.iter_errors(card), key=str)
    assert errors == [], [e.message for e in errors]
    assert card["version"] == "1.5"
    fields = inputs(card)
    assert fields["account"]["value"] == "Acme"
    # The first card: the five ratings and the outcome (before point 5, which it can answer).
    assert list(fields) == ["account", "rating:opening", "rating:interaction", "rating:situation",
                            "rating:concessions", "outcome", "rating:next_step"]
    for point in ("opening", "interaction", "situation", "next_step"):
        rating = fields[f"rating:{point}"]
        assert rating["type"] == "Input.ChoiceSet"
        assert [c["value"] for c in rating["choices"]] == ["yes", "partly", "no"]
    assert [c["value"] for c in fields["rating:concessions"]["choices"]] == ["yes", "partly", "no", "none"]
    assert fields["rating:next_step"]["isRequired"] is False  # a closed deal answers it
    assert [c["value"] for c in fields["outcome"]["choices"]] == ["closed", "next_step", "postponed", "lost"]
    assert [a["type"] for a in card["actions"]] == ["Action.Submit"]
    assert card["actions"][0]["title"] == "Next"


async def test_next_shows_only_the_details_that_apply(rep: TeamsUser, card_schema: Any) -> None:
    _, card = await open_details(rep)
    assert list(card_schema.iter_errors(card)) == []
    fields = inputs(card)
    assert list(fields) == [
        "account", "rating:opening", "agenda_set_by", "note:opening",  # a weak opening: who, and a note
        "rating:interaction", "customer_questions",  # good interaction: the questions only
        "rating:situation", "customer_tried", "supplier_check",
        "rating:concessions",  # concessions fine: nothing more
        "outcome", "next_step_what", "next_meeting_at_date", "next_meeting_at_time",  # point 5 answered
    ]
    assert fields["rating:opening"]["value"] == "no" and fields["outcome"]["value"] == "next_step"
    assert card["actions"][0]["title"] == "Save debrief"
    assert await count(rep.live, Debrief) == 0  # nothing stored before Save
    assert not any("For your next meeting" in c.shown for c in rep.connector.sent())


async def test_card_speaks_the_language_of_the_teams_client(rep: TeamsUser, card_schema: Any) -> None:
    rep.locale = "nl-NL"
    _, card = await open_card(rep, "debrief Bakkerij Jansen")
    assert list(card_schema.iter_errors(card)) == []
    assert inputs(card)["rating:opening"]["choices"][0]["title"] == "Ja"
    assert any("Debrief van je klantgesprek" in t for t in texts_of(card))


async def test_submit_with_errors_comes_back_on_the_same_card(rep: TeamsUser, card_schema: Any) -> None:
    card_id, card = await open_details(rep)
    answers = good_answers()
    answers["rating:situation"] = ""  # required
    answers["next_meeting_at_time"] = ""  # a date without a time
    answers["account"] = "   "
    assert await rep.submit(card_id, form_values(card, **answers)) == 201

    updates = rep.connector.updates()
    assert len(updates) == 1 and updates[0].activity_id == card_id
    again = updates[0].card
    assert again is not None
    assert list(card_schema.iter_errors(again)) == []
    shown = texts_of(again)
    assert any("Pick one: Yes, Partly or No." in t for t in shown)  # the options as a list a person reads
    assert any("both a date and a time" in t for t in shown)
    assert any("customer's name" in t for t in shown)
    # What the rep already answered is kept on the card.
    assert inputs(again)["rating:opening"]["value"] == "no"
    assert inputs(again)["next_meeting_at_date"]["value"] == answers["next_meeting_at_date"]
    assert rep.connector.sent() == []
    assert await count(rep.live, Debrief) == 0


async def test_valid_submit_stores_once_shows_summary_and_tips(rep: TeamsUser, card_schema: Any) -> None:
    card_id, card = await open_details(rep)
    values = form_values(card, **good_answers())
    assert await rep.submit(card_id, values) == 201

    assert await count(rep.live, Debrief) == 1
    updates = rep.connector.updates()
    assert len(updates) == 1 and updates[0].activity_id == card_id
    summary = updates[0].card
    assert summary is not None
    assert list(card_schema.iter_errors(summary)) == []
    assert inputs(summary) == {} and "actions" not in summary  # read-only: nothing to send again
    assert any("Acme" in t for t in texts_of(summary))
    messages = [c.shown for c in rep.connector.sent()]
    assert len(messages) == 1  # saved, tips and what next: one message (one card), not three
    assert "For your next meeting" in messages[0]
    assert "Opening commitment" in messages[0]  # the tip aims at the weakest point

    # The same submit again (a double click, a Teams retry): still one debrief, no second coaching.
    rep.connector.clear()
    assert await rep.submit(card_id, values) == 201
    assert await count(rep.live, Debrief) == 1
    messages = [c.shown for c in rep.connector.sent()]
    assert len(messages) == 1 and "already saved" in messages[0]
    async with rep.http.get(f"{rep.live.url}/metrics") as resp:
        metrics = await resp.text()
    assert 'coach_debriefs_total{channel="teams",result="stored"} 1.0' in metrics
    assert 'coach_debriefs_total{channel="teams",result="repeat"} 1.0' in metrics


async def test_next_meeting_is_read_in_the_reps_timezone(rep: TeamsUser) -> None:
    rep.timezone = "America/Los_Angeles"
    card_id, card = await open_details(rep)
    answers = good_answers()
    assert await rep.submit(card_id, form_values(card, **answers)) == 201
    async with rep.live.coach.db() as session:
        import sqlalchemy as sa

        stored = await session.scalar(sa.select(Debrief))
    assert stored is not None and stored.next_meeting_at is not None
    assert stored.next_meeting_at.strftime("%H:%M") == "22:00"  # 14:00 in Los Angeles (PST) is 22:00 UTC
    who = await person(rep.live, rep.aad)
    assert who is not None and who.timezone == "America/Los_Angeles"


async def test_user_text_is_escaped_on_the_summary(rep: TeamsUser) -> None:
    card_id, card = await open_details(rep)
    answers = {**good_answers(), "account": "<at>Boss</at> **Acme**",
               "note:opening": "[click](https://evil.example)"}
    assert await rep.submit(card_id, form_values(card, **answers)) == 201
    summary = rep.connector.updates()[0].card
    assert summary is not None
    shown = "\n".join(texts_of(summary))
    assert "<at>" not in shown and "**Acme**" not in shown and "](https://" not in shown
    assert "&lt;at&gt;Boss&lt;/at&gt;" in shown


async def test_history_and_help_answer_as_messages(rep: TeamsUser) -> None:
    assert await rep.say("help") == 201
    assert "What I understand" in rep.connector.sent()[0].shown
    rep.connector.clear()
    assert await rep.say("history") == 201
    assert "No debriefs yet" in rep.connector.sent()[0].text + json.dumps(rep.connector.sent()[0].body)


async def test_a_card_teams_will_not_update_is_replaced_by_a_new_message(rep: TeamsUser) -> None:
    card_id, card = await open_details(rep)
    rep.connector.fail_next(404)  # the card's message is gone (deleted, too old)
    assert await rep.submit(card_id, form_values(card, **good_answers())) == 201
    assert await count(rep.live, Debrief) == 1
    sent = rep.connector.sent()
    assert sent[0].card is not None and "actions" not in sent[0].card  # the summary, as a new message
    assert len(sent) == 2 and "For your next meeting" in sent[1].shown


async def test_no_debriefs_in_a_team_channel(rep: TeamsUser) -> None:
    channel = rep.activity(text="debrief Acme")
    channel["conversation"] = {"conversationType": "channel", "isGroup": True, "tenantId": rep.activity()[
        "conversation"]["tenantId"], "id": "19:abc@thread.tacv2;messageid=1"}
    assert (await rep.post(channel)).status == 201
    sent = rep.connector.sent()
    assert len(sent) == 1 and sent[0].card is None and "personal chat" in sent[0].text
    history = rep.activity(text="history")
    history["conversation"] = channel["conversation"]
    assert (await rep.post(history)).status == 201
    assert "personal chat" in rep.connector.sent()[1].text
