"""Shared fixtures: an app on a real database (SQLite file or PostgreSQL), clients, factories.

The schema is built once per run by the Alembic migrations (so tests exercise the real schema,
PostgreSQL's exclusion constraints included) and emptied between tests.
Set TEST_DATABASE_URL=postgresql+psycopg://... to run on PostgreSQL; SQLite otherwise.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

import config
from scheduler import create_app
from scheduler.extensions import db
from scheduler.models import Base, Patient, Practitioner, Treatment, User
from scheduler.staff import tokens, users

LONDON = ZoneInfo("Europe/London")
#: Monday 1 March 2027: "today" of the API, page and reminder tests (08:00 London is 08:00 UTC)
TODAY = date(2027, 3, 1)
TUESDAY = date(2027, 3, 2)
#: the catalogue's cosmetic row of docs/rules.md, for make_treatment(**COSMETIC)
COSMETIC = dict(
    name="Cosmetic lines (glabellar, forehead, crow's feet)",
    kind="cosmetic",
    product="BOTOX Cosmetic",
    duration_minutes=20,
    min_interval_days=90,
    remind_from="P3M",
    remind_until="P6M",
    follow_up_after="P14D",
)
WEEKDAYS = {d: [["09:00", "17:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}


@pytest.fixture(autouse=True, scope="session")
def _instance_folder(tmp_path_factory) -> Iterator[None]:
    """Apps made with the development settings keep their files (the signing key made when
    SECRET_KEY is unset) in a temporary instance folder, not the repository's."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(config, "INSTANCE", tmp_path_factory.mktemp("app") / "instance")
        yield


def _prepare_postgres(url: str) -> None:
    """Creates a fresh, empty test database on the PostgreSQL server."""
    target = make_url(url)
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{target.database}"'))
    admin.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    """The test database URL, with the schema migrated to head."""
    url = os.environ.get("TEST_DATABASE_URL", "").strip()
    if url.startswith("postgresql"):
        worker = os.environ.get("PYTEST_XDIST_WORKER", "")
        if worker:
            url = str(make_url(url).set(database=f"{make_url(url).database}_{worker}"))
        _prepare_postgres(url)
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
        db.engine.dispose()
    return url


def _empty_all_tables() -> None:
    """Removes every row, keeping the schema."""
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
    else:
        for name in tables:
            db.session.execute(text(f"DELETE FROM {name}"))
    db.session.commit()


class FreshContextClient(FlaskClient):
    """Runs each request in its own app context, as a real server would.

    The test itself holds an app context (for factories and assertions); without this, requests
    would share its `g` (the signed-in user) and its database session. The test's own session
    commits before each request (so the request sees what the test made) and after it (so the
    test reads what the request wrote, not an older snapshot).
    """

    def open(self, *args: Any, **kwargs: Any):
        db.session.commit()
        try:
            with self.application.app_context():
                return super().open(*args, **kwargs)
        finally:
            db.session.commit()


@pytest.fixture
def app(database_url: str, tmp_path) -> Iterator[Any]:
    """A testing app bound to the emptied test database, inside an app context."""
    app = create_app(
        "testing",
        {"SQLALCHEMY_DATABASE_URI": database_url, "OUTBOX_DIR": str(tmp_path / "outbox"), "WTF_CSRF_ENABLED": True},
    )
    app.test_client_class = FreshContextClient
    with app.app_context():
        _empty_all_tables()
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app):
    """A test client (pages and API)."""
    return app.test_client()


@pytest.fixture
def runner(app):
    """A CLI runner for the flask commands."""
    return app.test_cli_runner()


@pytest.fixture
def is_postgres(app) -> bool:
    """Whether this run is on PostgreSQL."""
    return db.engine.dialect.name == "postgresql"


# --- factories ------------------------------------------------------------------------------


PASSWORD = "correct horse battery"


@pytest.fixture
def make_user(app):
    """Creates a staff user: make_user("admin") or make_user("receptionist", email=...)."""

    def make(role: str = "receptionist", email: str | None = None) -> User:
        email = email or f"{role}{db.session.query(User).count() + 1}@example.com"
        user = users.create(email, role, PASSWORD, name=role.title(), actor_label="test")
        db.session.commit()
        return user

    return make


