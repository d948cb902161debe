"""Configuration read from the environment when the app is created (docs/interfaces.md).

Nothing is read at import time: `load_config()` is called by `create_app()`, so tests and
commands that change the environment see their own values.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dotenv import load_dotenv

ROOT = Path(__file__).resolve().parent
INSTANCE = ROOT / "instance"
ENVIRONMENTS = ("production", "development", "testing")
#: under the instance folder: the key development signs with when SECRET_KEY is not set
SECRET_KEY_FILE = "secret_key"


class ConfigError(RuntimeError):
    """A setting is missing or malformed; the app refuses to start."""


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    """Reads an on/off variable."""
    value = env.get(name, "").strip().lower()
    if not value:
        return default
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{name} must be on or off, got {value!r}")


def _int(env: Mapping[str, str], name: str, default: int, minimum: int = 0) -> int:
    """Reads an integer variable."""
    value = env.get(name, "").strip()
    if not value:
        return default
    try:
        number = int(value)
    except ValueError:
        raise ConfigError(f"{name} must be an integer, got {value!r}") from None
    if number < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, got {number}")
    return number


def _zone(env: Mapping[str, str]) -> str:
    """CLINIC_TIMEZONE, refused unless it names an IANA zone (a long name is an OSError, not a ValueError)."""
    name = env.get("CLINIC_TIMEZONE", "").strip() or "Europe/London"
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ConfigError(f"CLINIC_TIMEZONE {name!r} is not an IANA time zone") from None
    return name


def database_url(env: Mapping[str, str]) -> str:
    """The configured database URL, or the embedded SQLite file under instance/."""
    url = env.get("DATABASE_URL", "").strip()
    if not url:
        return f"sqlite:///{INSTANCE / 'scheduler.db'}"
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def development_secret(instance: Path) -> str:
    """The key kept in `instance`/secret_key, made there (random, mode 0600) the first time."""
    path = instance / SECRET_KEY_FILE
    try:
        key = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        key = _new_secret_file(path)
    if len(key) < 32:
        raise ConfigError(f"{path} holds no usable key (under 32 characters); delete it to make a new one")
    return key


def _new_secret_file(path: Path) -> str:
    """Writes a new random key to `path`, or reads the one another process wrote there first."""
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    draft = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as out:
            out.write(key + "\n")
        os.link(draft, path)  # all at once, and never over a key another process made meanwhile
    except FileExistsError:
        return path.read_text(encoding="ascii").strip()
    finally:
        draft.unlink()
    return key


@cache
def _testing_secret() -> str:
    """The test suite's key: random, the same for every app of one process."""
    return secrets.token_hex(32)


def _secret_key(name: str, env: Mapping[str, str]) -> str:
    """SECRET_KEY; without it, production refuses to start, development keeps one under instance/."""
    secret = env.get("SECRET_KEY", "").strip()
    if secret:
        return secret
    if name == "production":
        raise ConfigError("SECRET_KEY is required outside development and testing")
    return development_secret(INSTANCE) if name == "development" else _testing_secret()


