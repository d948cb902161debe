"""Signed offer links (itsdangerous): one waitlist entry (so one patient), one slot, until the slot starts.

A token holds the entry id, the cancelled appointment whose slot is offered, and the instant the
offer ends (the slot's start). It is signed with SECRET_KEY under a salt of its own, so an
unsubscribe token or a token of another feature is not an offer token.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer

from scheduler.services import clock

SALT = "waitlist.offer"


class BadOffer(Exception):
    """The link was forged or mangled (400), or the offer is over (410, `expired`)."""

    def __init__(self, message: str, *, expired: bool = False):
        super().__init__(message)
        self.expired = expired


@dataclass(frozen=True)
class OfferLink:
    """What a valid offer token names."""

    entry_id: int
    appointment_id: int
    ends_at: datetime


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def make_token(entry_id: int, appointment_id: int, ends_at: datetime) -> str:
    """A signed token offering the slot of `appointment_id` to the waitlist entry, until `ends_at`."""
    return _serializer().dumps({"w": entry_id, "a": appointment_id, "x": int(ends_at.timestamp())})


def url(token: str) -> str:
    """The absolute offer link."""
    return f"{current_app.config['BASE_URL']}/p/offer/{token}"


def read_token(token: str) -> OfferLink:
    """What a token offers; raises BadOffer (forged, or the slot has started)."""
    try:
        data = _serializer().loads(token)
    except BadSignature:
        raise BadOffer("This link is not valid.") from None
    if not (isinstance(data, dict) and all(isinstance(data.get(k), int) for k in ("w", "a", "x"))):
        raise BadOffer("This link is not valid.")
    try:
        ends_at = datetime.fromtimestamp(data["x"], UTC)
    except (OverflowError, OSError, ValueError):
        raise BadOffer("This link is not valid.") from None
    if clock.now() >= ends_at:
        raise BadOffer("This offer has ended: the time it offered has passed.", expired=True)
    return OfferLink(data["w"], data["a"], ends_at)
