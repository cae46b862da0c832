"""Next-meeting times as reps type them, in Dutch and English, per timezone, across DST changes."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from dialogs.dates import parse_due_date, parse_meeting_time

MONDAY = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)  # the test clock: Monday 30 November 2026
BEFORE_EU_DST = datetime(2027, 3, 25, 9, 0, tzinfo=UTC)  # Thursday; Europe moves to CEST on 28 March
BEFORE_US_DST = datetime(2027, 3, 10, 15, 0, tzinfo=UTC)  # Wednesday; New York moves to EDT on 14 March


@pytest.mark.parametrize(
    ("text", "locale", "tz", "now", "expected"),
    [
        # winter: Amsterdam is UTC+1, New York UTC-5
        ("next Tuesday 2pm", "en", "Europe/Amsterdam", MONDAY, datetime(2026, 12, 1, 13, 0, tzinfo=UTC)),
        (
            "volgende week dinsdag 14:00",
            "nl",
            "Europe/Amsterdam",
            MONDAY,
            datetime(2026, 12, 8, 13, 0, tzinfo=UTC),
        ),
        (
            "dinsdag volgende week om 14.00",
            "nl",
            "Europe/Amsterdam",
            MONDAY,
            datetime(2026, 12, 8, 13, 0, tzinfo=UTC),
        ),
        ("next Tuesday 2pm", "en", "America/New_York", MONDAY, datetime(2026, 12, 1, 19, 0, tzinfo=UTC)),
        (
            "volgende week dinsdag 14:00",
            "nl",
            "America/New_York",
            MONDAY,
            datetime(2026, 12, 8, 19, 0, tzinfo=UTC),
        ),
        ("morgen 10 uur", "nl", "Europe/Amsterdam", MONDAY, datetime(2026, 12, 1, 9, 0, tzinfo=UTC)),
        ("dinsdag om 14.00", "nl", "Europe/Amsterdam", MONDAY, datetime(2026, 12, 1, 13, 0, tzinfo=UTC)),
        ("3 december 2026 9:30", "nl", "Europe/Amsterdam", MONDAY, datetime(2026, 12, 3, 8, 30, tzinfo=UTC)),
        # asked before the change, meeting after it: the meeting's own offset counts
        (
            "next Tuesday 2pm",
            "en",
            "Europe/Amsterdam",
            BEFORE_EU_DST,
            datetime(2027, 3, 30, 12, 0, tzinfo=UTC),
        ),
        (
            "volgende week dinsdag 14:00",
            "nl",
            "Europe/Amsterdam",
            BEFORE_EU_DST,
            datetime(2027, 3, 30, 12, 0, tzinfo=UTC),
        ),
        ("30 maart 2027 14:00", "nl", "Europe/Amsterdam", MONDAY, datetime(2027, 3, 30, 12, 0, tzinfo=UTC)),
        (
            "next Tuesday 2pm",
            "en",
            "America/New_York",
            BEFORE_US_DST,
            datetime(2027, 3, 16, 18, 0, tzinfo=UTC),
        ),
        (
            "volgende week dinsdag 14:00",
            "nl",
            "America/New_York",
            BEFORE_US_DST,
            datetime(2027, 3, 16, 18, 0, tzinfo=UTC),
        ),
    ],
)
def test_meeting_times(text: str, locale: str, tz: str, now: datetime, expected: datetime) -> None:
    parsed = parse_meeting_time(text, locale=locale, tz=tz, now=now)
    assert parsed == expected
    assert parsed is not None and parsed.utcoffset() is not None and parsed.tzinfo == UTC


@pytest.mark.parametrize("text", ["blah blah", "sometime next week", "Friday", "vrijdag", "", "14"])
def test_no_date_and_time_is_none(text: str) -> None:
    assert parse_meeting_time(text, locale="en", tz="Europe/Amsterdam", now=MONDAY) is None
    assert parse_meeting_time(text, locale="nl", tz="Europe/Amsterdam", now=MONDAY) is None


@pytest.mark.parametrize(
    ("text", "locale", "expected"),
    [
        ("Friday", "en", date(2026, 12, 4)),
        ("vrijdag", "nl", date(2026, 12, 4)),
        ("3 december", "nl", date(2026, 12, 3)),
        ("over twee weken", "nl", date(2026, 12, 14)),
        ("in two weeks", "en", date(2026, 12, 14)),
        ("volgende week woensdag", "nl", date(2026, 12, 9)),
    ],
)
def test_due_dates(text: str, locale: str, expected: date) -> None:
    assert parse_due_date(text, locale=locale, tz="Europe/Amsterdam", now=MONDAY) == expected


def test_due_date_uses_the_persons_local_day() -> None:
    # 23:30 UTC on Monday is already Tuesday in Amsterdam, still Monday in New York
    late = datetime(2026, 11, 30, 23, 30, tzinfo=UTC)
    assert parse_due_date("tomorrow", locale="en", tz="Europe/Amsterdam", now=late) == date(2026, 12, 2)
    assert parse_due_date("tomorrow", locale="en", tz="America/New_York", now=late) == date(2026, 12, 1)


def test_unknown_date_is_none() -> None:
    assert parse_due_date("qwerty", locale="en", tz="Europe/Amsterdam", now=MONDAY) is None
