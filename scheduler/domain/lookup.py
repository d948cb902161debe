"""What a search text means: a date of birth, a phone number, or words of a name.

Reception types what the patient says: "Patel, Amelia", "amelia patel", "13/04/1951",
"13 Apr 1951", "1951-04-13", "+44 7700 900118", "07700900118". A pure function reads the
text once; the patients' search (`scheduler.patients.records.search`) turns it into a query.
"""

from __future__ import annotations

import re
from datetime import date
from typing import NamedTuple

#: the clinic's country calling code: "+44 7700 900118" is stored and searched as "07700900118"
HOME_CALLING_CODE = "44"
#: fewest digits that make a search text a phone number
MIN_PHONE_DIGITS = 4
_MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ),
        start=1,
    )
    for name in names
}
_NUMERIC = re.compile(r"(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})")
_ISO = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_WORDY = re.compile(r"(\d{1,2})(?:st|nd|rd|th)?\s+([a-z]+)\.?,?\s+(\d{4})")
_PHONE_CHARS = re.compile(r"[0-9 ()+\-./]+")


class Lookup(NamedTuple):
    """A search text read: at most one of a date of birth or a phone number, and the name words."""

    date_of_birth: date | None
    phone: str | None
    words: tuple[str, ...]


def phone_digits(text: str | None) -> str | None:
    """A phone number as its national digits ("+44 7700 900118", "0044 7700 900118" and
    "07700 900118" all give "07700900118"); None when it holds no digit."""
    digits = re.sub(r"\D", "", text or "")
    if not digits:
        return None
    international = (text or "").lstrip().startswith("+") or digits.startswith("00")
    if international:
        digits = digits.removeprefix("00")
        if digits.startswith(HOME_CALLING_CODE):
            return "0" + digits[len(HOME_CALLING_CODE) :].lstrip("0")  # "+44 (0)7700 ..." too
        return "+" + digits  # a foreign number keeps its country code, marked
    return digits


def parse_day(text: str) -> date | None:
    """A date written dd/mm/yyyy (or with - or .), "13 Apr 1951", "13 April 1951" or ISO
    1951-04-13; None when it is none of these or no real day."""
    text = text.strip().lower()
    for pattern, order in ((_ISO, "ymd"), (_NUMERIC, "dmy")):
        found = pattern.fullmatch(text)
        if found:
            parts = dict(zip(order, map(int, found.groups()), strict=True))
            return _day(parts["y"], parts["m"], parts["d"])
    found = _WORDY.fullmatch(text)
    if found and found.group(2) in _MONTHS:
        return _day(int(found.group(3)), _MONTHS[found.group(2)], int(found.group(1)))
    return None


def _day(year: int, month: int, day: int) -> date | None:
    """The date, or None when it does not exist (31/02) or lies outside 1900..2100."""
    try:
        found = date(year, month, day)
    except ValueError:
        return None
    return found if 1900 <= found.year <= 2100 else None


def read(text: str | None) -> Lookup:
    """What a search text asks for: a date of birth, else a phone number (only phone characters
    and at least MIN_PHONE_DIGITS digits), else the words of a name in any order ("Patel,
    Amelia" is two words)."""
    text = (text or "").strip()
    born = parse_day(text)
    if born is not None:
        return Lookup(born, None, ())
    if _PHONE_CHARS.fullmatch(text) and len(re.sub(r"\D", "", text)) >= MIN_PHONE_DIGITS:
        return Lookup(None, phone_digits(text), ())
    words = tuple(w for w in re.split(r"[\s,;]+", text.lower()) if w)
    return Lookup(None, None, words)
