"""Reading a search text: date of birth, phone number, or name words."""

from __future__ import annotations

from datetime import date

import pytest

from scheduler.domain import lookup


@pytest.mark.parametrize(
    ("text", "digits"),
    [
        ("+447700900118", "07700900118"),
        ("+44 (0)7700 900118", "07700900118"),
        ("0044 7700 900118", "07700900118"),
        ("07700 900118", "07700900118"),
        ("07700-900-118", "07700900118"),
        ("+1 212 555 0100", "+12125550100"),
        ("", None),
        (None, None),
    ],
)
def test_phone_digits(text, digits):
    assert lookup.phone_digits(text) == digits


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("13/04/1951", date(1951, 4, 13)),
        ("3/4/1951", date(1951, 4, 3)),
        ("13-04-1951", date(1951, 4, 13)),
        ("13 Apr 1951", date(1951, 4, 13)),
        ("13 april 1951", date(1951, 4, 13)),
        ("13th Sept 1951", date(1951, 9, 13)),
        ("1951-04-13", date(1951, 4, 13)),
        ("31/02/1951", None),
        ("13 Foo 1951", None),
        ("13/04/1851", None),
        ("04/13/1951", None),  # month 13: not a day (dd/mm is the clinic's order)
    ],
)
def test_parse_day(text, day):
    assert lookup.parse_day(text) == day


def test_read():
    assert lookup.read("Patel, Amelia") == lookup.Lookup(None, None, ("patel", "amelia"))
    assert lookup.read(" 13 Apr 1951 ").date_of_birth == date(1951, 4, 13)
    assert lookup.read("07700 900118").phone == "07700900118"
    assert lookup.read("077").phone is None  # too few digits for a phone number
    assert lookup.read("a@b.example").words == ("a@b.example",)