class Api:
    """A test client that sends a bearer token and JSON."""

    def __init__(self, client, token: str | None):
        self.client = client
        self.token = token

    def _headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        return headers | (extra or {})

    def get(self, path: str, **params: Any):
        return self.client.get(f"/api/v1{path}", query_string=params, headers=self._headers())

    def post(self, path: str, json: Any = None, data: bytes | str | None = None):
        if data is not None:
            return self.client.post(
                f"/api/v1{path}", data=data, headers=self._headers({"Content-Type": "application/json"})
            )
        return self.client.post(f"/api/v1{path}", json=json, headers=self._headers())

    def patch(self, path: str, json: Any = None):
        return self.client.patch(f"/api/v1{path}", json=json, headers=self._headers())


@pytest.fixture
def api_as(app, client, make_user):
    """api_as("admin") / api_as("receptionist"): an API client with a fresh token."""

    def make(role: str = "receptionist") -> Api:
        user = make_user(role)
        token = tokens.issue_token(user, actor_label="test")
        db.session.commit()
        return Api(client, token)

    return make


@pytest.fixture
def admin_api(api_as) -> Api:
    return api_as("admin")


@pytest.fixture
def reception_api(api_as) -> Api:
    return api_as("receptionist")


@pytest.fixture
def make_treatment(app):
    """Creates a treatment (defaults: the chronic migraine row of docs/rules.md)."""

    def make(**fields: Any) -> Treatment:
        values = (
            dict(
                name=f"Treatment {db.session.query(Treatment).count() + 1}",
                kind="therapeutic",
                product="BOTOX",
                duration_minutes=30,
                min_interval_days=84,
                remind_from="P12W",
                remind_until="P6M",
                reminder_count=3,
                follow_up_after=None,
                active=True,
            )
            | fields
        )
        treatment = Treatment(**values)
        db.session.add(treatment)
        db.session.commit()
        return treatment

    return make


@pytest.fixture
def make_practitioner(app):
    """Creates a practitioner working 09:00-17:00 on weekdays unless told otherwise."""

    def make(**fields: Any) -> Practitioner:
        values = (
            dict(
                name=f"Dr {db.session.query(Practitioner).count() + 1}", email=None, working_hours=WEEKDAYS, active=True
            )
            | fields
        )
        practitioner = Practitioner(**values)
        db.session.add(practitioner)
        db.session.commit()
        return practitioner

    return make


@pytest.fixture
def make_patient(app):
    """Creates a patient."""

    def make(**fields: Any) -> Patient:
        n = db.session.query(Patient).count() + 1
        values = (
            dict(
                first_name="Pat",
                last_name=f"Ient{n}",
                email=f"patient{n}@example.net",
                phone=f"07700 900{n:03d}",
                date_of_birth=date(1980, 1, 1),
                reminders_opt_in=True,
            )
            | fields
        )
        patient = Patient(**values)
        db.session.add(patient)
        db.session.commit()
        return patient

    return make


def london(day: date, hh: int, mm: int = 0) -> datetime:
    """A Europe/London wall-clock time as an aware UTC instant."""
    return datetime.combine(day, time(hh, mm), tzinfo=LONDON).astimezone(UTC)


def csrf_from(html: str) -> str:
    """The CSRF token of the first form in a page."""
    import re

    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    assert match, "no csrf_token in the page"
    return match.group(1)


@pytest.fixture
def sign_in(client, make_user):
    """sign_in("admin") signs a new user of that role in on `client` and returns the user."""

    def do(role: str = "receptionist") -> User:
        user = make_user(role)
        token = csrf_from(client.get("/login").get_data(as_text=True))
        resp = client.post("/login", data={"email": user.email, "password": PASSWORD, "csrf_token": token})
        assert resp.status_code == 302, resp.get_data(as_text=True)
        return user

    return do


NOW = london(TODAY, 8)


@pytest.fixture
def frozen() -> Iterator[Any]:
    """Freezes the clock at NOW (tick=False) for the whole test; `frozen.move_to(instant)` moves it."""
    import time_machine

    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller
