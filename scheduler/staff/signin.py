"""Staff sign-in, with a lock-out that holds whatever the number of concurrent attempts.

Each attempt on a known account first takes one of the LOGIN_MAX_FAILURES tries of the current
window in one conditional UPDATE, committed before the password is checked: the database
serialises those UPDATEs (PostgreSQL's row lock, SQLite's write lock), so however many requests
arrive at once, at most LOGIN_MAX_FAILURES passwords are checked before the account is locked.
The try that reaches the limit sets the lock itself. A right password resets the count (and
lifts a lock its own try set); a wrong one leaves its try counted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import bindparam, case, or_, select, update

from scheduler.db import begin_write
from scheduler.extensions import db
from scheduler.models import User, UTCDateTime
from scheduler.services import audit, clock
from scheduler.staff import users


@dataclass(frozen=True)
class Outcome:
    """What an attempt came to: a signed-in user, a lock-out until an instant, or neither (no match)."""

    user: User | None = None
    locked_until: datetime | None = None


@dataclass(frozen=True)
class _Try:
    """A try taken from the window: the hash to check, and whether this try locked the account."""

    password_hash: str
    active: bool
    locked: bool


def attempt(email: str, password: str) -> Outcome:
    """Checks an email and password, counting the try against the account's lock-out window."""
    now = clock.now()
    user_id = db.session.scalar(select(User.id).where(User.email == users.normalise_email(email)))
    if user_id is None:
        users.verify_password(None, password)
        return Outcome()
    taken = _take_try(user_id, now)
    db.session.commit()
    if taken is None:
        return Outcome(locked_until=_locked_until(user_id, now))
    if users.password_matches(taken.password_hash, password) and taken.active:
        return Outcome(user=_signed_in(user_id))
    if taken.locked:
        _record_lock_out(user_id)
    return Outcome()


def _take_try(user_id: int, now: datetime) -> _Try | None:
    """Counts one try, locking the account when it is the last of the window; None when locked."""
    cfg = current_app.config
    until = bindparam("until", now + timedelta(seconds=cfg["LOGIN_LOCKOUT_SECONDS"]), type_=UTCDateTime)
    last = User.failed_logins + 1 >= cfg["LOGIN_MAX_FAILURES"]
    stmt = (
        update(User)
        .where(User.id == user_id, or_(User.locked_until.is_(None), User.locked_until <= now))
        .values(
            failed_logins=case((last, 0), else_=User.failed_logins + 1),
            locked_until=case((last, until), else_=None),
        )
        .returning(User.password_hash, User.active, User.locked_until)
        .execution_options(synchronize_session=False)
    )
    row = db.session.execute(stmt).first()
    if row is None:
        return None
    return _Try(row.password_hash, bool(row.active), row.locked_until is not None)


def _locked_until(user_id: int, now: datetime) -> datetime:
    """Until when the account is locked (at least a little longer, if a sign-in just lifted the lock)."""
    until = db.session.scalar(select(User.locked_until).where(User.id == user_id))
    return until if until is not None and until > now else now + timedelta(seconds=1)


def _signed_in(user_id: int) -> User:
    """Resets the count and any lock-out after a right password, and audits the sign-in."""
    begin_write()
    db.session.execute(
        update(User)
        .where(User.id == user_id)
        .values(failed_logins=0, locked_until=None)
        .execution_options(synchronize_session=False)
    )
    user = db.session.get(User, user_id)
    audit.record("user.signed_in", "user", user.id, user)
    db.session.commit()
    return user


def _record_lock_out(user_id: int) -> None:
    """Audits the lock-out this attempt's wrong password completed."""
    begin_write()
    until = db.session.scalar(select(User.locked_until).where(User.id == user_id))
    audit.record("user.locked_out", "user", user_id, None, {"until": until.isoformat() if until else None})
    db.session.commit()
