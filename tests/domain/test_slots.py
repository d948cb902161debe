from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scheduler.domain.slots import (
    DAYS,
    format_working_hours,
    free_slots,
    parse_working_hours,
    stored_working_hours,
    within_working_hours,
    working_intervals,
)

LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")
MIN = timedelta(minutes=1)
WEEKDAYS = parse_working_hours({d: [["09:00", "17:00"]] for d in DAYS[:5]})
EVERY_DAY = parse_working_hours({d: [["09:00", "17:00"]] for d in DAYS})
WINTER_MONDAY = date(2027, 1, 11)
SUMMER_MONDAY = date(2027, 7, 12)
EARLY = datetime(2000, 1, 1, tzinfo=UTC)


def utc(y: int, mo: int, d: int, h: int, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=UTC)


# --- parse / format ----------------------------------------------------------


def test_parse_sorts_and_fills_missing_days() -> None:
    hours = parse_working_hours({"tue": [["13:00", "17:30"], ["08:15", "12:00"]]})
    assert hours["tue"] == [(time(8, 15), time(12, 0)), (time(13, 0), time(17, 30))]
    assert all(hours[d] == [] for d in DAYS if d != "tue")
    assert DAYS[WINTER_MONDAY.weekday()] == "mon"


def test_stored_hours_are_parsed_once_per_value() -> None:
    """The column's value gives what parsing it gives, once: an equal value (keys in any order)
    gives the same object again."""
    stored = {"tue": [["13:00", "17:00"], ["08:00", "12:00"]], "sat": [["09:00", "24:00"]]}
    hours = stored_working_hours(stored)
    assert hours == parse_working_hours(stored)
    assert stored_working_hours({"sat": [["09:00", "24:00"]], "tue": stored["tue"]}) is hours
    assert stored_working_hours(None) == stored_working_hours({}) == {d: [] for d in DAYS}
    with pytest.raises(ValueError, match="unknown day"):
        stored_working_hours({"someday": []})


def test_parse_accepts_24_00_end_and_touching_intervals() -> None:
    hours = parse_working_hours({"sat": [["00:00", "12:00"], ["12:00", "24:00"]]})
    assert hours["sat"] == [(time(0), time(12)), (time(12), time(0))]
    assert format_working_hours(hours)["sat"] == [["00:00", "12:00"], ["12:00", "24:00"]]


def test_format_is_inverse_and_has_all_days() -> None:
    raw = {"mon": [["09:00", "12:30"], ["13:30", "17:00"]], "fri": [["10:00", "24:00"]]}
    formatted = format_working_hours(parse_working_hours(raw))
    assert list(formatted) == list(DAYS)
    assert formatted["mon"] == raw["mon"] and formatted["fri"] == raw["fri"]
    assert formatted["sun"] == []
    assert parse_working_hours(formatted) == parse_working_hours(raw)


