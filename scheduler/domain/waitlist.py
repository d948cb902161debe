"""The waitlist's rules (pure): which waiting patients a freed slot is offered to, and what a wish may be."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import NamedTuple

#: how many waiting patients a freed slot is offered to at once (WAITLIST_OFFERS)
OFFERS_PER_SLOT = 3
#: how far ahead a wish may reach
LONGEST_WISH = timedelta(days=366)


class Wish(NamedTuple):
    """A waitlist entry, as far as matching cares."""

    id: int
    patient_id: int
    practitioner_id: int | None
    from_date: date
    until_date: date
    created_at: datetime


class Slot(NamedTuple):
    """A freed slot: whose appointment it was, with whom, on which local day."""

    patient_id: int
    practitioner_id: int
    day: date


def matches(wish: Wish, slot: Slot) -> bool:
    """Whether a slot suits a wish: the practitioner asked for (or any), a day in the range, not the
    patient who just gave it up."""
    return (
        wish.patient_id != slot.patient_id
        and (wish.practitioner_id is None or wish.practitioner_id == slot.practitioner_id)
        and wish.from_date <= slot.day <= wish.until_date
    )


def offers_for(wishes: Iterable[Wish], slot: Slot, count: int = OFFERS_PER_SLOT) -> list[Wish]:
    """The earliest `count` matching wishes by when they joined the list, one per patient."""
    chosen: list[Wish] = []
    seen: set[int] = set()
    for wish in sorted(wishes, key=lambda w: (w.created_at, w.id)):
        if len(chosen) >= count:
            break
        if wish.patient_id not in seen and matches(wish, slot):
            chosen.append(wish)
            seen.add(wish.patient_id)
    return chosen


def wish_problems(from_date: date, until_date: date, today: date) -> dict[str, str]:
    """Why a date range cannot be a wish, by field (empty when it can)."""
    problems: dict[str, str] = {}
    if until_date < from_date:
        problems["until_date"] = "before the first date"
    elif until_date < today:
        problems["until_date"] = "in the past"
    elif until_date - max(from_date, today) > LONGEST_WISH:
        problems["until_date"] = "more than a year ahead"
    return problems
