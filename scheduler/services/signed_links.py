"""Signed links in patients' emails (itsdangerous): how every kind of link is signed and read.

Each purpose (an unsubscribe link, a booking link, an appointment link, a waitlist offer) signs
with SECRET_KEY under a salt of its own, so a token is refused anywhere but on its own page. A
token is read here once, the same way for all of them: anything too long, forged, mangled or not
carrying a JSON object is `BadLink`; one past its age (dated links) is `BadLink` marked expired.
What a payload must hold, and whether what it names still exists, is each purpose's own check.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeSerializer, URLSafeTimedSerializer

#: the longest a token may be (an email link is far shorter): anything longer is refused unread
MAX_TOKEN_LENGTH = 300
INVALID = "This link is not valid."
#: the first second after the last one a datetime can hold (10000-01-01 UTC)
_END_OF_TIME = 253_402_300_800


class BadLink(Exception):
    """The link was forged, mangled, is someone else's, or has run out (`expired`): a 400 or a
    410 page that says so, never a 500."""

    def __init__(self, message: str = INVALID, *, expired: bool = False):
        super().__init__(message)
        self.expired = expired


def _serializer(salt: str, dated: bool) -> URLSafeSerializer:
    kind = URLSafeTimedSerializer if dated else URLSafeSerializer
    return kind(current_app.config["SECRET_KEY"], salt=salt)


def sign(salt: str, payload: dict[str, Any], *, dated: bool = False) -> str:
    """A token carrying `payload`, signed for one purpose (`dated`: it also carries when it was made)."""
    return _serializer(salt, dated).dumps(payload)


def read(token: str, salt: str, *, max_age: int | None = None, expired: str = "This link has expired.") -> dict:
    """The payload of a token signed for `salt`; with `max_age` (seconds) the token must be dated
    and younger than that. Raises BadLink."""
    if len(token) > MAX_TOKEN_LENGTH:
        raise BadLink()
    try:
        if max_age is None:
            data = _serializer(salt, False).loads(token)
        else:
            data = _serializer(salt, True).loads(token, max_age=max_age)
    except SignatureExpired:
        raise BadLink(expired, expired=True) from None
    except BadSignature:
        raise BadLink() from None
    if not isinstance(data, dict):
        raise BadLink()
    return data


def whole(data: dict, name: str, *, upper: int = 2**31) -> int:
    """A whole number from 1 to `upper` - 1 carried in a payload, or BadLink (a bool is not one)."""
    value = data.get(name)
    if not isinstance(value, int) or isinstance(value, bool) or not 0 < value < upper:
        raise BadLink()
    return value


def instant(data: dict, name: str) -> datetime:
    """An instant carried in a payload as whole seconds since 1970 (UTC), or BadLink."""
    return datetime.fromtimestamp(whole(data, name, upper=_END_OF_TIME), UTC)


def absolute(path: str) -> str:
    """The link as an email carries it: the app's public address and the path."""
    return f"{current_app.config['BASE_URL']}{path}"
