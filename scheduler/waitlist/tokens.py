"""Signed offer links: one waitlist entry (so one patient), one slot, until the slot starts.

A token holds the entry id, the cancelled appointment whose slot is offered, and the instant the
offer ends (the slot's start), signed under a salt of its own (scheduler.services.signed_links).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from scheduler.services import clock
from scheduler.services.signed_links import BadLink, absolute, instant, read, sign, whole

SALT = "waitlist.offer"


@dataclass(frozen=True)
class OfferLink:
    """What a valid offer token names."""

    entry_id: int
    appointment_id: int
    ends_at: datetime


def make_token(entry_id: int, appointment_id: int, ends_at: datetime) -> str:
    """A signed token offering the slot of `appointment_id` to the waitlist entry, until `ends_at`."""
    return sign(SALT, {"w": entry_id, "a": appointment_id, "x": int(ends_at.timestamp())})


def url(token: str) -> str:
    """The absolute offer link."""
    return absolute(f"/p/offer/{token}")


def read_token(token: str) -> OfferLink:
    """What a token offers; raises BadLink (forged, or the slot has started: expired)."""
    data = read(token, SALT)
    entry_id, appointment_id = whole(data, "w"), whole(data, "a")
    ends_at = instant(data, "x")
    if clock.now() >= ends_at:
        raise BadLink("This offer has ended: the time it offered has passed.", expired=True)
    return OfferLink(entry_id, appointment_id, ends_at)
