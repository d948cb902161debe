"""The patients' pages' rules, without a database: the cut-off, the weeks shown, the nearest times."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from scheduler.domain import selfservice as rules

START = datetime(2027, 3, 10, 10, tzinfo=UTC)


def test_changes_are_allowed_up_to_the_cut_off_and_not_after():
    assert rules.can_change(START, START - timedelta(hours=24), 24)
    assert not rules.can_change(START, START - timedelta(hours=24) + timedelta(seconds=1), 24)
    assert rules.can_change(START, START, 0) and not rules.can_change(START, START + timedelta(seconds=1), 0)


def test_the_first_day_is_today_or_the_safety_minimum():
    assert rules.first_day(date(2027, 3, 2), None) == date(2027, 3, 2)
    assert rules.first_day(date(2027, 3, 2), date(2027, 3, 26)) == date(2027, 3, 26)
    assert rules.first_day(date(2027, 3, 2), date(2027, 2, 24)) == date(2027, 3, 2)


def test_the_week_shown_stays_between_the_first_bookable_week_and_the_horizon():
    first = date(2027, 3, 26)  # a Friday
    assert rules.week_of(first) == date(2027, 3, 22)
    assert rules.shown_week(None, first) == date(2027, 3, 22)
    assert rules.shown_week(date(2020, 1, 1), first) == date(2027, 3, 22)
    assert rules.shown_week(date(2027, 4, 1), first) == date(2027, 3, 29)
    last = date(2027, 3, 22) + timedelta(weeks=rules.HORIZON_WEEKS)
    assert rules.shown_week(date(9999, 12, 31), first) == last
    assert rules.neighbours(date(2027, 3, 22), first) == (None, date(2027, 3, 29))
    assert rules.neighbours(last, first) == (last - timedelta(weeks=1), None)


def test_the_nearest_times_either_side_in_time_order():
    starts = [START + timedelta(minutes=15 * i) for i in range(-10, 10) if i != 0]
    assert rules.nearest(starts, START, 4) == [
        START - timedelta(minutes=30),
        START - timedelta(minutes=15),
        START + timedelta(minutes=15),
        START + timedelta(minutes=30),
    ]
    assert rules.nearest([], START) == []


def test_a_dated_link_runs_out_at_its_instant():
    assert not rules.link_expired(START, START - timedelta(seconds=1))
    assert rules.link_expired(START, START)
