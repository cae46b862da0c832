"""Cleaning and checking answers: whole forms, single fields, control characters, limits."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from dialogs.checklist import FIELDS_BY_KEY, NOTE_LIMIT, POINTS, weakest_points
from dialogs.text import default_texts, format_when
from dialogs.validation import (
    FieldError,
    Locality,
    clean_field,
    clean_text,
    combine_date_time,
    match_choice,
    validate_form,
)
from tests.factories import full_form

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
TEXTS = default_texts()


def loc(locale: str = "en", tz: str = "Europe/Amsterdam") -> Locality:
    return Locality(locale=locale, timezone=tz, now=NOW)


@pytest.mark.parametrize("locale", ["en", "nl"])
def test_a_complete_form_validates(locale: str) -> None:
    debrief, errors = validate_form(full_form(account="  Acme \t BV "), texts=TEXTS, loc=loc(locale))
    assert errors == {}
    assert debrief is not None
    assert debrief.account == "Acme BV"
    assert debrief.ratings == {
        "opening": "no",
        "interaction": "yes",
        "situation": "partly",
        "concessions": "yes",
        "next_step": "yes",
    }
    assert debrief.notes["opening"] == "They sent a formal agenda by mail."
    assert debrief.notes["interaction"] is None
    assert debrief.fields["next_step_due"] == date(2026, 12, 7)
    assert debrief.fields["next_meeting_at"] == datetime(2026, 12, 1, 13, 0, tzinfo=UTC)
    assert debrief.fields["outcome"] == "next_step"
    assert not any(k.startswith(("rating:", "note:")) for k in debrief.fields)


@pytest.mark.parametrize("locale", ["en", "nl"])
def test_every_error_at_once_keyed_by_field(locale: str) -> None:
    form = full_form(
        **{
            "account": " \x00 ",
            "rating:opening": None,
            "rating:situation": "maybe",
            "agenda_set_by": "the boss",
            "note:concessions": "n" * (NOTE_LIMIT + 1),
            "next_step_due": "qwerty",
            "next_meeting_at": "1 November 2026 10:00",
            "outcome": "",
        }
    )
    debrief, errors = validate_form(form, texts=TEXTS, loc=loc(locale))
    assert debrief is None
    assert set(errors) == {
        "account",
        "rating:opening",
        "rating:situation",
        "agenda_set_by",
        "note:concessions",
        "next_step_due",
        "next_meeting_at",
        "outcome",
    }
    m = TEXTS.message
    assert errors["account"] == m(locale, "account_empty")
    ratings = {"en": "Yes, Partly or No", "nl": "Ja, Deels of Nee"}[locale]  # a list as a person says it
    assert errors["rating:opening"] == errors["rating:situation"] == m(locale, "pick_one", choices=ratings)
    assert errors["note:concessions"] == m(locale, "too_long", length=2001, limit=2000)
    assert errors["next_step_due"] == m(locale, "bad_date", text="qwerty", example=m(locale, "date_example"))
    past = format_when(datetime(2026, 11, 1, 9, 0, tzinfo=UTC), locale=locale, tz="Europe/Amsterdam")
    assert errors["next_meeting_at"] == m(locale, "past_datetime", when=past)


def test_account_may_be_left_to_the_caller() -> None:
    debrief, errors = validate_form(full_form(account=""), texts=TEXTS, loc=loc(), account_required=False)
    assert errors == {} and debrief is not None and debrief.account == ""


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("plain", "plain"),
        ("  padded\t ", "padded"),
        ("a\x00b\x07c\x1bd\x7fe\x85f\x9fg", "abcdefg"),
        ("line\r\nnext\rthird", "line\nnext\nthird"),
        ("tab\tkept", "tab\tkept"),
        ("zero\u200bwidth\u200d joiner\ufeff", "zerowidth joiner"),
        ("bidi \u202eevil\u202c", "bidi evil"),
        ("émoji 👍 and ß", "émoji 👍 and ß"),
    ],
)
def test_clean_text(raw: str, clean: str) -> None:
    assert clean_text(raw) == clean


@pytest.mark.parametrize("locale", ["en", "nl"])
def test_notes_up_to_the_limit_pass_and_longer_are_refused_uncut(locale: str) -> None:
    f = FIELDS_BY_KEY["note:opening"]
    assert clean_field(f, "x" * NOTE_LIMIT, texts=TEXTS, loc=loc(locale)) == "x" * NOTE_LIMIT
    # control characters do not count towards the limit: they are gone before measuring
    assert clean_field(f, "x" * NOTE_LIMIT + "\x00\x00", texts=TEXTS, loc=loc(locale)) == "x" * NOTE_LIMIT
    with pytest.raises(FieldError) as err:
        clean_field(f, "x" * (NOTE_LIMIT + 1), texts=TEXTS, loc=loc(locale))
    assert err.value.field_key == "note:opening"
    assert "2000" in err.value.text and "2001" in err.value.text
    assert err.value.text == TEXTS.message(locale, "too_long", length=2001, limit=2000)


def test_every_text_field_has_the_limit() -> None:
    for key, f in FIELDS_BY_KEY.items():
        if f.kind == "text":
            with pytest.raises(FieldError):
                clean_field(f, "y" * (NOTE_LIMIT + 1), texts=TEXTS, loc=loc())
            assert key


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("customer_formal", "customer_formal"),
        ("1", "customer_formal"),
        ("The customer, formally", "customer_formal"),
        ("de klant,   FORMEEL", "customer_formal"),
        ("Ik, informeel", "rep_informal"),
        ("3", "nobody"),
        ("4", None),
        ("", None),
        ("customer", None),
    ],
)
def test_match_choice(typed: str, expected: str | None) -> None:
    assert match_choice(FIELDS_BY_KEY["agenda_set_by"], typed, texts=TEXTS) == expected


def test_optional_fields_may_be_empty_required_may_not() -> None:
    assert clean_field(FIELDS_BY_KEY["customer_questions"], "  ", texts=TEXTS, loc=loc()) is None
    assert clean_field(FIELDS_BY_KEY["next_meeting_at"], None, texts=TEXTS, loc=loc()) is None
    with pytest.raises(FieldError):
        clean_field(FIELDS_BY_KEY["outcome"], None, texts=TEXTS, loc=loc())


def test_aware_datetimes_and_dates_pass_through() -> None:
    moment = datetime(2026, 12, 2, 15, 0, tzinfo=UTC)
    assert clean_field(FIELDS_BY_KEY["next_meeting_at"], moment, texts=TEXTS, loc=loc()) == moment
    assert clean_field(FIELDS_BY_KEY["next_step_due"], date(2026, 12, 2), texts=TEXTS, loc=loc()) == date(
        2026, 12, 2
    )
    assert clean_field(FIELDS_BY_KEY["next_step_due"], "2026-12-24", texts=TEXTS, loc=loc()) == date(
        2026, 12, 24
    )


def test_date_and_time_pickers_combine_in_the_persons_zone_across_dst() -> None:
    assert combine_date_time("2027-03-26", "14:00", tz="Europe/Amsterdam") == datetime(
        2027, 3, 26, 13, 0, tzinfo=UTC
    )  # CET, +1
    assert combine_date_time("2027-03-29", "14:00:00", tz="Europe/Amsterdam") == datetime(
        2027, 3, 29, 12, 0, tzinfo=UTC
    )  # CEST, +2
    assert combine_date_time("2027-03-15", "14:00", tz="America/New_York") == datetime(
        2027, 3, 15, 18, 0, tzinfo=UTC
    )  # EDT, -4
    assert combine_date_time(None, "14:00", tz="Europe/Amsterdam") is None


def test_weakest_points_worst_first_in_checklist_order() -> None:
    assert weakest_points(dict.fromkeys(POINTS, "yes")) == []
    ratings = {
        "opening": "partly",
        "interaction": "no",
        "situation": "partly",
        "concessions": "no",
        "next_step": "yes",
    }
    assert weakest_points(ratings) == ["interaction", "concessions"]
    assert weakest_points(ratings, limit=4) == ["interaction", "concessions", "opening", "situation"]
    assert weakest_points({"next_step": "partly"}) == ["next_step"]
