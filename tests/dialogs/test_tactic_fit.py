"""Tactics that fit: the situation read from the last debrief and the invite, and the two tactics
picked for it from the real library, in both languages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from dialogs.tactic_fit import choose_tactics, demand_tags, fits_of, situation
from dialogs.text import default_texts
from storage.meetings import MeetingView
from storage.models import Debrief, Meeting
from storage.planning_models import MeetingInvite

START = datetime(2026, 12, 3, 13, 0, tzinfo=UTC)


def view(*, minutes: int = 60, invite: MeetingInvite | None = None) -> MeetingView:
    meeting = Meeting(id=7, workspace_id=1, person_id=1, account_id=1, starts_at=START,
                      ends_at=START + timedelta(minutes=minutes), external_uid="x")
    return MeetingView(meeting, "Acme", invite)


def debrief(**fields: object) -> Debrief:
    values: dict[str, object] = {"outcome": "next_step", "agenda_set_by": "rep_informal",
                                 "supplier_check": "cannot_solve"}
    values.update(fields)
    return Debrief(workspace_id=1, person_id=1, account_id=1, idempotency_key="k", **values)


GOOD = {"opening": "yes", "interaction": "yes", "situation": "yes", "concessions": "yes", "next_step": "yes"}


def tags_of(locale: str = "en", *, last: Debrief | None, ratings: dict[str, str] | None = None,
            meeting: MeetingView | None = None) -> frozenset[str]:
    words = default_texts().data(locale, "tactic_signals")
    return situation(view=meeting or view(), last=last, ratings=ratings or GOOD, demand_words=words)


def pick(locale: str, tags: frozenset[str]) -> list[str]:
    library = default_texts().data(locale, "tactics")
    return choose_tactics(list(library), [], fits=fits_of(library), tags=tags)


@pytest.mark.parametrize(
    ("locale", "asked", "expected"),
    [
        ("en", "We pay at most 60 days", {"demand_on_price"}),
        ("en", "10% discount on the licence", {"demand_on_price"}),
        ("en", "All suppliers sign our framework agreement first", {"demand_on_process"}),
        ("en", "Something vague", {"demand_on_price", "demand_on_process"}),
        ("nl", "Wij betalen maximaal na 60 dagen", {"demand_on_price"}),
        ("nl", "Alle leveranciers tekenen eerst onze raamovereenkomst", {"demand_on_process"}),
        ("nl", "Iets vaags", {"demand_on_price", "demand_on_process"}),
    ],
)
def test_a_demand_is_told_apart_by_its_words(locale: str, asked: str, expected: set[str]) -> None:
    assert demand_tags(asked, default_texts().data(locale, "tactic_signals")) == expected


def test_the_situation_comes_from_the_invite_and_the_last_debrief() -> None:
    assert tags_of(last=None) == {"why_now_unknown"}  # a first meeting
    customer_invite = MeetingInvite(meeting_id=7, organiser_external=True, formal_agenda=True)
    assert tags_of(last=None, meeting=view(minutes=30, invite=customer_invite)) == {
        "why_now_unknown", "agenda_by_mail", "customer_organised", "short_slot"}
    assert tags_of(last=debrief()) == frozenset()  # a good meeting leaves nothing to counter
    assert tags_of(last=debrief(agenda_set_by="customer_formal"), ratings={**GOOD, "opening": "no"}) == {
        "agenda_by_mail", "pitch_first"}
    assert tags_of(last=debrief(), ratings={**GOOD, "interaction": "no"}) == {"few_questions", "pitch_first"}
    assert tags_of(last=debrief(customer_questions="Price?"), ratings={**GOOD, "interaction": "partly"}) == {
        "few_questions"}
    assert tags_of(last=debrief(supplier_check="could_solve")) == {"supplier_could_solve"}
    assert tags_of(last=debrief(supplier_check="not_asked")) == {"history_unknown"}
    assert tags_of(last=debrief(outcome="postponed")) == {"why_now_unknown", "no_next_step"}
    assert tags_of(last=debrief(), ratings={**GOOD, "next_step": "no"}) == {"no_next_step"}


@pytest.mark.parametrize("locale", ["en", "nl"])
def test_the_two_tactics_answer_different_parts_of_the_situation(locale: str) -> None:
    # formal agenda by mail and a price demand: one tactic for each, not two for the agenda
    last = debrief(agenda_set_by="customer_formal", concessions_asked="€ 80 per hour")
    formal_price = tags_of(locale, last=last)
    assert formal_price == {"agenda_by_mail", "demand_on_price"}
    chosen = pick(locale, formal_price)
    assert "mirror_the_question" in chosen and chosen[0] in ("add_one_point", "reorder_the_agenda")
    # their supplier could solve it: why now, and what they tried
    assert set(pick(locale, tags_of(locale, last=debrief(supplier_check="could_solve")))) == {
        "ask_why_now", "earlier_attempts"}
    # a short slot after a postponement: a time agreement comes first
    short = tags_of(locale, last=debrief(outcome="postponed"), meeting=view(minutes=30))
    assert pick(locale, short)[0] == "time_check"
    # the same situation, the same two (no hash, no randomness)
    assert pick(locale, short) == pick(locale, short)
