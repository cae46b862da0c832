"""The coaching rules (prompts/coaching_rules.yaml): each fires on the debrief it is for and not on
one it is not for, in both languages, with the rep's own words in the tip; the method's order;
at most two tips; habit drills over the rep's last debriefs."""

from __future__ import annotations

from typing import Any

import pytest

from dialogs.checklist import POINTS
from dialogs.context import CoachContext
from dialogs.debrief import Rep, coaching, load_rep, submit_debrief
from dialogs.messages import Reply
from dialogs.text import Text, format_when
from dialogs.validation import CleanDebrief, Locality, validate_form
from storage.models import Person
from tests.factories import full_form, make_person

# A debrief where everything went well and nothing a rule looks at was said.
CALM: dict[str, Any] = {
    **{f"rating:{p}": "yes" for p in POINTS},
    "agenda_set_by": "rep_informal", "note:opening": None, "customer_tried": None,
    "supplier_check": "cannot_solve", "concessions_asked": None,
}


def clean(coach: CoachContext, locale: str, **overrides: Any) -> CleanDebrief:
    loc = Locality(locale=locale, timezone="Europe/Amsterdam", now=coach.clock())
    debrief, errors = validate_form(full_form(**(CALM | overrides)), texts=coach.texts, loc=loc)
    assert not errors and debrief is not None, errors
    return debrief


async def rep_for(coach: CoachContext, person: Person) -> Rep:
    assert person.id is not None
    async with coach.db() as session:
        return await load_rep(session=session, ctx=coach, person_id=person.id)


def user_words(reply: Reply) -> list[str]:
    """The spans of the tips that are the rep's own text (escaped by each channel)."""
    out = []
    for item in reply.items:
        assert isinstance(item, Text)
        out += [item[start:end] for start, end in item.user]
    return out


DEMAND = "We pay at most 30 days"
NOTHING_BEFORE = "I hadn't asked anything beforehand"
# (rule, what makes it fire, what the tip quotes of it, a near miss that must not fire it)
CASES: list[tuple[str, dict[str, Any], list[str], dict[str, Any]]] = [
    ("opening_formal_agenda_with_demand",
     {"rating:opening": "no", "agenda_set_by": "customer_formal", "concessions_asked": DEMAND},
     [DEMAND],
     {"rating:opening": "no", "agenda_set_by": "rep_informal", "concessions_asked": DEMAND}),
    ("opening_formal_agenda",
     {"rating:opening": "partly", "agenda_set_by": "customer_formal",
      "note:opening": "They sent an agenda by mail, I just presented our deck"},
     ["They sent an agenda by mail, I just presented our deck"],
     {"rating:opening": "yes", "agenda_set_by": "customer_formal",
      "note:opening": "They sent an agenda by mail, I just presented our deck"}),
    ("opening_no_agenda",
     {"rating:opening": "no", "agenda_set_by": "nobody"}, [],
     {"rating:opening": "no", "agenda_set_by": None}),  # not answered: unknown, not "nobody"
    ("opening_noted",
     {"rating:opening": "partly", "agenda_set_by": None, "note:opening": NOTHING_BEFORE},
     [NOTHING_BEFORE],
     {"rating:opening": "partly", "agenda_set_by": None, "note:opening": None}),
    ("situation_supplier_could_solve",
     {"supplier_check": "could_solve"}, [],
     {"supplier_check": None}),
    ("situation_postponed",
     {"rating:situation": "partly", "outcome": "postponed", "customer_tried": "a new planning tool"},
     ["a new planning tool"],
     {"rating:situation": "yes", "outcome": "postponed", "customer_tried": "a new planning tool"}),
    ("situation_tried",
     {"rating:situation": "partly", "customer_tried": "They tried a new planning tool"},
     ["They tried a new planning tool"],
     {"rating:situation": "partly", "customer_tried": "nothing"}),  # "nothing" is no attempt to ask about
    ("situation_supplier_not_asked",
     {"rating:situation": "no", "supplier_check": "not_asked"}, [],
     {"rating:situation": "no", "supplier_check": None}),
    ("interaction_questions_unanswered",
     {"rating:interaction": "partly", "customer_questions": "Can you link to SAP?", "answers_given": None},
     ["Can you link to SAP?"],
     {"rating:interaction": "partly", "customer_questions": "Can you link to SAP?", "answers_given": "Yes"}),
    ("interaction_no_questions",
     {"rating:interaction": "no", "customer_questions": "none", "answers_given": None}, [],
     {"rating:interaction": "no", "customer_questions": None, "answers_given": None}),
    ("concessions_nothing_back",
     {"rating:concessions": "no", "concessions_given": "I said 60 days payment is fine",
      "concessions_got": None},
     ["I said 60 days payment is fine"],
     # rated well and nothing said about a return: unknown, so no evidence of a gift
     {"rating:concessions": "yes", "concessions_given": "I said 60 days payment is fine",
      "concessions_got": None}),
    ("next_step_without_date",
     {"rating:next_step": "partly", "next_step_what": "Send a proposal", "next_step_due": None,
      "next_meeting_at": None},
     ["Send a proposal"],
     {"rating:next_step": "partly", "next_step_what": "Send a proposal", "next_meeting_at": None}),
]


