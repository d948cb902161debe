from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scheduler.domain.durations import (
    FORMAT_MESSAGE,
    Duration,
    add_duration,
    add_months,
    nominal_days,
    parse_duration,
    validate_interval,
)

# --- parsing -----------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("P1Y", Duration(12, 0)),
        ("P3M", Duration(3, 0)),
        ("P6M", Duration(6, 0)),
        ("P12W", Duration(0, 84)),
        ("P90D", Duration(0, 90)),
        ("P1M15D", Duration(1, 15)),
        ("P2W3D", Duration(0, 17)),
        ("P1Y2M3W4D", Duration(14, 25)),
        ("P0D", Duration(0, 0)),
        ("P100Y", Duration(1200, 0)),
    ],
)
def test_parse_valid(text: str, expected: Duration) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "P",
        "PT5H",
        "P1DT2H",
        "P1.5M",
        "P1,5M",
        "P-3M",
        "-P3M",
        "p3m",
        "P3m",
        "3M",
        " P3M",
        "P3M ",
        "P3M\n",
        "P 3M",
        "P3D2M",
        "P2W1Y",
        "P3M3M",
        "P\u0661M",  # non-ASCII digit
        "P+3M",
        "P3X",
    ],
)
def test_parse_rejects_bad_text(text: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_duration(text)
    assert str(info.value) == FORMAT_MESSAGE
    assert "P3M" in str(info.value)


@pytest.mark.parametrize("value", [None, 3, 3.0, b"P3M", ["P3M"], Duration(3, 0)])
def test_parse_rejects_non_str(value: object) -> None:
    with pytest.raises(ValueError, match="ISO 8601 duration"):
        parse_duration(value)  # type: ignore[arg-type]


@pytest.mark.parametrize("text", ["P101Y", "P1201M", "P5218W", "P36526D", "P100Y1M", "P99999999999999999999D"])
def test_parse_rejects_absurd_sizes(text: str) -> None:
    with pytest.raises(ValueError, match="100 years"):
        parse_duration(text)


def test_duration_constructor_rejects_negative_and_huge() -> None:
    with pytest.raises(ValueError):
        Duration(-1, 0)
    with pytest.raises(ValueError):
        Duration(0, -1)
    with pytest.raises(ValueError):
        Duration(1201, 0)
    with pytest.raises(ValueError):
        Duration(True, 0)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "duration, iso",
    [
        (Duration(3, 0), "P3M"),
        (Duration(0, 84), "P84D"),
        (Duration(14, 3), "P14M3D"),
        (Duration(0, 0), "P0D"),
    ],
)
def test_iso(duration: Duration, iso: str) -> None:
    assert duration.iso == iso
    assert parse_duration(iso) == duration


def test_is_zero() -> None:
    assert Duration(0, 0).is_zero
    assert parse_duration("P0W").is_zero
    assert not Duration(0, 1).is_zero
    assert not Duration(1, 0).is_zero


# --- calendar arithmetic -----------------------------------------------------


@pytest.mark.parametrize(
    "start, months, expected",
    [
        (date(2027, 1, 31), 1, date(2027, 2, 28)),
        (date(2028, 1, 31), 1, date(2028, 2, 29)),
        (date(2026, 11, 30), 3, date(2027, 2, 28)),
        (date(2027, 11, 30), 3, date(2028, 2, 29)),
        (date(2028, 2, 29), 12, date(2029, 2, 28)),
        (date(2028, 2, 29), 48, date(2032, 2, 29)),
        (date(2027, 3, 31), 1, date(2027, 4, 30)),
        (date(2027, 8, 31), 6, date(2028, 2, 29)),
        (date(2027, 12, 15), 1, date(2028, 1, 15)),
        (date(2027, 1, 15), 0, date(2027, 1, 15)),
        (date(2027, 3, 31), -1, date(2027, 2, 28)),
        (date(2027, 1, 10), -1, date(2026, 12, 10)),
    ],
)
def test_add_months(start: date, months: int, expected: date) -> None:
    assert add_months(start, months) == expected


def test_add_duration_months_then_days() -> None:
    # months first: 31 Jan + 1 month = 28 Feb, then + 1 day = 1 Mar
    assert add_duration(date(2027, 1, 31), Duration(1, 1)) == date(2027, 3, 1)
    assert add_duration(date(2028, 1, 31), Duration(1, 1)) == date(2028, 3, 1)
    assert add_duration(date(2026, 11, 30), parse_duration("P3M")) == date(2027, 2, 28)
    assert add_duration(date(2027, 1, 1), parse_duration("P12W")) == date(2027, 3, 26)
    assert add_duration(date(2027, 1, 1), parse_duration("P1Y")) == date(2028, 1, 1)


def test_nominal_days() -> None:
    assert nominal_days(parse_duration("P3M")) == 90
    assert nominal_days(parse_duration("P12W")) == 84
    assert nominal_days(parse_duration("P90D")) == 90
    assert nominal_days(parse_duration("P1Y")) == 360
    assert nominal_days(parse_duration("P1M15D")) == 45


durations = st.builds(Duration, st.integers(0, 1200), st.integers(0, 36525))
dates = st.dates(date(1900, 1, 1), date(2300, 12, 31))


@given(dates, durations)
def test_add_duration_never_raises_and_moves_forward(start: date, dur: Duration) -> None:
    result = add_duration(start, dur)
    assert result >= start
    assert (result - start).days <= dur.months * 31 + dur.days


@given(dates, st.integers(0, 1200), st.integers(0, 1200), st.integers(0, 400))
def test_add_duration_monotonic_in_months(start: date, a: int, b: int, days: int) -> None:
    lo, hi = sorted((a, b))
    assert add_duration(start, Duration(lo, days)) <= add_duration(start, Duration(hi, days))


@given(dates, st.integers(0, 1200))
def test_add_months_lands_in_right_month(start: date, n: int) -> None:
    result = add_months(start, n)
    assert result.year * 12 + result.month == start.year * 12 + start.month + n
    assert result.day == start.day or (result + timedelta(days=1)).day == 1


@given(st.integers(0, 50), st.integers(0, 600), st.integers(0, 2000), st.integers(0, 20000))
def test_parse_roundtrip(y: int, m: int, w: int, d: int) -> None:
    dur = parse_duration(f"P{y}Y{m}M{w}W{d}D")
    assert dur == Duration(y * 12 + m, w * 7 + d)
    assert parse_duration(dur.iso) == dur


# --- validate_interval -------------------------------------------------------


def check(**overrides: object) -> dict[str, str]:
    settings: dict[str, object] = {
        "min_interval_days": 84,
        "remind_from": "P12W",
        "remind_until": "P6M",
        "reminder_count": 3,
        "follow_up_after": "P4W",
    }
    settings.update(overrides)
    return validate_interval(**settings)  # type: ignore[arg-type]


def test_demo_defaults_are_valid() -> None:
    assert check() == {}
    assert (
        validate_interval(
            min_interval_days=90,
            remind_from="P3M",
            remind_until="P6M",
            reminder_count=3,
            follow_up_after="P14D",
        )
        == {}
    )
    assert check(follow_up_after=None) == {}


@pytest.mark.parametrize("value", [0, 731, -5, 1.5, "84", None, True])
def test_min_interval_days_range(value: object) -> None:
    errors = check(min_interval_days=value)
    assert set(errors) == {"min_interval_days"}


def test_min_interval_days_bounds_allowed() -> None:
    assert check(min_interval_days=1) == {}
    # 730 is an accepted value, though no reminder window of at most 12 months can follow it
    errors = check(min_interval_days=730, remind_from="P12M", remind_until="P12M", reminder_count=1)
    assert errors == {"remind_from": "must be at least the minimum interval of 730 days"}


@pytest.mark.parametrize("field", ["remind_from", "remind_until", "follow_up_after"])
@pytest.mark.parametrize("bad", ["3 months", "PT5H", "P", "", 3])
def test_unparseable_fields(field: str, bad: object) -> None:
    errors = check(**{field: bad})
    assert errors[field] == FORMAT_MESSAGE