def load_config(environment: str | None = None, env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Builds the Flask config for production, development or testing from the environment."""
    if env is None:
        load_dotenv(ROOT / ".env")
        env = os.environ
    name = (environment or env.get("APP_ENV") or "production").strip().lower()
    if name not in ENVIRONMENTS:
        raise ConfigError(f"APP_ENV must be one of {', '.join(ENVIRONMENTS)}, got {name!r}")
    relaxed = name != "production"
    secret = _secret_key(name, env)
    cfg: dict[str, Any] = {
        "ENV_NAME": name,
        "TESTING": name == "testing",
        "SECRET_KEY": secret,
        "SQLALCHEMY_DATABASE_URI": database_url(env),
        # a pooled connection the server dropped (a restart, a terminated backend) is replaced
        # before a request gets it: one round trip per checkout
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "CLINIC_NAME": env.get("CLINIC_NAME", "").strip() or "Harbour Lane Clinic",
        "CLINIC_TIMEZONE": _zone(env),
        "BASE_URL": (env.get("BASE_URL", "").strip() or "http://127.0.0.1:5000").rstrip("/"),
        "MAIL_SERVER": env.get("MAIL_SERVER", "").strip() or None,
        "MAIL_PORT": _int(env, "MAIL_PORT", 25, minimum=1),
        "MAIL_USE_TLS": _bool(env, "MAIL_USE_TLS", False),
        "MAIL_USE_SSL": _bool(env, "MAIL_USE_SSL", False),
        "MAIL_USERNAME": env.get("MAIL_USERNAME") or None,
        "MAIL_PASSWORD": env.get("MAIL_PASSWORD") or None,
        "MAIL_DEFAULT_SENDER": env.get("MAIL_DEFAULT_SENDER", "").strip() or "clinic@example.com",
        "MAIL_TIMEOUT_SECONDS": _int(env, "MAIL_TIMEOUT_SECONDS", 20, minimum=1),
        "SCHEDULER_EMBEDDED": _bool(env, "SCHEDULER_EMBEDDED", False),
        "REMINDER_SEND_HOURS": env.get("REMINDER_SEND_HOURS", "").strip() or "09:00-18:00",
        "REMINDER_SWEEP_SECONDS": _int(env, "REMINDER_SWEEP_SECONDS", 60, minimum=1),
        "PRE_VISIT_HOURS": _int(env, "PRE_VISIT_HOURS", 24, minimum=1),
        "SLOT_STEP_MINUTES": _int(env, "SLOT_STEP_MINUTES", 15, minimum=5),
        "OUTBOX_DIR": env.get("OUTBOX_DIR", "").strip() or str(INSTANCE / "outbox"),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": _bool(env, "SESSION_COOKIE_SECURE", not relaxed),
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        # A form left open all day at the front desk still posts; the token is tied to the session.
        "WTF_CSRF_TIME_LIMIT": None,
        "MAX_CONTENT_LENGTH": 1024 * 1024,
        "LOGIN_MAX_FAILURES": _int(env, "LOGIN_MAX_FAILURES", 5, minimum=1),
        "LOGIN_LOCKOUT_SECONDS": _int(env, "LOGIN_LOCKOUT_SECONDS", 300, minimum=1),
        "PASSWORD_HASH_METHOD": "scrypt",
        "CLINIC_PHONE": env.get("CLINIC_PHONE", "").strip() or None,
        # emails claimed (and checked, and committed) together; a batch ends far inside the lease
        "REMINDER_BATCH_SIZE": _int(env, "REMINDER_BATCH_SIZE", 200, minimum=1),
        "REMINDER_LEASE_SECONDS": _int(env, "REMINDER_LEASE_SECONDS", 600, minimum=30),
        "REMINDER_MAX_ATTEMPTS": _int(env, "REMINDER_MAX_ATTEMPTS", 6, minimum=1),
        "REMINDER_RETRY_BASE_SECONDS": _int(env, "REMINDER_RETRY_BASE_SECONDS", 300, minimum=1),
        "UNSUBSCRIBE_MAX_AGE_DAYS": _int(env, "UNSUBSCRIBE_MAX_AGE_DAYS", 400, minimum=1),
        "EMAIL_BODY_RETENTION_DAYS": _int(env, "EMAIL_BODY_RETENTION_DAYS", 730, minimum=1),
        "WAITLIST_OFFERS": _int(env, "WAITLIST_OFFERS", 3, minimum=1),
        # patients' own links: no moving or cancelling closer than this to the start (they call instead)
        "PATIENT_CHANGE_CUTOFF_HOURS": _int(env, "PATIENT_CHANGE_CUTOFF_HOURS", 24, minimum=0),
        "PATIENT_LINK_RATE_PER_MINUTE": _int(env, "PATIENT_LINK_RATE_PER_MINUTE", 30, minimum=1),
    }
    if name == "testing":
        # Hashing cost is no part of what the tests check; scrypt would dominate their run time.
        cfg["PASSWORD_HASH_METHOD"] = "pbkdf2:sha256:1000"
        cfg["SQLALCHEMY_DATABASE_URI"] = env.get("TEST_DATABASE_URL", "").strip() or "sqlite://"
        cfg["MAIL_SERVER"] = None
        cfg["SCHEDULER_EMBEDDED"] = False
    return cfg
