"""Dropped and unreachable database connections: no 500s, no tracebacks (scheduler.reconnect, errors).

PostgreSQL backends are terminated for real (`pg_terminate_backend`), as an operator or a server
restart would; an unreachable database is a closed port (PostgreSQL) or a file that cannot be
opened (SQLite).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
from flask import has_request_context
from sqlalchemy import event, func, select
from sqlalchemy.engine import make_url

from scheduler import create_app
from scheduler.extensions import db
from scheduler.models import Appointment
from scheduler.staff import tokens
from scheduler.web.forms import slot_value
from tests.conftest import london
from tests.web.conftest import TUESDAY, csrf_from, text_of


@pytest.fixture
def postgres(app):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL: an SQLite file has no server connection to drop")


def _terminate(app, where: str, params: dict) -> int:
    """Terminates the test database's backends matching `where` (waiting for them to end); how many.

    On a psycopg connection of its own, outside SQLAlchemy: the app counts a request's statements."""
    import psycopg

    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    with psycopg.connect(
        url.set(drivername="postgresql").render_as_string(hide_password=False), autocommit=True
    ) as conn:
        return conn.execute(
            "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid, 5000)) FROM pg_stat_activity "
            f"WHERE datname = %(name)s AND pid <> pg_backend_pid() AND {where}",
            {"name": url.database} | params,
        ).fetchone()[0]


def terminate_all_backends(app) -> int:
    """What the operator did: every connection of the app's database, dropped by the server.

    The test's own session first gives its connection back to the pool, as a finished request would."""
    db.session.commit()
    return _terminate(app, "true", {})


@contextmanager
def dropped_before(app, first: Callable[[str], bool]) -> Iterator[list[str]]:
    """During a request, the server drops the connection just before the first statement matching
    `first` is sent (once); yields the statements it was dropped before."""
    seen: list[str] = []

    def drop(conn, _cursor, statement, _params, _context, _many) -> None:
        if seen or not has_request_context() or not first(statement):
            return
        seen.append(statement)
        pid = conn.connection.dbapi_connection.info.backend_pid
        assert _terminate(app, "pid = %(pid)s", {"pid": pid}) == 1

    event.listen(db.engine, "before_cursor_execute", drop)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", drop)


def is_select(statement: str) -> bool:
    return statement.lstrip().upper().startswith("SELECT")


def booking_form(client, clinic) -> dict:
    """The booking form's fields for Olivia, migraine with Dr Hart on Tuesday 11:00, with its CSRF token."""
    page = client.get(f"/book?patient_id={clinic.olivia.id}").get_data(as_text=True)
    return {
        "patient_id": clinic.olivia.id,
        "treatment_id": clinic.migraine.id,
        "practitioner_id": "",
        "date": str(TUESDAY),
        "slot": slot_value(clinic.hart.id, london(TUESDAY, 11)),
        "csrf_token": csrf_from(page),
    }


def appointments() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(Appointment)) or 0


def test_requests_after_the_backends_were_terminated_succeed(postgres, app, client, clinic, reception, caplog):
    """Every pooled connection dropped between requests: the next page and the next booking work,
    the first time (the pool's ping replaced the dead connections before the requests got them)."""
    caplog.set_level(logging.WARNING, logger="scheduler.web.errors")
    assert client.get("/patients").status_code == 200
    assert terminate_all_backends(app) >= 1
    resp = client.get("/patients?q=smith")
    assert resp.status_code == 200 and "Olivia Smith" in text_of(resp)
    form = booking_form(client, clinic)
    assert terminate_all_backends(app) >= 1
    resp = client.post("/book", data=form)
    assert resp.status_code == 302, text_of(resp)
    assert appointments() == 1
    assert "running the request again" not in caplog.text


def test_a_connection_dropped_at_the_first_statement_runs_the_request_again(
    postgres, app, client, clinic, reception, caplog
):
    """Dropped after the pool's ping, before the request's first statement: run again, once."""
    caplog.set_level(logging.WARNING, logger="scheduler.web.errors")
    with dropped_before(app, is_select) as dropped:
        resp = client.get("/patients?q=smith")
    assert dropped and resp.status_code == 200 and "Olivia Smith" in text_of(resp)
    form = booking_form(client, clinic)
    with dropped_before(app, is_select) as dropped:
        resp = client.post("/book", data=form)
    assert dropped and resp.status_code == 302, text_of(resp)
    assert appointments() == 1
    assert caplog.text.count("running the request again") == 2


def test_a_connection_dropped_after_the_first_statement_answers_503(postgres, app, client, clinic, reception):
    """Past the first statement something may be written: no second run, a 503 page, and the
    booking's transaction died with the connection. Booking again then works."""
    form = booking_form(client, clinic)
    with dropped_before(app, lambda statement: not is_select(statement)) as dropped:
        resp = client.post("/book", data=form)
    assert dropped and resp.status_code == 503
    assert "The database is not answering" in text_of(resp) and resp.headers["Retry-After"]
    assert appointments() == 0
    resp = client.post("/book", data=booking_form(client, clinic))
    assert resp.status_code == 302 and appointments() == 1


def test_the_api_runs_again_after_a_drop_at_its_first_statement(postgres, app, client, reception_api):
    with dropped_before(app, is_select) as dropped:
        resp = reception_api.get("/patients")
    assert dropped and resp.status_code == 200 and resp.get_json() == {"items": []}


@pytest.fixture
def unreachable(app, tmp_path):
    """A second app, with the same secret key, whose database cannot be reached."""
    if db.engine.dialect.name == "postgresql":
        url = "postgresql+psycopg://postgres@127.0.0.1:1/scheduler"  # nothing listens on port 1
    else:
        url = f"sqlite:///{tmp_path / 'no-such-folder' / 'scheduler.db'}"
    return create_app("testing", {"SQLALCHEMY_DATABASE_URI": url, "WTF_CSRF_ENABLED": True})


def test_an_unreachable_database_answers_503_pages(unreachable, client, clinic, reception):
    """A signed-in receptionist's pages, and a 404 (whose page loads the user), answer a rendered 503."""
    outage = unreachable.test_client()
    outage.set_cookie("session", client.get_cookie("session").value)
    for path in ("/patients", "/", "/no/such/page"):
        resp = outage.get(path)
        assert resp.status_code == 503, path
        page = text_of(resp)
        assert "The database is not answering" in page and "try again" in page and "Traceback" not in page
        assert "Today's calendar" in page and resp.headers["Retry-After"] == "5"
    assert client.get("/patients").status_code == 200  # the real database was never the problem


def test_an_unreachable_database_answers_503_in_the_api(unreachable, make_user):
    token = tokens.issue_token(make_user("receptionist"), actor_label="test")
    db.session.commit()
    resp = unreachable.test_client().get("/api/v1/patients", headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 503 and resp.headers["Retry-After"] == "5"
    assert resp.get_json()["error"]["code"] == "unavailable"


def test_the_500_page_reads_nothing_from_the_database(app, client, clinic, reception, monkeypatch):
    """A page that failed answers its 500 page without another statement (the database may be
    what failed): no signed-in user, no scheduler banner."""
    from scheduler.patients import recall

    failed: list[str] = []

    def refuse(_conn, _cursor, statement, *_args) -> None:
        if failed:
            raise AssertionError(f"the error page read the database: {statement}")

    def broken(*_args, **_kwargs):
        failed.append("recall")
        raise RuntimeError("boom")

    monkeypatch.setattr(recall, "due_list", broken)
    event.listen(db.engine, "before_cursor_execute", refuse)
    try:
        resp = client.get("/recall")
    finally:
        event.remove(db.engine, "before_cursor_execute", refuse)
    assert failed and resp.status_code == 500
    page = text_of(resp)
    assert "Something went wrong" in page and "Nothing was changed" in page and "Today's calendar" in page
