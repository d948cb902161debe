"""Days as the pages write them ("Tue 2 Mar 2027"): refusals and audit sentences use the same style."""

from __future__ import annotations

import re
from datetime import date


def short_day(day: date) -> str:
    """ "Tue 2 Mar 2027"."""
    return f"{day:%a} {day.day} {day:%b %Y}"


def long_day(day: date) -> str:
    """ "Tuesday 2 March 2027"."""
    return f"{day:%A} {day.day} {day:%B %Y}"


_ISO_DAY = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b(?!T)")


def dates_in_words(text: str) -> str:
    """A message with its YYYY-MM-DD days written as the pages write them (the API keeps YYYY-MM-DD):
    "the earliest safe date is 2027-03-26" -> "the earliest safe date is Fri 26 Mar 2027"."""

    def words(match: re.Match[str]) -> str:
        try:
            return short_day(date(int(match.group(1)), int(match.group(2)), int(match.group(3))))
        except ValueError:
            return match.group(0)

    return _ISO_DAY.sub(words, text)
