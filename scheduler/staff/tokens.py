"""API tokens: issued with an optional expiry, stamped when used, revoked."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update

from scheduler.db import begin_write
from scheduler.extensions import db
from scheduler.models import ApiToken, User
from scheduler.services import audit, clock
from scheduler.services.errors import Invalid, NotFound

#: a token's last use is written when the stored one is at least this old
STAMP_EVERY = timedelta(seconds=60)
#: the longest expiry `issue_token` accepts, in days
MAX_DAYS = 3650


class TokenExpired(Exception):
    """The token is known and unrevoked, but its expiry has passed."""

    def __init__(self, expired_at: datetime):
        super().__init__(f"token expired at {expired_at.isoformat()}")
        self.expired_at = expired_at


def token_digest(token: str) -> str:
    """The stored form of an API token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def issue_token(
    user: User, *, days: int | None = None, actor: User | None = None, actor_label: str | None = None
) -> str:
    """Creates an API token for a user (expiring after `days`, if given) and returns it; only its digest is kept."""
    expires_at = None
    if days is not None:
        if not 1 <= days <= MAX_DAYS:
            raise Invalid(f"A token lasts from 1 to {MAX_DAYS} days.", fields={"days": "out of range"})
        expires_at = clock.now() + timedelta(days=days)
    token = "csk_" + secrets.token_urlsafe(32)
    row = ApiToken(user_id=user.id, token_hash=token_digest(token), prefix=token[:12], expires_at=expires_at)
    db.session.add(row)
    db.session.flush()
    details = {"token_id": row.id, "prefix": row.prefix}
    if expires_at is not None:
        details["expires_at"] = expires_at.isoformat()
    audit.record("token.issued", "user", user.id, actor, details, actor_label=actor_label)
    return token


def user_for_token(token: str) -> User | None:
    """The active user behind a bearer token, or None for an unknown or revoked one.

    Raises TokenExpired for a token past its expiry. Stamps the token's last use when the stored
    one is older than STAMP_EVERY; the caller commits.
    """
    if not token or len(token) > 200:
        return None
    found = db.session.execute(
        select(ApiToken, User)
        .join(User, ApiToken.user_id == User.id)
        .where(ApiToken.token_hash == token_digest(token), ApiToken.revoked_at.is_(None), User.active.is_(True))
    ).first()
    if found is None:
        return None
    row, user = found
    now = clock.now()
    if row.expires_at is not None and row.expires_at <= now:
        raise TokenExpired(row.expires_at)
    if row.last_used_at is None or row.last_used_at <= now - STAMP_EVERY:
        _stamp(row.id, now)
    return user


def _stamp(token_id: int, now: datetime) -> None:
    """Records the token's use in the request's transaction (on SQLite, made a writer first: a
    reading transaction cannot safely start writing). Of concurrent requests, the first stamps."""
    begin_write()
    stale = or_(ApiToken.last_used_at.is_(None), ApiToken.last_used_at <= now - STAMP_EVERY)
    db.session.execute(
        update(ApiToken)
        .where(ApiToken.id == token_id, stale)
        .values(last_used_at=now)
        .execution_options(synchronize_session=False)
    )


def revoke_token(token_id: int, *, actor: User | None) -> ApiToken:
    """Revokes a token so it no longer authenticates."""
    row = db.session.get(ApiToken, token_id)
    if row is None:
        raise NotFound(f"There is no token with id {token_id}.")
    if row.revoked_at is None:
        row.revoked_at = clock.now()
        audit.record("token.revoked", "user", row.user_id, actor, {"token_id": row.id, "prefix": row.prefix})
    return row


def list_tokens(user_id: int | None = None) -> list[ApiToken]:
    """API tokens, newest first, optionally of one user."""
    stmt = select(ApiToken).order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
    if user_id is not None:
        stmt = stmt.where(ApiToken.user_id == user_id)
    return list(db.session.scalars(stmt))
