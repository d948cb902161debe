"""ISO 8601 re-treatment intervals (P3M, P12W, P90D ...) and calendar arithmetic.

Months are calendar months clamped to the month end (30 Nov + P3M = 28/29 Feb).
Checks that must hold "for every start date" run over a full 4-year leap cycle,
which contains every combination of month lengths.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

#: the allowed range of a treatment's `min_interval_days` (a day to two years)
MIN_INTERVAL_DAYS = (1, 730)

MAX_MONTHS = 1200  # 100 years
MAX_DAYS = 36525  # 100 years of days
FORMAT_MESSAGE = "must be an ISO 8601 duration such as P3M, P12W or P90D"
TOO_LONG_MESSAGE = "must be no longer than 100 years"

_PATTERN = re.compile(r"P(?:([0-9]+)Y)?(?:([0-9]+)M)?(?:([0-9]+)W)?(?:([0-9]+)D)?")
_CYCLE: tuple[date, ...] = tuple(date(2024, 1, 1) + timedelta(days=i) for i in range(1461))


@dataclass(frozen=True)
class Duration:
    """A calendar duration: whole months followed by whole days."""

    months: int
    days: int

    def __post_init__(self) -> None:
        for name in ("months", "days"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"{name} must be a non-negative whole number")
        if self.months > MAX_MONTHS or self.days > MAX_DAYS:
            raise ValueError(TOO_LONG_MESSAGE)

    @property
    def iso(self) -> str:
        """Normalized ISO 8601 text, e.g. P3M, P84D, P14M3D (P0D when zero)."""
        text = "P"
        if self.months:
            text += f"{self.months}M"
        if self.days or not self.months:
            text += f"{self.days}D"
        return text

    @property
    def is_zero(self) -> bool:
        """True when the duration has no months and no days."""
        return self.months == 0 and self.days == 0


def parse_duration(text: str) -> Duration:
    """Parse P[nY][nM][nW][nD] into a Duration, raising ValueError with a readable message."""
    if not isinstance(text, str):
        raise ValueError(FORMAT_MESSAGE)  # noqa: TRY004 -- one error type for callers
    match = _PATTERN.fullmatch(text)
    if match is None or all(group is None for group in match.groups()):
        raise ValueError(FORMAT_MESSAGE)
    if any(group is not None and len(group) > 6 for group in match.groups()):
        raise ValueError(TOO_LONG_MESSAGE)
    years, months, weeks, days = (int(group or 0) for group in match.groups())
    return Duration(months=years * 12 + months, days=weeks * 7 + days)


def add_months(d: date, n: int) -> date:
    """Add n calendar months to d, clamping the day to the end of the target month."""
    year, month0 = divmod(d.year * 12 + (d.month - 1) + n, 12)
    last_day = calendar.monthrange(year, month0 + 1)[1]
    return date(year, month0 + 1, min(d.day, last_day))


def add_duration(d: date, dur: Duration) -> date:
    """Add a duration to d: calendar months first, then days."""
    return add_months(d, dur.months) + timedelta(days=dur.days)


def nominal_days(dur: Duration) -> int:
    """Day count with months as 30 days, for comparing a duration with a day count (P3M == 90)."""
    return dur.months * 30 + dur.days


@lru_cache(maxsize=1024)
def _never_later(a: Duration, b: Duration) -> bool:
    """True iff D + a <= D + b for every start date D in the cycle."""
    return all(add_duration(d, a) <= add_duration(d, b) for d in _CYCLE)


@lru_cache(maxsize=1024)
def _always_earlier(a: Duration, b: Duration) -> bool:
    """True iff D + a < D + b for every start date D in the cycle."""
    return all(add_duration(d, a) < add_duration(d, b) for d in _CYCLE)


def _whole_number(value: object, low: int, high: int) -> str | None:
    """Return an error message unless value is an int in [low, high]."""
    if isinstance(value, bool) or not isinstance(value, int):
        return "must be a whole number"
    if not low <= value <= high:
        return f"must be between {low} and {high}"
    return None


def _parse_field(text: object) -> tuple[Duration | None, str | None]:
    """Parse a duration field, returning (duration, None) or (None, message)."""
    try:
        return parse_duration(text), None  # type: ignore[arg-type]
    except ValueError as exc:
        return None, str(exc)


TWELVE_MONTHS = Duration(12, 0)
SIX_MONTHS = Duration(6, 0)


def validate_interval(
    *,
    min_interval_days: int,
    remind_from: str,
    remind_until: str,
    reminder_count: int,
    follow_up_after: str | None,
) -> dict[str, str]:
    """Check a treatment's interval settings; return {field: message} for every problem."""
    errors: dict[str, str] = {}
    min_error = _whole_number(min_interval_days, *MIN_INTERVAL_DAYS)
    if min_error:
        errors["min_interval_days"] = min_error
    count_error = _whole_number(reminder_count, 1, 6)
    if count_error:
        errors["reminder_count"] = count_error

    start, from_error = _parse_field(remind_from)
    if from_error:
        errors["remind_from"] = from_error
    elif start is not None and not min_error and nominal_days(start) < min_interval_days:
        errors["remind_from"] = f"must be at least the minimum interval of {min_interval_days} days"

    several = not count_error and reminder_count > 1
    until_error = _check_until(start, remind_until, several=several)
    if until_error:
        errors["remind_until"] = until_error
    follow_error = _check_follow_up(follow_up_after)
    if follow_error:
        errors["follow_up_after"] = follow_error
    return errors


