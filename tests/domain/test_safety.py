from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scheduler.domain.safety import earliest_safe_date, is_too_soon


def test_earliest_safe_date() -> None:
    assert earliest_safe_date(date(2027, 1, 1), 84) == date(2027, 3, 26)
    assert earliest_safe_date(date(2027, 12, 1), 90) == date(2028, 2, 29)
    assert earliest_safe_date(date(2028, 12, 1), 90) == date(2029, 3, 1)


@pytest.mark.parametrize(
    "last, start, expected",
    [
        (None, date(2027, 1, 1), False),
        (date(2027, 1, 1), date(2027, 1, 1), True),  # same day
        (date(2027, 1, 1), date(2027, 3, 25), True),  # day 83
        (date(2027, 1, 1), date(2027, 3, 26), False),  # day 84: allowed
        (date(2027, 1, 1), date(2027, 6, 1), False),
        (date(2027, 3, 1), date(2027, 1, 1), False),  # last session is after start
    ],
)
def test_is_too_soon(last: date | None, start: date, expected: bool) -> None:
    assert is_too_soon(last, start, 84) is expected


@given(st.dates(date(2000, 1, 1), date(2100, 1, 1)), st.integers(1, 730), st.integers(-800, 800))
def test_too_soon_agrees_with_earliest_safe_date(last: date, days: int, offset: int) -> None:
    start = last + timedelta(days=offset)
    expected = last <= start < earliest_safe_date(last, days)
    assert is_too_soon(last, start, days) is expected


def test_the_latest_session_on_or_before_a_day() -> None:
    from scheduler.domain.safety import latest_on_or_before

    sessions = [(date(2027, 1, 1), 84), (date(2027, 3, 1), 90), (date(2027, 5, 1), 84)]
    assert latest_on_or_before(sessions, date(2027, 3, 1)) == date(2027, 3, 1)  # the same day counts
    assert latest_on_or_before(sessions, date(2027, 2, 28)) == date(2027, 1, 1)
    assert latest_on_or_before(sessions, date(2026, 12, 31)) is None


def test_a_later_session_is_kept_apart_by_its_own_interval() -> None:
    from scheduler.domain.safety import later_too_close

    day = date(2027, 1, 1)
    assert later_too_close([], day) is None
    assert later_too_close([(day, 84)], day) is None  # the same day is the earlier side's rule
    assert later_too_close([(date(2027, 3, 26), 84)], day) is None  # day 84: allowed
    assert later_too_close([(date(2027, 3, 25), 84)], day) == (date(2027, 3, 25), 84)
    # nearest first is not enough: a further session with a longer interval can be the one too close
    assert later_too_close([(date(2027, 3, 28), 84), (date(2027, 3, 29), 90)], day) == (date(2027, 3, 29), 90)
    assert later_too_close([(date(2026, 12, 1), 730)], day) is None  # earlier sessions are not "later"
