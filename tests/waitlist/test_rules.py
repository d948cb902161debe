"""The waitlist's pure rules: which waiting patients a freed slot goes to, and what dates a wish may have."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from scheduler.domain.waitlist import Slot, Wish, matches, offers_for, wish_problems

DAY = date(2027, 3, 10)
T0 = datetime(2027, 3, 1, 9, tzinfo=UTC)


def wish(i: int, patient: int, practitioner: int | None = None, start=DAY, end=DAY, minutes: int = 0) -> Wish:
    return Wish(i, patient, practitioner, start, end, T0 + timedelta(minutes=minutes or i))


SLOT = Slot(patient_id=99, practitioner_id=7, day=DAY)


def test_a_wish_matches_its_practitioner_or_any_and_its_dates():
    assert matches(wish(1, 1), SLOT)
    assert matches(wish(1, 1, practitioner=7), SLOT)
    assert not matches(wish(1, 1, practitioner=8), SLOT)
    assert not matches(wish(1, 1, start=DAY + timedelta(days=1), end=DAY + timedelta(days=5)), SLOT)
    assert matches(wish(1, 1, start=DAY - timedelta(days=5), end=DAY), SLOT)  # both ends included
    assert not matches(wish(1, 99), SLOT)  # not the patient who gave it up


def test_the_earliest_three_by_when_they_joined_one_offer_per_patient():
    wishes = [wish(5, 5, minutes=50), wish(1, 1, minutes=10), wish(2, 1, minutes=20), wish(3, 3, minutes=30),
              wish(4, 4, practitioner=8, minutes=5), wish(6, 6, minutes=60)]  # fmt: skip
    assert [w.id for w in offers_for(wishes, SLOT)] == [1, 3, 5]
    assert [w.id for w in offers_for(wishes, SLOT, count=1)] == [1]
    assert offers_for([], SLOT) == []


def test_wish_dates():
    today = date(2027, 3, 1)
    assert wish_problems(today, today, today) == {}
    assert wish_problems(DAY, today, today) == {"until_date": "before the first date"}
    assert wish_problems(today - timedelta(days=9), today - timedelta(days=1), today) == {"until_date": "in the past"}
    assert wish_problems(today, today + timedelta(days=400), today) == {"until_date": "more than a year ahead"}