def _check_until(start: Duration | None, remind_until: object, *, several: bool) -> str | None:
    """Message for a bad remind_until given the (possibly invalid) remind_from, else None."""
    until, error = _parse_field(remind_until)
    if until is None:
        return error
    if not _never_later(until, TWELVE_MONTHS):
        return "must be no later than 12 months"
    if start is not None and not _never_later(start, until):
        return "must not be earlier than the start of the reminder window"
    if start is not None and several and not _always_earlier(start, until):
        return "must be later than the start of the reminder window when more than one reminder is sent"
    return None


def _check_follow_up(follow_up_after: object) -> str | None:
    """Message for a bad follow_up_after (None is fine), else None."""
    if follow_up_after is None:
        return None
    follow, error = _parse_field(follow_up_after)
    if follow is None:
        return error
    if follow.is_zero:
        return "must be longer than zero"
    if not _never_later(follow, SIX_MONTHS):
        return "must be no longer than 6 months"
    return None


# --- plain language ("4 months", "12 weeks", "14 days") for the pages; the API speaks ISO 8601 ---

PLAIN_MESSAGE = "enter a length such as 4 months, 12 weeks or 90 days"
_UNIT_WORDS = {
    "Y": ("y", "yr", "yrs", "year", "years"),
    "M": ("m", "mo", "mos", "mth", "mths", "month", "months"),
    "W": ("w", "wk", "wks", "week", "weeks"),
    "D": ("d", "day", "days"),
}
_UNIT_OF = {word: unit for unit, words in _UNIT_WORDS.items() for word in words}
_PART = re.compile(r"([0-9]{1,6})\s*([a-z]+)")
_SEPARATORS = re.compile(r"\s*(?:,|\band\b|\+)\s*|\s+")
_NAMES = {"Y": ("year", "years"), "M": ("month", "months"), "W": ("week", "weeks"), "D": ("day", "days")}


def parse_plain(text: object) -> str:
    """ISO 8601 text for what a person typed: "4 months", "4 mo", "12w", "1 year 2 weeks" or "P4M".

    The units are kept as typed (12 weeks is P12W, not P84D); each unit at most once. Raises
    ValueError(PLAIN_MESSAGE) for anything else, TOO_LONG_MESSAGE past 100 years.
    """
    if not isinstance(text, str):
        raise ValueError(PLAIN_MESSAGE)  # noqa: TRY004 -- one error type for callers
    cleaned = text.strip().lower()
    if cleaned.startswith("p") and cleaned[1:2].isdigit():
        parse_duration(cleaned.upper())  # raises with the ISO message when malformed
        return cleaned.upper()
    amounts: dict[str, str] = {}
    rest = cleaned
    while rest:
        match = _PART.match(rest)
        unit = _UNIT_OF.get(match.group(2)) if match else None
        if match is None or unit is None or unit in amounts:
            raise ValueError(PLAIN_MESSAGE)
        amounts[unit] = str(int(match.group(1)))
        rest = rest[match.end() :]
        separator = _SEPARATORS.match(rest)
        if separator is not None:
            rest = rest[separator.end() :]
    if not amounts:
        raise ValueError(PLAIN_MESSAGE)
    iso = "P" + "".join(amounts[u] + u for u in "YMWD" if u in amounts)
    parse_duration(iso)  # the same limits as ISO input
    return iso


def plain(iso: str | None) -> str:
    """ "12 weeks", "4 months", "1 month 15 days" for an ISO 8601 duration; other text unchanged."""
    if not iso:
        return ""
    match = _PATTERN.fullmatch(iso)
    if match is None or all(group is None for group in match.groups()):
        return iso
    words = [
        f"{int(group)} {_NAMES[unit][int(group) != 1]}"
        for unit, group in zip("YMWD", match.groups(), strict=True)
        if group is not None
    ]
    return " ".join(words)


def plain_problems(problems: dict[str, str]) -> dict[str, str]:
    """The interval checks' messages as the pages say them (lengths in words, not ISO 8601)."""
    return {k: PLAIN_MESSAGE if v == FORMAT_MESSAGE else v for k, v in problems.items()}