@pytest.mark.parametrize(
    "obj, message",
    [
        ([["09:00", "17:00"]], "must be an object"),
        (None, "must be an object"),
        ({"monday": []}, "unknown day 'monday'"),
        ({"Mon": []}, "unknown day 'Mon'"),
        ({"mon": "09:00-17:00"}, "mon: must be a list"),
        ({"mon": None}, "mon: must be a list"),
        ({"mon": [["09:00", "10:00"]] * 7}, "mon: at most 6"),
        ({"tue": [["09:00"]]}, "tue: each interval must be a pair"),
        ({"tue": ["09:00", "17:00"]}, "tue: each interval must be a pair"),
        ({"tue": [["09:00", "12:00", "17:00"]]}, "tue: each interval must be a pair"),
        ({"wed": [["9:00", "17:00"]]}, "wed: '9:00' is not a time"),
        ({"wed": [["09:00", "17:00:00"]]}, "is not a time"),
        ({"wed": [["09:00", "23:60"]]}, "'23:60' is not a time"),
        ({"wed": [["09:00", "25:00"]]}, "'25:00' is not a time"),
        ({"wed": [["09:00", "24:01"]]}, "'24:01' is not a time"),
        ({"wed": [[" 09:00", "17:00"]]}, "is not a time"),
        ({"wed": [[900, 1700]]}, "900 is not a time"),
        ({"wed": [["24:00", "24:00"]]}, "wed: 24:00 can only be used as an end time"),
        ({"mon": [["17:00", "09:00"]]}, "mon: 17:00-09:00 ends before it starts"),
        ({"mon": [["09:00", "00:00"]]}, "mon: 09:00-00:00 ends before it starts"),
        ({"thu": [["09:00", "09:00"]]}, "thu: 09:00-09:00 has no length"),
        (
            {"fri": [["12:00", "17:00"], ["09:00", "13:00"]]},
            "fri: 09:00-13:00 overlaps 12:00-17:00",
        ),
        (
            {"sun": [["09:00", "17:00"], ["10:00", "11:00"]]},
            "sun: 09:00-17:00 overlaps 10:00-11:00",
        ),
    ],
)
def test_parse_rejects(obj: object, message: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_working_hours(obj)
    assert message in str(info.value)


def test_parse_allows_six_intervals_and_empty_day() -> None:
    six = [[f"{h:02d}:00", f"{h:02d}:30"] for h in range(8, 14)]
    hours = parse_working_hours({"mon": six, "tue": []})
    assert len(hours["mon"]) == 6 and hours["tue"] == []


# --- working_intervals -------------------------------------------------------


def test_working_intervals_winter_and_summer() -> None:
    assert working_intervals(WINTER_MONDAY, WEEKDAYS, LONDON) == [(utc(2027, 1, 11, 9), utc(2027, 1, 11, 17))]
    assert working_intervals(SUMMER_MONDAY, WEEKDAYS, LONDON) == [(utc(2027, 7, 12, 8), utc(2027, 7, 12, 16))]
    start, end = working_intervals(WINTER_MONDAY, WEEKDAYS, LONDON)[0]
    assert start.utcoffset() == timedelta(0) and end.tzinfo is not None


def test_working_intervals_closed_day() -> None:
    assert working_intervals(date(2027, 1, 16), WEEKDAYS, LONDON) == []  # Saturday


@pytest.mark.parametrize(
    "day, expected_start_hour",
    [
        (date(2027, 3, 27), 9),  # Saturday before clocks go forward: GMT
        (date(2027, 3, 28), 8),  # clocks go forward at 01:00: BST from then on
        (date(2027, 10, 30), 8),  # Saturday before clocks go back: BST
        (date(2027, 10, 31), 9),  # clocks go back at 02:00: GMT from then on
    ],
)
def test_working_intervals_on_london_dst_days(day: date, expected_start_hour: int) -> None:
    [(start, end)] = working_intervals(day, EVERY_DAY, LONDON)
    assert start == datetime.combine(day, time(expected_start_hour), tzinfo=UTC)
    assert end - start == timedelta(hours=8)


def test_whole_day_is_23_or_25_hours_on_dst_days() -> None:
    hours = parse_working_hours({d: [["00:00", "24:00"]] for d in DAYS})
    [(s1, e1)] = working_intervals(date(2027, 3, 28), hours, LONDON)
    assert (s1, e1) == (utc(2027, 3, 28, 0), utc(2027, 3, 28, 23))
    [(s2, e2)] = working_intervals(date(2027, 10, 31), hours, LONDON)
    assert (s2, e2) == (utc(2027, 10, 30, 23), utc(2027, 11, 1, 0))
    assert e2 - s2 == timedelta(hours=25)


def test_working_intervals_new_york() -> None:
    assert working_intervals(WINTER_MONDAY, WEEKDAYS, NEW_YORK) == [(utc(2027, 1, 11, 14), utc(2027, 1, 11, 22))]
    assert working_intervals(SUMMER_MONDAY, WEEKDAYS, NEW_YORK) == [(utc(2027, 7, 12, 13), utc(2027, 7, 12, 21))]
    late = parse_working_hours({"mon": [["18:00", "24:00"]]})
    assert working_intervals(WINTER_MONDAY, late, NEW_YORK) == [(utc(2027, 1, 11, 23), utc(2027, 1, 12, 5))]


# --- within_working_hours ----------------------------------------------------


@pytest.mark.parametrize(
    "start, end, expected",
    [
        (utc(2027, 1, 11, 9), utc(2027, 1, 11, 9, 30), True),
        (utc(2027, 1, 11, 16, 30), utc(2027, 1, 11, 17), True),
        (utc(2027, 1, 11, 16, 45), utc(2027, 1, 11, 17, 15), False),
        (utc(2027, 1, 11, 8, 45), utc(2027, 1, 11, 9, 15), False),
        (utc(2027, 1, 11, 12), utc(2027, 1, 11, 12), False),
        (utc(2027, 1, 11, 12), utc(2027, 1, 11, 11), False),
        (utc(2027, 1, 16, 10), utc(2027, 1, 16, 11), False),  # Saturday
        (utc(2027, 7, 12, 8), utc(2027, 7, 12, 8, 30), True),  # 09:00 BST
        (utc(2027, 7, 12, 16), utc(2027, 7, 12, 16, 30), False),  # 17:00 BST
    ],
)
def test_within_working_hours(start: datetime, end: datetime, expected: bool) -> None:
    assert within_working_hours(start, end, WEEKDAYS, LONDON) is expected


def test_within_working_hours_needs_a_single_interval() -> None:
    split = parse_working_hours({"mon": [["09:00", "12:00"], ["12:00", "17:00"]]})
    assert within_working_hours(utc(2027, 1, 11, 11), utc(2027, 1, 11, 12), split, LONDON)
    assert not within_working_hours(utc(2027, 1, 11, 11, 30), utc(2027, 1, 11, 12, 30), split, LONDON)


def test_within_working_hours_time_off() -> None:
    off = [(utc(2027, 1, 11, 12), utc(2027, 1, 11, 13))]
    args = (WEEKDAYS, LONDON, off)
    assert not within_working_hours(utc(2027, 1, 11, 12), utc(2027, 1, 11, 12, 30), *args)
    assert not within_working_hours(utc(2027, 1, 11, 11, 45), utc(2027, 1, 11, 12, 15), *args)
    assert not within_working_hours(utc(2027, 1, 11, 11), utc(2027, 1, 11, 14), *args)
    assert within_working_hours(utc(2027, 1, 11, 11, 30), utc(2027, 1, 11, 12), *args)
    assert within_working_hours(utc(2027, 1, 11, 13), utc(2027, 1, 11, 13, 30), *args)


def test_within_working_hours_other_zone_and_naive() -> None:
    start = datetime(2027, 1, 11, 9, tzinfo=NEW_YORK)  # 14:00 UTC, inside London hours
    assert within_working_hours(start, start + timedelta(hours=1), WEEKDAYS, LONDON)
    assert within_working_hours(start, start + timedelta(hours=1), WEEKDAYS, NEW_YORK)
    assert not within_working_hours(start, start + timedelta(hours=8, minutes=1), WEEKDAYS, NEW_YORK)
    with pytest.raises(ValueError, match="timezone-aware"):
        within_working_hours(datetime(2027, 1, 11, 10), datetime(2027, 1, 11, 11), WEEKDAYS, LONDON)


def test_within_working_hours_uses_local_day() -> None:
    # Saturday 23:30 New York is Sunday 04:30 UTC; the Saturday hours apply
    hours = parse_working_hours({"sat": [["20:00", "24:00"]]})
    start = utc(2027, 1, 17, 4, 30)
    assert within_working_hours(start, start + timedelta(minutes=30), hours, NEW_YORK)
    assert not within_working_hours(start, start + timedelta(minutes=31), hours, NEW_YORK)


# --- free_slots --------------------------------------------------------------


def slots_for(day: date, **kwargs: object) -> list[datetime]:
    params: dict[str, object] = {
        "hours": WEEKDAYS,
        "tz": LONDON,
        "duration": timedelta(minutes=30),
        "busy": [],
        "now": EARLY,
    }
    params.update(kwargs)
    return free_slots(day, **params)  # type: ignore[arg-type]


def test_free_slots_edges_of_working_hours() -> None:
    slots = slots_for(WINTER_MONDAY)
    assert slots[0] == utc(2027, 1, 11, 9)
    assert slots[-1] == utc(2027, 1, 11, 16, 30)
    assert len(slots) == 31
    assert all(s.utcoffset() == timedelta(0) for s in slots)
    assert all(b - a == timedelta(minutes=15) for a, b in pairwise(slots))


def test_free_slots_step_that_does_not_divide_the_day() -> None:
    slots = slots_for(WINTER_MONDAY, step=timedelta(minutes=20))
    assert slots[1] == utc(2027, 1, 11, 9, 20)
    assert slots[-1] == utc(2027, 1, 11, 16, 20)


def test_free_slots_duration_longer_than_day_and_closed_day() -> None:
    assert slots_for(WINTER_MONDAY, duration=timedelta(hours=9)) == []
    assert slots_for(WINTER_MONDAY, duration=timedelta(hours=8)) == [utc(2027, 1, 11, 9)]
    assert slots_for(date(2027, 1, 17)) == []


def test_free_slots_busy_is_half_open() -> None:
    busy = [(utc(2027, 1, 11, 10), utc(2027, 1, 11, 11))]
    slots = slots_for(WINTER_MONDAY, busy=busy)
    assert utc(2027, 1, 11, 9, 30) in slots  # ends exactly when busy starts
    assert utc(2027, 1, 11, 11) in slots  # starts exactly when busy ends
    for m in (45, 60, 75, 90, 105):
        assert utc(2027, 1, 11, 9) + timedelta(minutes=m) not in slots
    assert len(slots) == 31 - 5


def test_free_slots_unsorted_busy_and_time_off() -> None:
    busy = [
        (utc(2027, 1, 11, 15), utc(2027, 1, 11, 17)),  # afternoon time off
        (utc(2027, 1, 11, 9, 10), utc(2027, 1, 11, 9, 20)),
        (utc(2027, 1, 11, 8), utc(2027, 1, 11, 9, 5)),  # from before opening
        (utc(2027, 1, 11, 12), utc(2027, 1, 11, 12, 30)),
        (utc(2027, 1, 11, 12, 15), utc(2027, 1, 11, 12, 45)),  # overlapping
        (utc(2027, 1, 11, 11), utc(2027, 1, 11, 14)),  # covers the two above
    ]
    slots = slots_for(WINTER_MONDAY, busy=busy)
    assert slots[0] == utc(2027, 1, 11, 9, 30)
    assert slots[-1] == utc(2027, 1, 11, 14, 30)
    assert utc(2027, 1, 11, 10, 30) in slots and utc(2027, 1, 11, 10, 45) not in slots
    assert not any(utc(2027, 1, 11, 10, 45) <= s < utc(2027, 1, 11, 14) for s in slots)
    assert len(slots) == 5 + 3  # 09:30..10:30 and 14:00..14:30


def test_free_slots_ignores_busy_on_other_days_and_empty_intervals() -> None:
    busy = [
        (utc(2027, 1, 10, 9), utc(2027, 1, 10, 17)),
        (utc(2027, 1, 11, 10), utc(2027, 1, 11, 10)),
        (utc(2027, 1, 12, 9), utc(2027, 1, 12, 17)),
    ]
    assert slots_for(WINTER_MONDAY, busy=busy) == slots_for(WINTER_MONDAY)


@pytest.mark.parametrize(
    "now, first",
    [
        (utc(2027, 1, 11, 12, 7), utc(2027, 1, 11, 12, 15)),
        (utc(2027, 1, 11, 12, 15), utc(2027, 1, 11, 12, 15)),
        (
            utc(
                2027,
                1,
                11,
                12,
                15,
            )
            + timedelta(seconds=1),
            utc(2027, 1, 11, 12, 30),
        ),
        (utc(2027, 1, 11, 6), utc(2027, 1, 11, 9)),
    ],
)
def test_free_slots_now_in_the_day(now: datetime, first: datetime) -> None:
    slots = slots_for(WINTER_MONDAY, now=now)
    assert slots[0] == first
    assert slots[-1] == utc(2027, 1, 11, 16, 30)


def test_free_slots_now_in_another_zone_and_after_hours() -> None:
    now = datetime(2027, 1, 11, 7, 50, tzinfo=NEW_YORK)  # 12:50 UTC
    assert slots_for(WINTER_MONDAY, now=now)[0] == utc(2027, 1, 11, 13)
    assert slots_for(WINTER_MONDAY, now=utc(2027, 1, 11, 16, 31)) == []
    with pytest.raises(ValueError, match="timezone-aware"):
        slots_for(WINTER_MONDAY, now=datetime(2027, 1, 11, 12))


@pytest.mark.parametrize(
    "before, change",
    [(date(2027, 3, 27), date(2027, 3, 28)), (date(2027, 10, 30), date(2027, 10, 31))],
)
def test_free_slots_on_london_dst_days(before: date, change: date) -> None:
    a = slots_for(before, hours=EVERY_DAY)
    b = slots_for(change, hours=EVERY_DAY)
    assert len(a) == len(b) == 31
    assert [s.astimezone(LONDON).time() for s in a] == [s.astimezone(LONDON).time() for s in b]
    shift = timedelta(hours=1) if change.month == 3 else timedelta(hours=-1)
    assert all((sb - sa) == timedelta(days=1) - shift for sa, sb in zip(a, b, strict=True))
    assert b[0].astimezone(LONDON).time() == time(9) and b[-1].astimezone(LONDON).time() == time(16, 30)


def test_free_slots_step_in_absolute_time_across_dst() -> None:
    hours = parse_working_hours({"sun": [["00:00", "24:00"]]})
    hour = timedelta(hours=1)
    spring = slots_for(date(2027, 3, 28), hours=hours, duration=hour, step=hour)
    autumn = slots_for(date(2027, 10, 31), hours=hours, duration=hour, step=hour)
    assert len(spring) == 23 and len(autumn) == 25
    assert all(b - a == hour for a, b in pairwise(autumn))
    assert [s.astimezone(LONDON).hour for s in autumn[:4]] == [0, 1, 1, 2]


def test_free_slots_new_york() -> None:
    slots = slots_for(WINTER_MONDAY, tz=NEW_YORK)
    assert (slots[0], slots[-1], len(slots)) == (utc(2027, 1, 11, 14), utc(2027, 1, 11, 21, 30), 31)
    dst_start = slots_for(date(2027, 3, 14), tz=NEW_YORK, hours=EVERY_DAY)  # Sunday
    assert (dst_start[0], len(dst_start)) == (utc(2027, 3, 14, 13), 31)
    dst_end = slots_for(date(2027, 11, 7), tz=NEW_YORK, hours=EVERY_DAY)
    assert (dst_end[0], len(dst_end)) == (utc(2027, 11, 7, 14), 31)


@pytest.mark.parametrize("bad", [timedelta(0), timedelta(minutes=-15)])
def test_free_slots_rejects_non_positive_duration_and_step(bad: timedelta) -> None:
    with pytest.raises(ValueError, match="duration"):
        slots_for(WINTER_MONDAY, duration=bad)
    with pytest.raises(ValueError, match="step"):
        slots_for(WINTER_MONDAY, step=bad)


def test_free_slots_with_many_unsorted_busy_intervals() -> None:
    hours = parse_working_hours({"mon": [["00:00", "24:00"]]})
    base = utc(2027, 1, 11, 0)
    # 20,000 one-second busy intervals, one every 3 seconds, in reverse order
    busy = [(base + timedelta(seconds=3 * i), base + timedelta(seconds=3 * i + 1)) for i in range(20_000)][::-1]
    slots = slots_for(WINTER_MONDAY, hours=hours, busy=busy, duration=MIN, step=MIN)
    assert slots[0] == base + timedelta(seconds=60_000) and len(slots) == 1440 - 1000


# --- properties --------------------------------------------------------------

ZONES = [LONDON, NEW_YORK, ZoneInfo("UTC"), ZoneInfo("Australia/Lord_Howe")]


@st.composite
def raw_hours(draw: st.DrawFn) -> dict[str, list[list[str]]]:
    result: dict[str, list[list[str]]] = {}
    for day in DAYS:
        bounds = sorted(draw(st.sets(st.integers(0, 1440), max_size=12)))
        bounds = bounds[: len(bounds) // 2 * 2]
        labels = [f"{m // 60:02d}:{m % 60:02d}" for m in bounds]
        result[day] = [list(pair) for pair in zip(labels[::2], labels[1::2], strict=True)]
    return result


@st.composite
def scenario(draw: st.DrawFn) -> tuple:
    hours = parse_working_hours(draw(raw_hours()))
    tz = draw(st.sampled_from(ZONES))
    day = draw(
        st.sampled_from(
            [
                date(2027, 3, 28),
                date(2027, 10, 31),
                date(2027, 3, 14),
                date(2027, 11, 7),
                date(2027, 4, 4),
                date(2027, 10, 3),
            ]
        )
        | st.dates(date(2026, 1, 1), date(2028, 12, 31))
    )
    origin = datetime.combine(day, time(0), tzinfo=UTC) - timedelta(hours=14)
    moment = st.integers(0, 52 * 60).map(lambda m: origin + timedelta(minutes=m))
    busy = draw(st.lists(st.tuples(moment, moment).map(lambda t: tuple(sorted(t))), max_size=15))
    now = draw(moment)
    duration = timedelta(minutes=draw(st.integers(1, 300)))
    step = timedelta(minutes=draw(st.integers(1, 90)))
    return day, hours, tz, duration, busy, now, step


@settings(max_examples=300, deadline=None)
@given(scenario())
def test_free_slots_properties(case: tuple) -> None:
    day, hours, tz, duration, busy, now, step = case
    slots = free_slots(day, hours, tz, duration, busy, now, step)
    intervals = working_intervals(day, hours, tz)
    assert slots == sorted(set(slots))
    for s in slots:
        assert s.utcoffset() == timedelta(0) and s >= now
        assert any(a <= s and s + duration <= b and (s - a) % step == timedelta(0) for a, b in intervals)
        assert not any(a < s + duration and s < b for a, b in busy if a < b)  # an empty interval holds nothing
    # and nothing is missing: compare with a brute-force scan of every grid point
    expected = []
    for a, b in intervals:
        s = a
        while s + duration <= b:
            if s >= now and not any(x < s + duration and s < y for x, y in busy if x < y):
                expected.append(s)
            s += step
    assert slots == expected


@given(raw_hours())
def test_parse_format_roundtrip(raw: dict[str, list[list[str]]]) -> None:
    hours = parse_working_hours(raw)
    assert format_working_hours(hours) == raw
    for day in DAYS:
        for start, end in hours[day]:
            assert end == time(0) or start < end