@pytest.mark.parametrize("locale", ["en", "nl"])
@pytest.mark.parametrize(("rule", "fires", "quoted", "near_miss"), CASES, ids=[c[0] for c in CASES])
async def test_each_rule_fires_on_its_debrief_and_quotes_the_rep(
    coach, db, locale: str, rule: str, fires: dict[str, Any], quoted: list[str], near_miss: dict[str, Any]
) -> None:
    rep = await rep_for(coach, await make_person(db, locale=locale))
    reply = coaching(ctx=coach, rep=rep, debrief=clean(coach, locale, **fires))
    assert rule in reply.meta["rules"]
    words = user_words(reply)
    for typed in quoted:
        assert typed in words, (typed, reply.items)  # the rep's own words, as user text
    assert quoted or "Acme" in words  # else the account the rep typed is named
    assert not any("{{" in item or "{%" in item for item in reply.items)
    missed = coaching(ctx=coach, rep=rep, debrief=clean(coach, locale, **near_miss))
    assert rule not in missed.meta["rules"]


@pytest.mark.parametrize("locale", ["en", "nl"])
async def test_a_formal_agenda_names_the_two_counter_tactics_for_the_situation(coach, db, locale) -> None:
    rep = await rep_for(coach, await make_person(db, locale=locale))
    texts = coach.texts
    by_mail = coaching(ctx=coach, rep=rep, debrief=clean(
        coach, locale, **{"rating:opening": "no", "agenda_set_by": "customer_formal"}))
    with_demand = coaching(ctx=coach, rep=rep, debrief=clean(
        coach, locale, **{"rating:opening": "no", "agenda_set_by": "customer_formal",
                          "concessions_asked": "All suppliers sign our framework first"}))
    library = texts.data(locale, "tactics")
    named = []
    demand = {"demand_on_price", "demand_on_process"}
    for reply, answered in ((by_mail, {"agenda_by_mail"}), (with_demand, demand)):
        name = {key: texts.render(locale, "tactics", f"{key}.name") for key in library}
        tip = reply.items[0]
        tactics = sorted((k for k in library if name[k] in tip), key=lambda k: tip.index(name[k]))
        assert len(tactics) == 2, tip
        # picked by fit: one answers what the customer did (the mailed agenda, the demand), and
        # each fits something this debrief says
        assert any(answered & set(library[k]["fits"]) for k in tactics), tactics
        assert all(set(library[k]["fits"]) & {"agenda_by_mail", "pitch_first", *demand} for k in tactics)
        # the line to say is the first tactic's own
        assert texts.render(locale, "tactics", f"{tactics[0]}.say") in reply.items[1]
        named.append(tactics)
    assert named[0] != named[1]  # a demand on top of the agenda changes the pick


@pytest.mark.parametrize("locale", ["en", "nl"])
async def test_nothing_back_names_the_next_meeting_when_it_is_known(coach, db, locale) -> None:
    rep = await rep_for(coach, await make_person(db, locale=locale))
    gift = {"rating:concessions": "yes", "concessions_given": "60 days payment", "concessions_got": "nothing"}
    when = {"en": "next Tuesday 2pm", "nl": "volgende week dinsdag 14:00"}[locale]
    debrief = clean(coach, locale, **gift, next_meeting_at=when)
    reply = coaching(ctx=coach, rep=rep, debrief=debrief)
    assert reply.meta["rules"] == ["concessions_nothing_back"]  # "nothing" typed: evidence on its own
    meeting = format_when(debrief.fields["next_meeting_at"], locale=locale, tz="Europe/Amsterdam")
    assert meeting in reply.items[0] and "60 days payment" in reply.items[0]
    without = coaching(ctx=coach, rep=rep, debrief=clean(coach, locale, **gift, next_meeting_at=None))
    assert meeting not in without.items[0]


@pytest.mark.parametrize("locale", ["en", "nl"])
async def test_a_weak_opening_is_always_addressed_first(coach, db, locale) -> None:
    rep = await rep_for(coach, await make_person(db, locale=locale))
    debrief = clean(coach, locale, **{
        "rating:opening": "partly", "rating:situation": "no", "supplier_check": "could_solve",
        "rating:concessions": "no", "concessions_given": "A 10% discount", "concessions_got": None,
        "rating:next_step": "no", "rating:interaction": "no",
    })
    reply = coaching(ctx=coach, rep=rep, debrief=debrief)
    assert reply.meta["points"] == ["opening", "situation"]  # two at most; the opening first
    assert reply.meta["rules"] == ["opening_plain", "situation_supplier_could_solve"]
    assert len(reply.items) == 4


