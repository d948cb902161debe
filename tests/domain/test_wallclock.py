"""Local times typed by people: one instant, or a refusal naming the choices when the clocks skip or
repeat that time (no database)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from scheduler.domain.wallclock import NotAnInstant, to_instant

LONDON = ZoneInfo("Europe/London")


def wall(text: str) -> datetime:
    return datetime.fromisoformat(text)


def test_a_skipped_time_is_refused_with_the_minutes_either_side():
    with pytest.raises(NotAnInstant) as refused:
        to_instant(wall("2027-03-28T01:30"), LONDON)
    assert str(refused.value) == (
        "01:30 on 28 March 2027 does not exist in Europe/London (clocks go forward); choose 00:59 or 02:00."
    )


def test_a_repeated_time_is_refused_naming_both():
    with pytest.raises(NotAnInstant) as refused:
        to_instant(wall("2027-10-31T01:30"), LONDON)
    assert str(refused.value) == (
        "01:30 on 31 October 2027 happens twice in Europe/London (clocks go back): 01:30 BST or 01:30 GMT; "
        "choose 00:59 or 02:00."
    )


@pytest.mark.parametrize(
    "typed,expected",
    [
        ("2027-03-28T00:59", datetime(2027, 3, 28, 0, 59, tzinfo=UTC)),
        ("2027-03-28T02:00", datetime(2027, 3, 28, 1, 0, tzinfo=UTC)),
        ("2027-10-31T00:59", datetime(2027, 10, 30, 23, 59, tzinfo=UTC)),
        ("2027-10-31T02:00", datetime(2027, 10, 31, 2, 0, tzinfo=UTC)),
        ("2027-07-01T09:00", datetime(2027, 7, 1, 8, 0, tzinfo=UTC)),
        ("2027-01-04T09:00", datetime(2027, 1, 4, 9, 0, tzinfo=UTC)),
    ],
)
def test_the_suggested_and_ordinary_times_are_one_instant(typed, expected):
    assert to_instant(wall(typed), LONDON) == expected


@pytest.mark.parametrize("day", [date(2027, 3, 28), date(2027, 10, 31), date(2028, 3, 26), date(2028, 10, 29)])
def test_exactly_the_skipped_or_repeated_hour_is_refused_and_every_other_minute_round_trips(day):
    refused = []
    for minute in range(24 * 60):
        typed = datetime.combine(day, time()) + timedelta(minutes=minute)
        try:
            instant = to_instant(typed, LONDON)
        except NotAnInstant:
            refused.append(typed.time())
            continue
        assert instant.tzinfo is UTC and instant.astimezone(LONDON).replace(tzinfo=None) == typed
    assert refused == [time(1, m) for m in range(60)]


@pytest.mark.parametrize(
    "zone,typed,message",
    [
        (
            "America/New_York",
            "2027-03-14T02:30",
            "02:30 on 14 March 2027 does not exist in America/New_York (clocks go forward); choose 01:59 or 03:00.",
        ),
        (
            "Australia/Lord_Howe",
            "2027-04-04T01:45",
            "01:45 on 4 April 2027 happens twice in Australia/Lord_Howe (clocks go back): 01:45 +11 or 01:45 +1030; "
            "choose 01:29 or 02:00.",
        ),
        (
            "Pacific/Apia",
            "2011-12-30T12:00",
            "12:00 on 30 December 2011 does not exist in Pacific/Apia (clocks go forward); "
            "choose 23:59 on 29 December 2011 or 00:00 on 31 December 2011.",
        ),
    ],
)
def test_other_zones_half_hour_shifts_and_a_skipped_day(zone, typed, message):
    with pytest.raises(NotAnInstant) as refused:
        to_instant(wall(typed), ZoneInfo(zone))
    assert str(refused.value) == message


def test_a_zone_without_changes_takes_every_time():
    assert to_instant(wall("2027-03-28T01:30"), ZoneInfo("UTC")) == datetime(2027, 3, 28, 1, 30, tzinfo=UTC)
