"""The coaching as the channels deliver it: habit drills from the outbox's batch of tips, the rep's
own words escaped per platform (never a mention or markup), the customer recap's mailto button."""

from __future__ import annotations

import json
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from bot.scheduling.scheduler import Scheduler, SchedulerConfig
from bot.slack.views import reply_blocks
from bot.teams.cards import replies_card
from dialogs.debrief import Rep, feedback, submit_debrief
from dialogs.validation import Locality, validate_form
from storage.models import Person
from tests.factories import full_form, make_person
from tests.fakes.chat_sink import RecordingSender

EVIL = "<@U123> <!channel> <b>bold</b> & *stars*"
FORMAL = {"rating:opening": "no", "agenda_set_by": "customer_formal", "concessions_asked": None}


async def filed(coach, person: Person, key: str, *, tips_later: bool = False, **form) -> None:
    assert person.id is not None
    loc = Locality(locale=person.locale or "en", timezone="Europe/Amsterdam", now=coach.clock())
    debrief, errors = validate_form(full_form(**form), texts=coach.texts, loc=loc)
    assert debrief is not None, errors
    await submit_debrief(ctx=coach, person_id=person.id, debrief=debrief, idempotency_key=key,
                         tips_later=tips_later)
    coach.clock.advance(hours=1)


async def test_the_outbox_batch_reads_each_reps_own_history(coach) -> None:
    habit = await make_person(coach.db, user_id="U1", locale="nl")
    fresh = await make_person(coach.db, user_id="U2")
    for i in range(2):
        await filed(coach, habit, f"h{i}", **FORMAL)
    await filed(coach, habit, "h-now", tips_later=True, **FORMAL)
    await filed(coach, fresh, "f-now", tips_later=True, **FORMAL)
    sender = RecordingSender()
    config = SchedulerConfig(backoff_base=timedelta(seconds=30), max_attempts=3)
    await Scheduler(ctx=coach, senders={"web": sender}, config=config).run_once()
    # each rep's tips once (their next meeting is close, so its preparation goes out too)
    with_tips = [(to, m) for to, m in sender.sent if any(r.kind == "tips" for r in m.replies)]
    assert sorted(to for to, _ in with_tips) == sorted([habit.id, fresh.id])
    tips = {to: next(r for r in message.replies if r.kind == "tips") for to, message in with_tips}
    assert tips[habit.id].meta["rules"][0] == "opening_formal_agenda_habit"
    assert "In 3 van je laatste 3 afspraken" in tips[habit.id].items[0]
    assert tips[fresh.id].meta["rules"][0] == "opening_formal_agenda"


def _feedback_with(coach, locale: str) -> list:
    loc = Locality(locale=locale, timezone="Europe/Amsterdam", now=coach.clock())
    form = full_form(**{"note:opening": EVIL, "rating:opening": "partly", "agenda_set_by": None,
                        "customer_questions": EVIL})
    debrief, errors = validate_form(form, texts=coach.texts, loc=loc)
    assert debrief is not None, errors
    rep = Rep(id=1, workspace_id=1, name=EVIL, locale=locale, timezone="Europe/Amsterdam", manager_name=None)
    return feedback(ctx=coach, rep=rep, debrief=debrief, saved_at=coach.clock())


@pytest.mark.parametrize("locale", ["en", "nl"])
def test_slack_blocks_quote_the_rep_escaped_and_carry_the_mail_link(coach, locale: str) -> None:
    replies = _feedback_with(coach, locale)
    assert replies[1].meta["rules"][0] == "opening_noted"
    blocks = reply_blocks(replies)
    shown = json.dumps(blocks, ensure_ascii=False)
    assert "<@U123>" not in shown and "<!channel>" not in shown and "<b>" not in shown
    assert "&lt;@U123&gt; &lt;!channel&gt; &lt;b&gt;bold&lt;/b&gt; &amp; *stars*" in shown
    (link,) = [e for b in blocks if b["type"] == "actions" for e in b["elements"] if "url" in e]
    assert link["action_id"].startswith("link:") and "value" not in link
    assert link["url"].startswith("mailto:?subject=") and len(link["url"]) <= 2000


@pytest.mark.parametrize("locale", ["en", "nl"])
def test_teams_card_quotes_the_rep_escaped_and_opens_the_mail_link(coach, locale: str) -> None:
    card = replies_card(_feedback_with(coach, locale))
    texts = json.dumps(card["body"], ensure_ascii=False)
    assert "<b>" not in texts and "<@U123>" not in texts
    assert "&lt;b&gt;bold&lt;/b&gt;" in texts and "\\\\*stars\\\\*" in texts
    (link,) = [a for a in card["actions"] if a["type"] == "Action.OpenUrl"]
    query = parse_qs(urlsplit(link["url"]).query)
    assert urlsplit(link["url"]).scheme == "mailto"
    assert EVIL in query["body"][0]  # the draft as typed: the mail program shows it as text
