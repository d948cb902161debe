"""Plain-language durations for the pages: what people type, and how the pages show ISO 8601."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scheduler.domain.durations import PLAIN_MESSAGE, TOO_LONG_MESSAGE, parse_duration, parse_plain, plain


@pytest.mark.parametrize(
    "typed, iso",
    [
        ("4 months", "P4M"),
        ("4 mo", "P4M"),
        ("4 Months", "P4M"),
        ("1 month", "P1M"),
        ("12 weeks", "P12W"),
        ("12w", "P12W"),
        ("12 wk", "P12W"),
        ("90 days", "P90D"),
        ("90d", "P90D"),
        ("14 days", "P14D"),
        ("1 year", "P1Y"),
        ("2 yrs", "P2Y"),
        ("  6 months  ", "P6M"),
        ("1 month 15 days", "P1M15D"),
        ("1 month and 15 days", "P1M15D"),
        ("3 months, 2 weeks", "P3M2W"),
        ("1y2m", "P1Y2M"),
        ("P4M", "P4M"),
        ("P12W", "P12W"),
        ("p90d", "P90D"),
        ("P1Y2M3W4D", "P1Y2M3W4D"),
    ],
)
def test_parse_plain(typed: str, iso: str) -> None:
    assert parse_plain(typed) == iso


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "   ",
        "90",
        "months",
        "4 fortnights",
        "4.5 months",
        "-3 months",
        "1 month 1 month",
        "4 months x",
        "P",
        "PT5H",
        "P3M3M",
        "four months",
        "4 months\n5 days\x00",
        None,
        12,
    ],
)
def test_parse_plain_refuses(typed: object) -> None:
    with pytest.raises(ValueError) as err:
        parse_plain(typed)
    assert str(err.value) in (PLAIN_MESSAGE, "must be an ISO 8601 duration such as P3M, P12W or P90D")


def test_parse_plain_too_long() -> None:
    with pytest.raises(ValueError, match=TOO_LONG_MESSAGE):
        parse_plain("101 years")


@pytest.mark.parametrize(
    "iso, shown",
    [
        ("P4M", "4 months"),
        ("P1M", "1 month"),
        ("P12W", "12 weeks"),
        ("P1W", "1 week"),
        ("P14D", "14 days"),
        ("P1D", "1 day"),
        ("P1Y", "1 year"),
        ("P12M", "12 months"),
        ("P1M15D", "1 month 15 days"),
        ("P0D", "0 days"),
        (None, ""),
        ("", ""),
        ("not a duration", "not a duration"),
    ],
)
def test_plain(iso: str | None, shown: str) -> None:
    assert plain(iso) == shown


@given(st.integers(0, 20), st.integers(0, 200), st.integers(0, 500), st.integers(0, 999))
def test_round_trip(years: int, months: int, weeks: int, days: int) -> None:
    """What a page shows parses back to the same ISO text, and means the same duration."""
    iso = "P" + "".join(f"{n}{u}" for n, u in zip((years, months, weeks, days), "YMWD", strict=True) if n)
    if iso == "P":
        iso = "P0D"
    assert parse_plain(plain(iso)) == iso
    assert parse_duration(parse_plain(plain(iso))) == parse_duration(iso)