@pytest.mark.parametrize("locale", ["en", "nl"])
async def test_the_second_tip_only_when_it_adds_something(coach, db, locale) -> None:
    rep = await rep_for(coach, await make_person(db, locale=locale))
    # two points half weak, nothing said about either: one plain tip, not two
    half = coaching(ctx=coach, rep=rep, debrief=clean(
        coach, locale, **{"rating:opening": "partly", "rating:interaction": "partly"}))
    assert half.meta["points"] == ["opening"]
    # what the rep said about a half-weak point is worth a second tip
    said = coaching(ctx=coach, rep=rep, debrief=clean(
        coach, locale, **{"rating:opening": "partly", "rating:situation": "partly",
                          "customer_tried": "An Excel sheet"}))
    assert said.meta["rules"] == ["opening_plain", "situation_tried"]
    # a postponement tip already answers the next step: no second tip about it
    postponed = coaching(ctx=coach, rep=rep, debrief=clean(
        coach, locale, **{"rating:situation": "no", "outcome": "postponed", "rating:next_step": "no"}))
    assert postponed.meta["rules"] == ["situation_postponed"]


@pytest.mark.parametrize("locale", ["en", "nl"])
async def test_praise_when_nothing_is_weak_and_no_rule_fires(coach, db, locale) -> None:
    rep = await rep_for(coach, await make_person(db, locale=locale))
    reply = coaching(ctx=coach, rep=rep, debrief=clean(coach, locale))
    assert reply.items == (coach.texts.praise(locale, account="Acme"),)
    assert reply.meta["points"] == []


@pytest.mark.parametrize("locale", ["en", "nl"])
async def test_long_words_are_quoted_on_one_line_and_shortened(coach, db, locale) -> None:
    rep = await rep_for(coach, await make_person(db, locale=locale))
    typed = "“They tried\na new planning tool, " + "and then a second one, " * 10 + "and gave up.”"
    reply = coaching(ctx=coach, rep=rep, debrief=clean(
        coach, locale, **{"rating:situation": "partly", "customer_tried": typed}))
    (quote,) = [w for w in user_words(reply) if w.startswith("They tried")]
    assert "\n" not in quote and "“" not in quote and quote.endswith("…") and len(quote) <= 90


# -- habits: patterns over the rep's last debriefs ------------------------------------------------
async def file(coach: CoachContext, person: Person, key: str, **overrides: Any) -> Reply:
    assert person.id is not None
    result = await submit_debrief(ctx=coach, person_id=person.id, idempotency_key=key,
                                  debrief=clean(coach, person.locale or "en", **overrides))
    coach.clock.advance(days=1)  # type: ignore[attr-defined]
    return result.replies[1]


FORMAL = {"rating:opening": "no", "agenda_set_by": "customer_formal"}


@pytest.mark.parametrize(("locale", "line"), [("en", "In 3 of your last 3 meetings"),
                                              ("nl", "In 3 van je laatste 3 afspraken")])
async def test_three_formal_agendas_make_a_drill_instead_of_the_one_off_tip(coach, db, locale, line) -> None:
    person = await make_person(db, locale=locale)
    other = await make_person(db, user_id="U2", locale=locale)
    for i in range(3):  # another rep's debriefs never count
        await file(coach, other, f"other{i}", **FORMAL)
    assert (await file(coach, person, "a", **FORMAL)).meta["rules"][0] == "opening_formal_agenda"
    assert (await file(coach, person, "b", **FORMAL)).meta["rules"][0] == "opening_formal_agenda"
    drill = await file(coach, person, "c", **FORMAL)
    assert drill.meta["rules"][0] == "opening_formal_agenda_habit"
    assert line in drill.items[0]
    # this time the rep set the agenda: no drill, whatever the history says
    calm = await file(coach, person, "d")
    assert "opening_formal_agenda_habit" not in calm.meta["rules"]


async def test_the_drill_counts_the_last_five_only_and_unknown_answers_not_at_all(coach, db) -> None:
    person = await make_person(db)
    await file(coach, person, "old1", **FORMAL)
    await file(coach, person, "old2", **FORMAL)
    for i in range(3):  # the agenda question not answered: unknown, not evidence either way
        await file(coach, person, f"unknown{i}", **{"rating:opening": "no", "agenda_set_by": None})
    # this one and the four before it (three unknown, old2): 2 formal agendas; old1 is out
    reply = await file(coach, person, "now", **FORMAL)
    assert reply.meta["rules"][0] == "opening_formal_agenda"
    reply = await file(coach, person, "next", **FORMAL)  # next, now and three unknown: 2 of 5
    assert reply.meta["rules"][0] == "opening_formal_agenda"
    reply = await file(coach, person, "third", **FORMAL)  # third, next, now: 3 of the last 5
    assert reply.meta["rules"][0] == "opening_formal_agenda_habit"
    assert "In 3 of your last 5 meetings" in reply.items[0]


@pytest.mark.parametrize("locale", ["en", "nl"])
async def test_a_concession_habit_quotes_this_time(coach, db, locale) -> None:
    person = await make_person(db, locale=locale)
    gift = {"rating:concessions": "no", "concessions_got": None}
    await file(coach, person, "a", **gift, concessions_given="Free training")
    await file(coach, person, "b", **gift, concessions_given="Free shipping")
    drill = await file(coach, person, "c", **gift, concessions_given="60 days payment")
    assert drill.meta["rules"] == ["concessions_nothing_back_habit"]
    assert "60 days payment" in user_words(drill)