def test_remind_from_below_minimum_interval() -> None:
    errors = check(min_interval_days=90, remind_from="P12W")
    assert errors == {"remind_from": "must be at least the minimum interval of 90 days"}
    assert check(min_interval_days=85, remind_from="P12W") != {}
    assert check(min_interval_days=84, remind_from="P84D") == {}
    assert check(min_interval_days=90, remind_from="P3M") == {}
    assert check(min_interval_days=91, remind_from="P3M")["remind_from"].endswith("91 days")


@pytest.mark.parametrize("until", ["P1Y", "P12M", "P52W", "P365D", "P11M28D", "P6M"])
def test_remind_until_up_to_twelve_months_allowed(until: str) -> None:
    assert check(remind_until=until) == {}


# P11M30D: 29 Mar 2023 + P11M30D = 30 Mar 2024, a day after 29 Mar 2023 + P12M
@pytest.mark.parametrize("until", ["P366D", "P13M", "P53W", "P12M1D", "P1Y1D", "P2Y", "P11M30D"])
def test_remind_until_later_than_twelve_months_rejected(until: str) -> None:
    errors = check(remind_until=until)
    assert set(errors) == {"remind_until"}
    assert "12 months" in errors["remind_until"]


def test_remind_until_earlier_than_from_rejected() -> None:
    errors = check(remind_from="P6M", min_interval_days=84, remind_until="P12W", reminder_count=1)
    assert set(errors) == {"remind_until"}
    assert "earlier" in errors["remind_until"]
    # P3M is sometimes 89 days, so it can come before P90D
    errors = check(min_interval_days=84, remind_from="P90D", remind_until="P3M", reminder_count=1)
    assert set(errors) == {"remind_until"}


def test_single_reminder_allows_equal_window() -> None:
    assert check(remind_from="P3M", remind_until="P3M", reminder_count=1) == {}
    assert check(remind_from="P12W", remind_until="P84D", reminder_count=1) == {}


def test_multiple_reminders_need_a_real_window() -> None:
    errors = check(remind_from="P3M", remind_until="P3M", reminder_count=2)
    assert set(errors) == {"remind_until"}
    assert "more than one reminder" in errors["remind_until"]
    # P3M is at least 89 days, so it is strictly after P88D for every start date
    assert check(remind_from="P88D", remind_until="P3M", reminder_count=2) == {}
    # ... but not strictly after P89D (1 Feb 2027 + P3M = 1 May 2027 = +89 days)
    assert check(remind_from="P89D", remind_until="P3M", reminder_count=1) == {}
    errors = check(remind_from="P89D", remind_until="P3M", reminder_count=2)
    assert "more than one reminder" in errors["remind_until"]


@pytest.mark.parametrize("count", [0, 7, -1, 2.0, "3", None, False])
def test_reminder_count_range(count: object) -> None:
    errors = check(reminder_count=count)
    assert set(errors) == {"reminder_count"}


@pytest.mark.parametrize("count", [1, 6])
def test_reminder_count_bounds_allowed(count: int) -> None:
    assert check(reminder_count=count) == {}


@pytest.mark.parametrize("follow", ["P1D", "P2W", "P6M", "P25W", "P181D", "P5M28D"])
def test_follow_up_allowed(follow: str) -> None:
    assert check(follow_up_after=follow) == {}


@pytest.mark.parametrize("follow", ["P6M1D", "P7M", "P26W", "P182D", "P1Y"])
def test_follow_up_too_long(follow: str) -> None:
    errors = check(follow_up_after=follow)
    assert set(errors) == {"follow_up_after"}
    assert "6 months" in errors["follow_up_after"]


@pytest.mark.parametrize("follow", ["P0D", "P0M", "P0Y0M0W0D"])
def test_follow_up_zero_rejected(follow: str) -> None:
    assert set(check(follow_up_after=follow)) == {"follow_up_after"}


def test_reports_every_problem_at_once() -> None:
    errors = validate_interval(
        min_interval_days=0,
        remind_from="soon",
        remind_until="P2Y",
        reminder_count=9,
        follow_up_after="PT1H",
    )
    assert set(errors) == {
        "min_interval_days",
        "remind_from",
        "remind_until",
        "reminder_count",
        "follow_up_after",
    }
    assert all(isinstance(message, str) and message for message in errors.values())
