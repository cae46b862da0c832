"""The recap for the customer after a debrief with a next step: offered only then, in the rep's
language, with what was discussed and who does what by when; as text and as a mailto: link."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

from dialogs.context import CoachContext
from dialogs.customer_recap import MAILTO_LIMIT, mailto
from dialogs.debrief import submit_debrief
from dialogs.messages import Reply
from dialogs.text import format_day, format_when
from dialogs.validation import CleanDebrief, Locality, validate_form
from tests.factories import full_form, make_person


def clean(coach: CoachContext, locale: str, **overrides: Any) -> CleanDebrief:
    loc = Locality(locale=locale, timezone="Europe/Amsterdam", now=coach.clock())
    debrief, errors = validate_form(full_form(**overrides), texts=coach.texts, loc=loc)
    assert not errors and debrief is not None, errors
    return debrief


async def replies(coach: CoachContext, db, locale: str = "en", **overrides: Any) -> list[Reply]:
    person = await make_person(db, locale=locale, name="Sanne de Vries")
    assert person.id is not None
    result = await submit_debrief(ctx=coach, person_id=person.id, idempotency_key="k",
                                  debrief=clean(coach, locale, **overrides))
    return result.replies


@pytest.mark.parametrize(
    ("overrides", "offered"),
    [
        ({"outcome": "next_step"}, True),
        ({"outcome": "closed"}, True),  # closed, with a next step written down
        ({"outcome": "closed", "next_step_what": None}, False),
        ({"outcome": "postponed"}, False),
        ({"outcome": "lost"}, False),
    ],
)
async def test_offered_after_a_debrief_with_a_next_step_only(coach, db, overrides, offered) -> None:
    kinds = [r.kind for r in await replies(coach, db, **overrides)]
    assert ("recap" in kinds) is offered
    assert kinds[-1] == "info"  # what happens next still comes last


@pytest.mark.parametrize("locale", ["en", "nl"])
async def test_the_draft_says_what_was_discussed_and_who_does_what_by_when(coach, db, locale) -> None:
    debrief = clean(coach, locale)
    (recap,) = [r for r in await replies(coach, db, locale) if r.kind == "recap"]
    t = coach.texts
    assert recap.title == t.render(locale, "customer_recap", "title", account="Acme")
    lines = recap.text.splitlines()
    f = debrief.fields
    for key, field in (("questions", "customer_questions"), ("answers", "answers_given"),
                       ("next_step", "next_step_what"), ("who", "next_step_who")):
        assert t.render(locale, "customer_recap", key, text=f[field]) in lines
    assert t.render(locale, "customer_recap", "due",
                    day=format_day(f["next_step_due"], locale=locale)) in lines
    assert t.render(locale, "customer_recap", "meeting", when=format_when(
        f["next_meeting_at"], locale=locale, tz="Europe/Amsterdam")) in lines
    assert lines[0] == t.render(locale, "customer_recap", "greeting")
    assert lines[-1] == "Sanne de Vries"
    # what the rep typed is user text (escaped by each channel); the rest is the bot's
    typed = {recap.text[a:b] for a, b in recap.text.user}  # type: ignore[attr-defined]
    assert {f["customer_questions"], f["next_step_what"], "Sanne de Vries"} <= typed


@pytest.mark.parametrize("locale", ["en", "nl"])
async def test_the_mail_link_carries_the_draft_encoded(coach, db, locale) -> None:
    (recap,) = [r for r in await replies(coach, db, locale, customer_questions="Price & <terms>?")
                if r.kind == "recap"]
    (button,) = recap.buttons
    assert button.label == coach.texts.render(locale, "customer_recap", "button_mail")
    url = button.url
    assert url is not None and url.startswith("mailto:?")
    assert "<" not in url and " " not in url and "\n" not in url  # nothing a client could misread
    query = parse_qs(urlsplit(url).query)
    assert query["subject"] == [coach.texts.render(locale, "customer_recap", "subject")]
    assert query["body"] == [recap.text.replace("\n", "\r\n")]  # line breaks as mail wants them


def test_a_long_draft_is_cut_to_fit_the_link() -> None:
    body = "Zoë's questions:\n" + "ä & ü " * 1000
    url = mailto("Subject", body)
    assert len(url) <= MAILTO_LIMIT
    shown = unquote(url.split("&body=", 1)[1])
    assert shown.endswith("…") and body.replace("\n", "\r\n").startswith(shown[:-1])
    assert mailto("Subject", "short") == "mailto:?subject=Subject&body=short"
