"""Time rules: the person's IANA timezone across DST changes, quiet hours, working days."""

from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest

from dialogs.timing import (
    SchedulePolicy,
    follow_through_due,
    nudge_due,
    prepare_due,
    prompt_due,
    reminder_due,
)

POLICY = SchedulePolicy()
AMS, NY = "Europe/Amsterdam", "America/New_York"


def local(moment: datetime, tz: str) -> datetime:
    return moment.astimezone(ZoneInfo(tz))


def meeting(y: int, m: int, d: int, hh: int, mm: int, tz: str) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=ZoneInfo(tz)).astimezone(UTC)


@pytest.mark.parametrize(
    ("tz", "before", "after"),
    [
        # the autumn change: Amsterdam Sunday 25 Oct 2026, New York Sunday 1 Nov 2026
        (AMS, (2026, 10, 23), (2026, 10, 26)),
        (NY, (2026, 10, 30), (2026, 11, 2)),
        # the spring change: Amsterdam Sunday 29 Mar 2026, New York Sunday 8 Mar 2026
        (AMS, (2026, 3, 27), (2026, 3, 30)),
        (NY, (2026, 3, 6), (2026, 3, 9)),
    ],
)
def test_a_0900_meeting_is_nudged_at_0800_local_on_both_sides_of_a_dst_change(tz, before, after):
    for day in (before, after):
        start = meeting(*day, 9, 0, tz)
        due = nudge_due(start, tz=tz, policy=POLICY)
        assert local(due, tz).replace(tzinfo=None) == datetime(*day, 8, 0)
    # and the UTC instants differ by the hour the clocks moved
    offsets = {local(meeting(*d, 9, 0, tz), tz).utcoffset() for d in (before, after)}
    assert len(offsets) == 2


def test_the_monday_after_the_autumn_change_in_amsterdam():
    start = meeting(2026, 10, 26, 9, 0, AMS)
    assert start == datetime(2026, 10, 26, 8, 0, tzinfo=UTC)  # CET: UTC+1
    assert nudge_due(start, tz=AMS, policy=POLICY) == datetime(2026, 10, 26, 7, 0, tzinfo=UTC)


def test_a_nudge_across_the_night_of_the_change_keeps_wall_clock_lead():
    # 02:30 does not exist in Amsterdam on 29 March; a 03:30 meeting with a 60-minute lead
    # lands in the gap and is normalised forward by zoneinfo — it must never be after the start.
    policy = SchedulePolicy(quiet_start=time(0, 0), quiet_end=time(0, 0))
    start = meeting(2026, 3, 29, 3, 30, AMS)
    due = nudge_due(start, tz=AMS, policy=policy)
    assert due < start


def test_quiet_hours_move_a_nudge_earlier():
    # 08:00 meeting, 60 min lead -> 07:00, inside quiet hours (20:00-07:30): the evening before
    start = meeting(2026, 12, 2, 8, 0, AMS)
    due = nudge_due(start, tz=AMS, policy=POLICY)
    assert local(due, AMS).replace(tzinfo=None) == datetime(2026, 12, 1, 19, 45)
    # a 21:00 meeting -> 20:00 is quiet too: moved to 19:45 the same day
    due = nudge_due(meeting(2026, 12, 2, 21, 0, AMS), tz=AMS, policy=POLICY)
    assert local(due, AMS).replace(tzinfo=None) == datetime(2026, 12, 2, 19, 45)
    # outside quiet hours nothing moves
    due = nudge_due(meeting(2026, 12, 2, 10, 0, AMS), tz=AMS, policy=POLICY)
    assert local(due, AMS).replace(tzinfo=None) == datetime(2026, 12, 2, 9, 0)


def test_quiet_hours_within_one_day_window():
    policy = SchedulePolicy(quiet_start=time(12, 0), quiet_end=time(13, 0))
    due = nudge_due(meeting(2026, 12, 2, 13, 30, NY), tz=NY, policy=policy)
    assert local(due, NY).replace(tzinfo=None) == datetime(2026, 12, 2, 11, 45)


def test_debrief_prompts_wait_for_working_hours_and_days():
    # a meeting ending Friday 19:55 -> prompt at 20:05 is quiet; Saturday is no working day: Monday
    due = prompt_due(meeting(2026, 12, 4, 19, 55, AMS), tz=AMS, policy=POLICY)
    assert local(due, AMS).replace(tzinfo=None) == datetime(2026, 12, 7, 7, 30)
    # a Tuesday afternoon meeting: ten minutes after the end, reminder at 17:00 the same day
    due = prompt_due(meeting(2026, 12, 1, 15, 0, NY), tz=NY, policy=POLICY)
    assert local(due, NY).replace(tzinfo=None) == datetime(2026, 12, 1, 15, 10)
    assert local(reminder_due(due, tz=NY, policy=POLICY), NY).replace(tzinfo=None) == datetime(
        2026, 12, 1, 17, 0
    )
    # a prompt after 17:00 is reminded at the end of the next working day
    late = prompt_due(meeting(2026, 12, 4, 17, 30, AMS), tz=AMS, policy=POLICY)
    assert local(reminder_due(late, tz=AMS, policy=POLICY), AMS).replace(tzinfo=None) == datetime(
        2026, 12, 7, 17, 0
    )


