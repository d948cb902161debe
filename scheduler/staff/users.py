"""Staff users and their passwords (API tokens: scheduler.staff.tokens)."""

from __future__ import annotations

import secrets

from sqlalchemy import func, select
from werkzeug.security import check_password_hash, generate_password_hash

from scheduler.extensions import db
from scheduler.models import ROLES, User
from scheduler.services import audit
from scheduler.services.errors import Conflict, Invalid, NotFound

MIN_PASSWORD_LENGTH = 10
#: a valid hash to compare against when the email is unknown, so timing reveals nothing
_DUMMY_HASH = generate_password_hash("not-a-real-password-" + secrets.token_hex(8))


def normalise_email(email: str) -> str:
    """Staff emails are compared case-insensitively."""
    return email.strip().lower()


def find_by_email(email: str) -> User | None:
    """The user with that email, or None."""
    return db.session.scalar(select(User).where(User.email == normalise_email(email)))


def create(
    email: str, role: str, password: str, *, name: str = "", actor: User | None = None, actor_label: str | None = None
) -> User:
    """Creates a staff user with a hashed password."""
    email = normalise_email(email)
    if "@" not in email or len(email) > 254 or email.startswith("@") or email.endswith("@"):
        raise Invalid(f"{email!r} is not an email address.", fields={"email": "not an email address"})
    if role not in ROLES:
        raise Invalid(f"Role must be one of {', '.join(ROLES)}.", fields={"role": "unknown role"})
    check_password(password)
    if find_by_email(email) is not None:
        raise Conflict(f"A user with email {email} already exists.", code="duplicate", fields={"email": "already used"})
    user = User(email=email, role=role, name=name, password_hash=hash_password(password), active=True)
    db.session.add(user)
    db.session.flush()
    audit.record("user.created", "user", user.id, actor, {"email": email, "role": role}, actor_label=actor_label)
    return user


def hash_password(password: str) -> str:
    """The stored form of a password (scrypt; the test suite configures a cheaper method)."""
    from flask import current_app

    return generate_password_hash(password, method=current_app.config.get("PASSWORD_HASH_METHOD", "scrypt"))


def check_password(password: str) -> None:
    """Refuses passwords too short to be safe."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise Invalid(
            f"The password must be at least {MIN_PASSWORD_LENGTH} characters long.", fields={"password": "too short"}
        )
    if len(password) > 512:
        raise Invalid("The password is too long.", fields={"password": "too long"})


def verify_password(user: User | None, password: str) -> bool:
    """Checks a password in constant-ish time whether or not the user exists."""
    if user is None:
        password_matches(_DUMMY_HASH, password)
        return False
    return password_matches(user.password_hash, password)


def password_matches(password_hash: str, password: str) -> bool:
    """Whether the password is the one hashed: the deliberately slow check every sign-in makes."""
    return check_password_hash(password_hash, password)


def signed_in(session_id: str) -> User | None:
    """The active user a signed-in session names, or None (an unknown, inactive or malformed id,
    or a session older than the user's last sign-out, password reset, role change or deactivation).

    `session_id` is what User.get_id() put in the session cookie: "<user id>:<session version>".
    Read fresh on each request, so a deactivation or a change of role counts from the next page.
    """
    user_id, _, version = session_id.partition(":")
    if not (user_id.isdigit() and version.isdigit() and len(user_id) <= 18 and len(version) <= 18):
        return None
    user = db.session.get(User, int(user_id))
    return user if user is not None and user.active and user.session_version == int(version) else None


def end_sessions(user: User) -> None:
    """Makes every session signed in as this user stale from the next request (the caller commits)."""
    user.session_version = User.session_version + 1


def count_admins() -> int:
    """How many active admins exist."""
    stmt = select(func.count()).select_from(User).where(User.role == "admin", User.active.is_(True))
    return db.session.scalar(stmt) or 0


def list_users() -> list[User]:
    """Every staff user, admins first."""
    return list(db.session.scalars(select(User).order_by(User.role, User.email)))


def get(user_id: int) -> User:
    """Loads a user or raises NotFound."""
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound(f"There is no user with id {user_id}.")
    return user


def _keep_an_admin(user: User, *, demoting: bool) -> None:
    """Refuses to leave the clinic without an active admin."""
    if demoting and user.role == "admin" and user.active and count_admins() <= 1:
        raise Conflict("The clinic needs at least one active admin.", code="last_admin")


def set_role(user_id: int, role: str, *, actor: User | None) -> User:
    """Changes a user's role (audited)."""
    if role not in ROLES:
        raise Invalid(f"Role must be one of {', '.join(ROLES)}.", fields={"role": "unknown role"})
    user = get(user_id)
    if role != user.role:
        _keep_an_admin(user, demoting=role != "admin")
        audit.record("user.role_changed", "user", user.id, actor, {"from": user.role, "to": role})
        user.role = role
        end_sessions(user)
    return user


def set_active(user_id: int, active: bool, *, actor: User | None) -> User:
    """Deactivates (or reactivates) a user; a deactivated user's tokens stop working too."""
    user = get(user_id)
    if active != user.active:
        _keep_an_admin(user, demoting=not active)
        user.active = active
        if not active:
            end_sessions(user)
        audit.record("user.activated" if active else "user.deactivated", "user", user.id, actor)
    return user


def reset_password(user_id: int, password: str, *, actor: User | None) -> User:
    """Sets a new password, lifts any lock-out and ends the user's sessions (audited, the password is not)."""
    check_password(password)
    user = get(user_id)
    user.password_hash = hash_password(password)
    user.failed_logins = 0
    user.locked_until = None
    end_sessions(user)
    audit.record("user.password_reset", "user", user.id, actor)
    return user
