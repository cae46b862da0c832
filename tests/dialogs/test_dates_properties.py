"""Properties of reading meeting times: any text is read or refused, never an error; a weekday with a
24-hour time is the first such day after today at that time; one unknown word refuses the phrase."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from dialogs.date_words import FILLER, WEEKDAYS
from dialogs.dates import parse_due_date, parse_meeting_time

AMS = ZoneInfo("Europe/Amsterdam")
ZONES = st.sampled_from(["Europe/Amsterdam", "Europe/Brussels", "America/New_York", "UTC"])
NOWS = st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2035, 12, 31), timezones=st.just(AMS))
PIECES = st.sampled_from(
    ["om", "half", "drie", "kwart", "over", "voor", "10u30", "14.00", "3", "uur", "morgen", "vrijdag",
     "middag", "'s", "volgende", "week", "weken", "twee", "op", "maandag", "at", "pm", "am", "in",
     "december", "4/12", "2026-12-04", "0001-01-01", "9999-12-31", "00:30", "23:59", "32", "fri", "-"]
)


@given(text=st.text(max_size=60), tz=ZONES, now=NOWS)
def test_any_text_is_read_or_refused(text: str, tz: str, now: datetime) -> None:
    moment = parse_meeting_time(text, locale="nl", tz=tz, now=now)
    assert moment is None or moment.utcoffset() == timedelta(0)
    parse_due_date(text, locale="en", tz=tz, now=now)


@given(words=st.lists(PIECES, max_size=8), tz=ZONES, now=NOWS)
def test_any_mix_of_date_words_is_read_or_refused(words: list[str], tz: str, now: datetime) -> None:
    moment = parse_meeting_time(" ".join(words), locale="en", tz=tz, now=now)
    assert moment is None or moment.utcoffset() == timedelta(0)


@given(
    day=st.sampled_from(sorted(WEEKDAYS)),
    hour=st.integers(7, 23),
    minute=st.integers(0, 59),
    now=NOWS,
)
def test_a_weekday_and_a_clock_time_is_the_next_such_day(
    day: str, hour: int, minute: int, now: datetime
) -> None:
    moment = parse_meeting_time(f"{day} {hour}:{minute:02d}", locale="nl", tz="Europe/Amsterdam", now=now)
    assert moment is not None
    meant = moment.astimezone(AMS)
    assert meant.weekday() == WEEKDAYS[day]
    assert 1 <= (meant.date() - now.date()).days <= 7
    assert (meant.hour, meant.minute) == (hour, minute)


@given(
    word=st.text(alphabet="bcfghjklnpqrstvxz", min_size=3, max_size=8).filter(lambda w: w not in FILLER),
    before=st.booleans(),
)
def test_one_unknown_word_refuses_the_phrase(word: str, before: bool) -> None:
    text = f"{word} morgen om 10 uur" if before else f"morgen om 10 uur {word}"
    now = datetime(2026, 10, 22, 9, 0, tzinfo=AMS)
    assert parse_meeting_time("morgen om 10 uur", locale="nl", tz="Europe/Amsterdam", now=now) is not None
    assert parse_meeting_time(text, locale="nl", tz="Europe/Amsterdam", now=now) is None
