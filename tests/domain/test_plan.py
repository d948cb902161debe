"""The pure reminder plan (docs/rules.md rules 1, 2 and 4): dates, due instants, send window, catch-up."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scheduler.domain.durations import Duration, add_duration
from scheduler.domain.plan import (
    Clinic,
    Intervals,
    due_at,
    follow_up_plan,
    in_send_window,
    pre_visit_plan,
    retreatment_dates,
    retreatment_plan,
    retry_delay,
    window_closes,
)

LONDON = ZoneInfo("Europe/London")
CLINIC = Clinic.parse("Europe/London", "09:00-18:00", 24)
MIGRAINE = Intervals.parse("P12W", "P6M", 3)
COSMETIC = Intervals.parse("P3M", "P6M", 3, "P14D")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


# --- rule 1: the dates -------------------------------------------------------------------


def test_catalogue_plan_first_last_and_equal_steps():
    # 15 Jan 2027 + 84 days = 9 Apr; + 6 months = 15 Jul; 97 days apart, so a 48-day step.
    assert retreatment_dates(date(2027, 1, 15), MIGRAINE) == [date(2027, 4, 9), date(2027, 5, 27), date(2027, 7, 15)]


def test_steps_are_whole_days_rounded_down_and_equal():
    iv = Intervals.parse("P90D", "P188D", 4)  # 98 days: steps of 32, last exactly D + 188
    d = date(2027, 1, 1)
    assert retreatment_dates(d, iv) == [d + timedelta(days=n) for n in (90, 122, 154, 188)]


def test_count_of_one_is_only_the_first_date():
    assert retreatment_dates(date(2027, 1, 15), Intervals.parse("P12W", "P6M", 1)) == [date(2027, 4, 9)]


@pytest.mark.parametrize(
    ("session", "first", "middle", "last"),
    [
        # 30 Nov + 3 months clamps to 28 Feb, or 29 Feb in a leap year
        (date(2026, 11, 30), date(2027, 2, 28), date(2027, 4, 14), date(2027, 5, 30)),
        (date(2027, 11, 30), date(2028, 2, 29), date(2028, 4, 14), date(2028, 5, 30)),
        # 31 Aug + 6 months = end of February; 31 May + 3 months = 31 Aug
        (date(2027, 5, 31), date(2027, 8, 31), date(2027, 10, 15), date(2027, 11, 30)),
        (date(2027, 8, 31), date(2027, 11, 30), date(2028, 1, 14), date(2028, 2, 29)),
        # 29 Feb of a leap year + 3 months = 29 May; + 6 months = 29 Aug
        (date(2028, 2, 29), date(2028, 5, 29), date(2028, 7, 14), date(2028, 8, 29)),
    ],
)
def test_month_ends_and_leap_years(session, first, middle, last):
    assert retreatment_dates(session, COSMETIC) == [first, middle, last]
    assert window_closes(session, COSMETIC) == last


# --- rule 2: due at the start of the send hours, local time --------------------------------


def test_due_at_the_start_of_send_hours_in_winter_and_summer():
    assert due_at(date(2027, 1, 15), CLINIC) == utc(2027, 1, 15, 9)  # GMT
    assert due_at(date(2027, 7, 15), CLINIC) == utc(2027, 7, 15, 8)  # BST


def test_due_at_across_the_spring_forward_change():
    # Europe/London: 28 March 2027 01:00 GMT -> 02:00 BST
    assert due_at(date(2027, 3, 27), CLINIC) == utc(2027, 3, 27, 9)
    assert due_at(date(2027, 3, 28), CLINIC) == utc(2027, 3, 28, 8)
    early = Clinic.parse("Europe/London", "01:30-18:00")
    # 01:30 does not exist that night: the reminder goes when the clock shows 02:30 BST (01:30 UTC)
    assert due_at(date(2027, 3, 28), early) == utc(2027, 3, 28, 1, 30)
    assert due_at(date(2027, 3, 28), early).astimezone(LONDON).time() == time(2, 30)


def test_due_at_across_the_fall_back_change():
    # Europe/London: 31 October 2027 02:00 BST -> 01:00 GMT
    assert due_at(date(2027, 10, 30), CLINIC) == utc(2027, 10, 30, 8)
    assert due_at(date(2027, 10, 31), CLINIC) == utc(2027, 10, 31, 9)
    early = Clinic.parse("Europe/London", "01:30-18:00")
    # 01:30 happens twice that night: the first time (BST) counts
    assert due_at(date(2027, 10, 31), early) == utc(2027, 10, 31, 0, 30)


def test_plan_instants_follow_the_local_clock_across_dst():
    plan = retreatment_plan(date(2026, 12, 28), Intervals.parse("P90D", "P307D", 2), CLINIC)
    # 28 Mar 2027 (the change day, BST) and 31 Oct 2027 (the change back, GMT)
    assert [p.due_at for p in plan] == [utc(2027, 3, 28, 8), utc(2027, 10, 31, 9)]
    assert all(p.due_at.astimezone(LONDON).time() == time(9) for p in plan)
    assert [p.seq for p in plan] == [1, 2]


def test_send_window_is_local_and_half_open():
    winter, summer = date(2027, 1, 15), date(2027, 7, 15)
    assert not in_send_window(utc(2027, 1, 15, 8, 59), CLINIC)
    assert in_send_window(utc(2027, 1, 15, 9), CLINIC)
    assert in_send_window(utc(2027, 1, 15, 17, 59), CLINIC)
    assert not in_send_window(utc(2027, 1, 15, 18), CLINIC)
    assert in_send_window(utc(2027, 7, 15, 8), CLINIC)  # 09:00 BST
    assert not in_send_window(utc(2027, 7, 15, 17), CLINIC)  # 18:00 BST
    assert winter != summer
    # on the spring-forward day, 08:30 UTC is already 09:30 local
    assert in_send_window(utc(2027, 3, 28, 8, 30), CLINIC)
    assert not in_send_window(utc(2027, 3, 27, 8, 30), CLINIC)


def test_send_window_to_midnight():
    all_day = Clinic.parse("Europe/London", "00:00-24:00")
    assert in_send_window(utc(2027, 1, 15, 23, 59, 59), all_day)


# --- rule 4 and the other emails -------------------------------------------------------------


def test_retreatment_reminders_go_stale_14_days_after_the_window_closed():
    plan = retreatment_plan(date(2027, 1, 15), MIGRAINE, CLINIC)
    # window closes 15 Jul; still sendable on 29 Jul, stale from local midnight starting 30 Jul (BST)
    assert {p.expires_at for p in plan} == {utc(2027, 7, 29, 23)}


def test_follow_up_and_pre_visit_plans():
    follow = follow_up_plan(date(2027, 3, 16), COSMETIC, CLINIC)
    assert follow is not None and follow.due_at == utc(2027, 3, 30, 8)  # 14 days later, 09:00 BST
    assert follow.expires_at == follow.due_at + timedelta(days=14)
    assert follow_up_plan(date(2027, 3, 16), MIGRAINE, CLINIC) is None
    start = utc(2027, 3, 29, 9)
    pre = pre_visit_plan(start, CLINIC)
    assert (pre.due_at, pre.expires_at) == (utc(2027, 3, 28, 9), start)


def test_retry_delays_grow_with_jitter_and_a_cap():
    base, cap = timedelta(minutes=5), timedelta(hours=6)
    assert retry_delay(1, base, cap, rand=lambda: 0.0) == timedelta(minutes=2, seconds=30)
    assert retry_delay(1, base, cap, rand=lambda: 1.0) == timedelta(minutes=5)
    assert retry_delay(3, base, cap, rand=lambda: 1.0) == timedelta(minutes=20)
    assert retry_delay(30, base, cap, rand=lambda: 1.0) == cap
    rng = random.Random(3)
    delays = [retry_delay(4, base, cap, rand=rng.random) for _ in range(50)]
    assert all(timedelta(minutes=20) <= d <= timedelta(minutes=40) for d in delays)
    assert len(set(delays)) > 40


# --- properties --------------------------------------------------------------------------------

durations = st.builds(Duration, months=st.integers(0, 6), days=st.integers(0, 120))


@given(
    session=st.dates(date(2000, 1, 1), date(2099, 1, 1)),
    start=durations,
    extra=durations,
    count=st.integers(1, 6),
    zone=st.sampled_from(["Europe/London", "America/New_York", "Australia/Sydney", "Asia/Kolkata", "UTC"]),
)
def test_plan_properties(session, start, extra, count, zone):
    until = Duration(start.months + extra.months, start.days + extra.days)
    iv = Intervals(start, until, count)
    dates = retreatment_dates(session, iv)
    assert len(dates) == count
    assert dates == sorted(dates)
    first, last = add_duration(session, start), window_closes(session, iv)
    assert dates[0] == first
    assert all(first <= d <= last for d in dates)
    if count > 1:
        assert dates[-1] == last
        step = (last - first).days // (count - 1)
        assert all((b - a).days == step for a, b in pairwise(dates[:-1]))  # equal whole-day steps
        assert (dates[-1] - dates[-2]).days >= step  # the rounding remainder goes to the last gap
        if (last - first).days >= count - 1:
            assert len(set(dates)) == count
    clinic = Clinic.parse(zone, "09:00-18:00")
    plan = retreatment_plan(session, iv, clinic)
    assert [p.seq for p in plan] == list(range(1, count + 1))
    assert [p.due_at for p in plan] == sorted(p.due_at for p in plan)
    for p, d in zip(plan, dates, strict=True):
        local = p.due_at.astimezone(ZoneInfo(zone))
        assert (local.date(), local.time()) == (d, time(9))
        assert in_send_window(p.due_at, clinic)
        assert p.expires_at is not None and p.expires_at > p.due_at + timedelta(days=13)