def test_custom_working_days():
    policy = SchedulePolicy(working_days=("sun", "mon", "tue", "wed", "thu"))
    due = follow_through_due(datetime(2026, 12, 3).date(), tz="Asia/Jerusalem", policy=policy)
    assert local(due, "Asia/Jerusalem").replace(tzinfo=None) == datetime(2026, 12, 6, 9, 0)


# -- the preparation, a working day or two before ---------------------------------------------------
@pytest.mark.parametrize(
    ("days", "start", "expected"),
    [
        # Monday after a weekend: the Friday before, or the Thursday
        (1, (2026, 12, 7, 10, 0), datetime(2026, 12, 4, 9, 0)),
        (2, (2026, 12, 7, 10, 0), datetime(2026, 12, 3, 9, 0)),
        # Monday 26 October, the day after the clocks went back: the Friday before was still CEST
        (1, (2026, 10, 26, 10, 0), datetime(2026, 10, 23, 9, 0)),
        # a Wednesday: the Tuesday, or the Monday
        (1, (2026, 12, 9, 15, 0), datetime(2026, 12, 8, 9, 0)),
        (2, (2026, 12, 9, 15, 0), datetime(2026, 12, 7, 9, 0)),
    ],
)
def test_the_preparation_is_on_a_working_morning_before_the_meeting(days, start, expected):
    policy = SchedulePolicy(prepare_days=days)
    now = datetime(2026, 10, 1, 8, 0, tzinfo=UTC)
    due = prepare_due(meeting(*start, AMS), tz=AMS, policy=policy, now=now)
    assert due is not None and local(due, AMS).replace(tzinfo=None) == expected


def test_the_preparation_across_dst_keeps_its_local_morning():
    now = datetime(2026, 10, 1, tzinfo=UTC)
    before = prepare_due(meeting(2026, 10, 26, 10, 0, AMS), tz=AMS, policy=POLICY, now=now)
    assert before == datetime(2026, 10, 23, 7, 0, tzinfo=UTC)  # 09:00 CEST (UTC+2)
    after = prepare_due(meeting(2026, 10, 27, 10, 0, AMS), tz=AMS, policy=POLICY, now=now)
    assert after == datetime(2026, 10, 26, 8, 0, tzinfo=UTC)  # 09:00 CET (UTC+1)


def test_the_preparation_waits_for_quiet_hours_and_working_days():
    late_morning = SchedulePolicy(quiet_start=time(19, 0), quiet_end=time(9, 30))
    now = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
    due = prepare_due(meeting(2026, 12, 3, 14, 0, NY), tz=NY, policy=late_morning, now=now)
    assert due is not None and local(due, NY).replace(tzinfo=None) == datetime(2026, 12, 2, 9, 30)
    # Sunday to Thursday working week (Jerusalem): a Sunday meeting is prepared on Thursday
    week = SchedulePolicy(working_days=("sun", "mon", "tue", "wed", "thu"))
    jlm = "Asia/Jerusalem"
    due = prepare_due(meeting(2026, 12, 6, 11, 0, jlm), tz=jlm, policy=week, now=now)
    assert due is not None and local(due, jlm).replace(tzinfo=None) == datetime(2026, 12, 3, 9, 0)


def test_a_sooner_meeting_is_prepared_at_once_and_one_about_to_start_not_at_all():
    now = meeting(2026, 12, 1, 10, 0, AMS)  # Tuesday 10:00
    assert prepare_due(meeting(2026, 12, 1, 16, 0, AMS), tz=AMS, policy=POLICY, now=now) == now
    evening = meeting(2026, 12, 1, 21, 30, AMS)  # quiet hours: the next working morning, before the nudge
    due = prepare_due(meeting(2026, 12, 2, 14, 0, AMS), tz=AMS, policy=POLICY, now=evening)
    assert due is not None and local(due, AMS).replace(tzinfo=None) == datetime(2026, 12, 2, 7, 30)
    assert prepare_due(meeting(2026, 12, 1, 10, 45, AMS), tz=AMS, policy=POLICY, now=now) is None
    # a Monday 08:00 meeting after a Friday-evening debrief: its nudge moves to Sunday evening, so
    # no working moment is left for a preparation
    friday = meeting(2026, 12, 4, 20, 30, AMS)
    assert prepare_due(meeting(2026, 12, 7, 8, 0, AMS), tz=AMS, policy=POLICY, now=friday) is None
