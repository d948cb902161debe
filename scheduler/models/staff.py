"""Staff users (admins and receptionists) and their API tokens."""

from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from scheduler.models.base import Base, UTCDateTime, utcnow

ROLES = ("admin", "receptionist")


class User(UserMixin, Base):
    """A member of staff who signs in to the pages or calls the API."""

    __tablename__ = "users"
    __table_args__ = (CheckConstraint("role IN ('admin', 'receptionist')", name="role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: stored lower-cased; the sign-in form lower-cases what is typed
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120), default="")
    role: Mapped[str] = mapped_column(String(20))
    #: werkzeug scrypt hash; the password itself is never stored
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    #: consecutive failed sign-ins since the last success, for the lock-out
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: carried in the session cookie; a bump (sign-out, password reset, role change,
    #: deactivation) makes every session signed in before it stale
    session_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    tokens: Mapped[list[ApiToken]] = relationship(back_populates="user")

    @property
    def is_admin(self) -> bool:
        """Whether this user may use admin pages and endpoints."""
        return self.role == "admin"

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return bool(self.active)

    def get_id(self) -> str:
        """What the session cookie keeps: the id and the session version ("12:3")."""
        return f"{self.id}:{self.session_version}"


class ApiToken(Base):
    """A bearer token for the JSON API; only its SHA-256 digest is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    #: hex SHA-256 of the token; the token is shown once, when it is made
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    #: the first characters of the token, so staff can tell tokens apart in lists
    prefix: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: stamped when the token authenticates, at most once a minute (users.TOKEN_STAMP_SECONDS)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: from this instant the token no longer authenticates; None: it does not expire
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(back_populates="tokens")
