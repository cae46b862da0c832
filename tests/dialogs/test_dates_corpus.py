"""A corpus of meeting times as reps write them, in Dutch (Netherlands and Flanders) and English,
each with the local moment it must mean, with "now" fixed on Thursday 22 October 2026 09:00 in
Amsterdam; a second block across the end of summer time; the phrases that must be refused; and the
`meeting`/`afspraak` command's split of the account name from the moment.

Decisions the rows pin down (see dialogs/dates.py): a weekday, also "next Friday" and "this Friday",
is the first such day after today; an hour from 1 to 6 without am/pm or a part of the day is in the
afternoon; numeric dates are day first, also in English, except in an America/* timezone; a bare
number is no time ("vrijdag 3" is refused); anything not read as a whole is refused.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from dialogs.checklist import FIELDS_BY_KEY
from dialogs.dates import parse_due_date, parse_meeting_time
from dialogs.debrief import Rep
from dialogs.meeting_commands import split_meeting
from dialogs.text import default_texts, format_when
from dialogs.validation import FieldError, Locality, clean_field

AMS, NYC = "Europe/Amsterdam", "America/New_York"
NOW = datetime(2026, 10, 22, 9, 0, tzinfo=ZoneInfo(AMS))  # Thursday
BEFORE_CET = datetime(2026, 10, 23, 9, 0, tzinfo=ZoneInfo(AMS))  # Friday; CEST -> CET on Sunday 25th


def local(month: int, day: int, hour: int, minute: int = 0, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, minute)


DUTCH = [
    ("donderdag om half drie", local(10, 29, 14, 30)),
    ("vrijdag om kwart over tien", local(10, 23, 10, 15)),
    ("woensdag 9 december, 10u30", local(12, 9, 10, 30)),
    ("vrijdagmiddag 3 uur", local(10, 23, 15)),
    ("over twee weken op maandag 11:00", local(11, 2, 11)),
    ("morgenmiddag om 2 uur", local(10, 23, 14)),
    ("morgen 10 uur", local(10, 23, 10)),
    ("morgen om 10:00", local(10, 23, 10)),
    ("vrijdag om kwart voor elf", local(10, 23, 10, 45)),
    ("maandag 10u30", local(10, 26, 10, 30)),
    ("di 14.00", local(10, 27, 14)),
    ("wo 9:30", local(10, 28, 9, 30)),
    ("do 11u", local(10, 29, 11)),
    ("vr 16:00", local(10, 23, 16)),
    ("ma. 8.45", local(10, 26, 8, 45)),
    ("volgende week dinsdag 14:00", local(10, 27, 14)),
    ("dinsdag volgende week om 14.00", local(10, 27, 14)),
    ("komende week woensdag om 3 uur", local(10, 28, 15)),
    ("aanstaande vrijdag 11:00", local(10, 23, 11)),
    ("volgende vrijdag om 10 uur", local(10, 23, 10)),
    ("overmorgen om 9 uur", local(10, 24, 9)),
    ("vandaag om 16:30", local(10, 22, 16, 30)),
    ("vandaag 's middags om 4 uur", local(10, 22, 16)),
    ("morgenochtend om 8 uur", local(10, 23, 8)),
    ("morgen 's ochtends om 6 uur", local(10, 23, 6)),
    ("dinsdagavond 8 uur", local(10, 27, 20)),
    ("maandagavond om 7 uur", local(10, 26, 19)),
    ("vrijdagnamiddag om 4u", local(10, 23, 16)),
    ("maandagvoormiddag 10u", local(10, 26, 10)),
    ("4 december om 14:00", local(12, 4, 14)),
    ("4 december 2026 9:30", local(12, 4, 9, 30)),
    ("vrijdag 4 december 14u", local(12, 4, 14)),
    ("4/12 om 14:00", local(12, 4, 14)),
    ("4-12-2026 om 10 uur", local(12, 4, 10)),
    ("04.12.2026 10:00", local(12, 4, 10)),
    ("2026-12-04 10:00", local(12, 4, 10)),
    ("over een week op vrijdag 10:00", local(10, 30, 10)),
    ("over 3 dagen om 11 uur", local(10, 25, 11)),
    ("over twee weken om 10 uur", local(11, 5, 10)),
    ("over twee weken op maandag om half tien", local(11, 2, 9, 30)),
    ("tien voor half drie op vrijdag", local(10, 23, 14, 20)),
    ("vijf over half elf morgen", local(10, 23, 10, 35)),
    ("kwart over twee maandag", local(10, 26, 14, 15)),
    ("half negen dinsdag", local(10, 27, 8, 30)),
    ("om half zes op vrijdag", local(10, 23, 17, 30)),
    ("12 uur 's middags vrijdag", local(10, 23, 12)),
    ("vrijdag 's middags om 1 uur", local(10, 23, 13)),
    ("zondagmorgen om 11 uur", local(10, 25, 11)),
    ("1 november 10:00", local(11, 1, 10)),
    ("3 januari 10:00", local(1, 3, 10, year=2027)),
    ("3 jan. 2027 om 9 uur", local(1, 3, 9, year=2027)),
    ("maandag 2 november 10:00", local(11, 2, 10)),
    ("morgen rond 3 uur", local(10, 23, 15)),
    ("woensdag om 13:00", local(10, 28, 13)),
    ("deze week vrijdag om 10 uur", local(10, 23, 10)),
    ("Vrijdag Om 10 Uur", local(10, 23, 10)),
    ("vrijdag om 10 uur 's avonds", local(10, 23, 22)),
    ("za 10:00", local(10, 24, 10)),
    ("zo 12:00", local(10, 25, 12)),
    ("morgen 9 uur 's ochtends", local(10, 23, 9)),
    ("vrijdag om 3 uur", local(10, 23, 15)),
    ("dinsdag om 14u30", local(10, 27, 14, 30)),
    ("2 november om kwart over 3", local(11, 2, 15, 15)),
    ("de 4e december om 10 uur", local(12, 4, 10)),
    ("vrijdag 23 oktober 10:00", local(10, 23, 10)),
    ("donderdag 29 oktober om half 3", local(10, 29, 14, 30)),
    ("vrijdag om 10.05", local(10, 23, 10, 5)),
    ("vrijdag 9.10 uur", local(10, 23, 9, 10)),
    ("vrijdag 10.05u", local(10, 23, 10, 5)),
]

ENGLISH = [
    ("tomorrow at 10", local(10, 23, 10)),
    ("in two weeks on Monday at 11", local(11, 2, 11)),
    ("next Friday 10:00", local(10, 23, 10)),
    ("this Friday 2 pm", local(10, 23, 14)),
    ("Fri 4 Dec 14:00", local(12, 4, 14)),
    ("4/12 at 2pm", local(12, 4, 14)),
    ("Friday 14.00", local(10, 23, 14)),
    ("Monday 2 pm", local(10, 26, 14)),
    ("Tue 9:30", local(10, 27, 9, 30)),
    ("Wed at 3", local(10, 28, 15)),
    ("Thu 11am", local(10, 29, 11)),
    ("Sat 10:00", local(10, 24, 10)),
    ("Sun at noon", local(10, 25, 12)),
    ("next week Tuesday 2pm", local(10, 27, 14)),
    ("Tuesday next week at 14:00", local(10, 27, 14)),
    ("next Tuesday 2pm", local(10, 27, 14)),
    ("tomorrow 10:00", local(10, 23, 10)),
    ("tomorrow morning at 8", local(10, 23, 8)),
    ("tomorrow afternoon at 3", local(10, 23, 15)),
    ("tomorrow at 3", local(10, 23, 15)),
    ("today at 4pm", local(10, 22, 16)),
    ("the day after tomorrow at 9", local(10, 24, 9)),
    ("Monday evening at 7", local(10, 26, 19)),
    ("Friday at 6 in the evening", local(10, 23, 18)),
    ("Thursday at half past two", local(10, 29, 14, 30)),
    ("Friday at a quarter past ten", local(10, 23, 10, 15)),
    ("Friday at quarter to eleven", local(10, 23, 10, 45)),
    ("Monday at ten past nine", local(10, 26, 9, 10)),
    ("4 December at 10am", local(12, 4, 10)),
    ("December 4 at 10:00", local(12, 4, 10)),
    ("December 4th, 2026 at 9am", local(12, 4, 9)),
    ("the 4th of December at 3pm", local(12, 4, 15)),
    ("Friday 4 December 2026 14:00", local(12, 4, 14)),
    ("4/12/2026 10:00", local(12, 4, 10)),
    ("2026-12-04 10:00", local(12, 4, 10)),
    ("in a week on Friday at 10", local(10, 30, 10)),
    ("in 3 days at 11am", local(10, 25, 11)),
    ("in two weeks at 10", local(11, 5, 10)),
    ("in 2 weeks on Wednesday 9:30", local(11, 4, 9, 30)),
    ("coming Monday at 9", local(10, 26, 9)),
    ("this Thursday at 10", local(10, 29, 10)),
    ("Mon 10:30 am", local(10, 26, 10, 30)),
    ("Fri 12 pm", local(10, 23, 12)),
    ("Monday 1 pm", local(10, 26, 13)),
    ("Tuesday 11 o'clock", local(10, 27, 11)),
    ("next Wednesday at 4 p.m.", local(10, 28, 16)),
    ("1 November 10:00", local(11, 1, 10)),
    ("3 January 10am", local(1, 3, 10, year=2027)),
    ("Jan 3 2027 at 9", local(1, 3, 9, year=2027)),
    ("Monday 2 November 10:00", local(11, 2, 10)),
    ("tomorrow around 3", local(10, 23, 15)),
    ("Wednesday at 13:00", local(10, 28, 13)),
    ("this week Friday at 10", local(10, 23, 10)),
    ("FRIDAY AT 10", local(10, 23, 10)),
    ("Friday at 10 pm", local(10, 23, 22)),
    ("tomorrow 9 in the morning", local(10, 23, 9)),
    ("Sat at 11", local(10, 24, 11)),
    ("Sunday 5pm", local(10, 25, 17)),
    ("Tuesday at 2:30pm", local(10, 27, 14, 30)),
    ("on Friday at 10", local(10, 23, 10)),
    ("Thursday 29 October 10:00", local(10, 29, 10)),
    ("Fri 23 Oct 9:30", local(10, 23, 9, 30)),
    ("tomorrow at 6", local(10, 23, 18)),
    ("Friday at 5:45", local(10, 23, 17, 45)),
]


def in_amsterdam(moment: datetime | None) -> datetime | None:
    return moment.astimezone(ZoneInfo(AMS)).replace(tzinfo=None) if moment else None


@pytest.mark.parametrize(("text", "expected"), DUTCH)
def test_dutch_corpus(text: str, expected: datetime) -> None:
    assert in_amsterdam(parse_meeting_time(text, locale="nl", tz=AMS, now=NOW)) == expected


@pytest.mark.parametrize(("text", "expected"), ENGLISH)
def test_english_corpus(text: str, expected: datetime) -> None:
    assert in_amsterdam(parse_meeting_time(text, locale="en", tz=AMS, now=NOW)) == expected


def test_the_corpus_holds_sixty_phrases_per_language() -> None:
    assert len({t for t, _ in DUTCH}) >= 60 and len({t for t, _ in ENGLISH}) >= 60


@pytest.mark.parametrize(
    ("text", "locale", "tz", "expected_utc"),
    [
        # asked on Friday in summer time (UTC+2), meant after Sunday's change to winter time (UTC+1)
        ("maandag 10:00", "nl", AMS, datetime(2026, 10, 26, 9, 0, tzinfo=UTC)),
        ("Monday 10:00", "en", AMS, datetime(2026, 10, 26, 9, 0, tzinfo=UTC)),
        ("morgen 10:00", "nl", AMS, datetime(2026, 10, 24, 8, 0, tzinfo=UTC)),  # still summer time
        ("zondag 14:00", "nl", AMS, datetime(2026, 10, 25, 13, 0, tzinfo=UTC)),  # the day of the change
        ("volgende week dinsdag 14:00", "nl", AMS, datetime(2026, 10, 27, 13, 0, tzinfo=UTC)),
        ("next Monday at 9", "en", AMS, datetime(2026, 10, 26, 8, 0, tzinfo=UTC)),
        ("over twee weken op maandag 11:00", "nl", AMS, datetime(2026, 11, 2, 10, 0, tzinfo=UTC)),
        ("vandaag om 3 uur", "nl", AMS, datetime(2026, 10, 23, 13, 0, tzinfo=UTC)),
        # New York leaves summer time a week later, on 1 November
        ("next Monday 10am", "en", NYC, datetime(2026, 10, 26, 14, 0, tzinfo=UTC)),
        ("Monday 2 November 10:00", "en", NYC, datetime(2026, 11, 2, 15, 0, tzinfo=UTC)),
        # month first in an American timezone; 12 April is more than 90 days gone: next year's
        ("4/12 at 2pm", "en", NYC, datetime(2027, 4, 12, 18, 0, tzinfo=UTC)),
    ],
)
def test_across_the_end_of_summer_time(text: str, locale: str, tz: str, expected_utc: datetime) -> None:
    assert parse_meeting_time(text, locale=locale, tz=tz, now=BEFORE_CET) == expected_utc


@pytest.mark.parametrize(
    "text",
    [
        "vrijdag 3",  # the 3rd, or 3 o'clock? a bare number is no time
        "Friday 3",
        "Monday 1",
        "32 december 10:00",
        "31/11 om 10 uur",
        "29 februari 10:00",  # 2027 is no leap year
        "vrijdag 9 december 10:00",  # 9 December is a Wednesday
        "Friday 9 December 10:00",
        "vrijdag",
        "Friday",
        "vrijdagmiddag",
        "volgende week 10:00",  # which day?
        "next week at 10",
        "14:00",  # which day?
        "om 3 uur",
        "morgen of overmorgen 10 uur",
        "vrijdag of zaterdag om 10 uur",
        "Friday or Saturday at 10",
        "morgen 10:00 of 11:00",
        "morgen 25:00",
        "tomorrow 10:75",
        "vrijdag 's middags om 9 uur",  # 's middags does not go to 21:00
        "tomorrow at 14:00 am",
        "over twee weken morgen 10:00",
        "ergens binnenkort",
        "sometime soonish",
        "morgen 10 uur of zo",
        "13/12 at 2pm",  # in New York: month 13
        "vrijdag 4.12",  # 4 December, or 4:12?
        "vrijdag 10.05",  # 10 May, or 10:05? ("om 10.05" and "10.05 uur" are times)
        "dinsdag tussen 10 en 11",
        "vrijdag 10:00-11:00",
        "Tuesday at 10 and Wednesday at 11",
        "binnen twee weken om 10 uur",
    ],
)
def test_refused_phrases(text: str) -> None:
    tz = NYC if text == "13/12 at 2pm" else AMS
    assert parse_meeting_time(text, locale="nl", tz=tz, now=NOW) is None
    assert parse_meeting_time(text, locale="en", tz=tz, now=NOW) is None


@pytest.mark.parametrize(("text", "locale"), [("gisteren 10:00", "nl"), ("yesterday at 10", "en")])
def test_a_next_meeting_in_the_past_is_refused(text: str, locale: str) -> None:
    assert in_amsterdam(parse_meeting_time(text, locale=locale, tz=AMS, now=NOW)) == local(10, 21, 10)
    with pytest.raises(FieldError) as refused:
        clean_field(
            FIELDS_BY_KEY["next_meeting_at"],
            text,
            texts=default_texts(),
            loc=Locality(locale=locale, timezone=AMS, now=NOW),
        )
    past = format_when(datetime(2026, 10, 21, 8, 0, tzinfo=UTC), locale=locale, tz=AMS)
    assert refused.value.field_key == "next_meeting_at"
    assert refused.value.text == default_texts().message(locale, "past_datetime", when=past)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("over twee weken op maandag", (2026, 11, 2)),
        ("in two weeks on Monday", (2026, 11, 2)),
        ("vrijdagmiddag", (2026, 10, 23)),
        ("vr 4 dec", (2026, 12, 4)),
        ("4/12", (2026, 12, 4)),
        ("over 3 dagen", (2026, 10, 25)),
    ],
)
def test_due_dates_read_the_same_words(text: str, expected: tuple[int, int, int]) -> None:
    day = parse_due_date(text, locale="nl", tz=AMS, now=NOW)
    assert day is not None and (day.year, day.month, day.day) == expected


@pytest.mark.parametrize("text", ["volgende week", "vrijdag 9 december", "32 december", "qwerty"])
def test_due_dates_refused(text: str) -> None:
    assert parse_due_date(text, locale="nl", tz=AMS, now=NOW) is None


def rep(locale: str) -> Rep:
    return Rep(id=1, workspace_id=1, name="Rep", locale=locale, timezone=AMS, manager_name=None)


@pytest.mark.parametrize(
    ("locale", "text", "account", "expected"),
    [
        ("nl", "Acme vrijdagmiddag 3 uur", "Acme", local(10, 23, 15)),
        ("nl", "Acme over twee weken op maandag 11:00", "Acme", local(11, 2, 11)),
        ("nl", "Acme morgenmiddag om 2 uur", "Acme", local(10, 23, 14)),
        ("nl", "Van der Berg BV donderdag om half drie", "Van der Berg BV", local(10, 29, 14, 30)),
        ("nl", "Bakkerij De Morgen morgen 10 uur", "Bakkerij De Morgen", local(10, 23, 10)),
        ("nl", "Hotel Maart 4 maart 10:00", "Hotel Maart", local(3, 4, 10, year=2027)),
        ("nl", "Studio 2 december 10:00", "Studio", local(12, 2, 10)),
        ("nl", "Studio 54 vrijdag 10:00", "Studio 54", local(10, 23, 10)),
        ("en", "Acme Corp tomorrow at 10", "Acme Corp", local(10, 23, 10)),
        ("en", "Acme in two weeks on Monday at 11", "Acme", local(11, 2, 11)),
        ("en", "Acme Fri 4 Dec 14:00", "Acme", local(12, 4, 14)),
        ("en", "Globex 2026-12-02 14:00", "Globex", local(12, 2, 14)),
    ],
)
def test_the_account_name_stops_where_the_date_begins(
    locale: str, text: str, account: str, expected: datetime
) -> None:
    found = split_meeting(text, rep=rep(locale), now=NOW)
    assert found is not None
    assert (found[0], in_amsterdam(found[1])) == (account, expected)


@pytest.mark.parametrize("text", ["Acme vrijdag 3", "Acme", "Acme whenever", "Acme morgen"])
def test_no_split_without_a_whole_moment(text: str) -> None:
    assert split_meeting(text, rep=rep("nl"), now=NOW) is None
