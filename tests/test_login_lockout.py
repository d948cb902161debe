"""The sign-in lock-out under concurrent attempts: 40 threads behind a Barrier post passwords at once,
and no more than LOGIN_MAX_FAILURES passwords are ever checked before the account is locked.

Each thread has its own app context, test client and database connection, as real requests would.
"""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import time_machine
from sqlalchemy import func, select

from scheduler.extensions import db
from scheduler.models import AuditEvent, User
from scheduler.services import clock
from scheduler.staff import users
from tests.conftest import PASSWORD, csrf_from

THREADS = 40


def _post_login(client, email: str, password: str):
    token = csrf_from(client.get("/login").get_data(as_text=True))
    return client.post("/login", data={"email": email, "password": password, "csrf_token": token})


def _counted_checks(monkeypatch) -> list[str]:
    """Every password the app checks against a stored hash, in order; each check is slowed a little
    so that concurrent requests really overlap around it."""
    checked: list[str] = []
    guard = threading.Lock()
    real = users.check_password_hash

    def check(password_hash: str, password: str) -> bool:
        with guard:
            checked.append(password)
        time.sleep(0.05)
        return real(password_hash, password)

    monkeypatch.setattr(users, "check_password_hash", check)
    return checked


def test_concurrent_sign_ins_check_at_most_the_limit_and_the_right_password_finds_the_lock(app, make_user, monkeypatch):
    user = make_user()
    email, limit = user.email, app.config["LOGIN_MAX_FAILURES"]
    checked = _counted_checks(monkeypatch)
    barrier = threading.Barrier(THREADS)
    answered = threading.Semaphore(0)  # released once per answered wrong password
    results: dict[int, int] = {}
    errors: list[BaseException] = []
    signed_in_after: list[int] = []

    def worker(i: int) -> None:
        right = i == THREADS - 1
        try:
            with app.app_context():
                client = app.test_client()
                token = csrf_from(client.get("/login").get_data(as_text=True))
                barrier.wait(timeout=60)
                if right:  # still among the others, once `limit` wrong passwords were answered
                    for _ in range(limit):
                        assert answered.acquire(timeout=60)
                password = PASSWORD if right else f"wrong password {i}"
                data = {"email": email, "password": password, "csrf_token": token}
                results[i] = client.post("/login", data=data).status_code
                if right:
                    signed_in_after.append(client.get("/patients").status_code)
                else:
                    answered.release()
                db.session.remove()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=180)
    assert not errors, errors
    assert len(results) == THREADS

    assert len(checked) <= limit, f"{len(checked)} passwords checked with a limit of {limit}"
    assert PASSWORD not in checked
    assert results[THREADS - 1] == 429 and signed_in_after == [302]
    wrong = [status for i, status in results.items() if i != THREADS - 1]
    assert set(wrong) <= {401, 429} and wrong.count(401) == len(checked)
    db.session.rollback()  # a fresh snapshot (SQLite's read transaction began before the threads)
    stored = db.session.get(User, user.id)
    assert stored.locked_until is not None and stored.locked_until > clock.now()
    lock_outs = select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "user.locked_out")
    assert db.session.scalar(lock_outs) == 1


def test_after_the_lock_out_window_the_right_password_signs_in(app, client, make_user):
    user = make_user()
    limit, seconds = app.config["LOGIN_MAX_FAILURES"], app.config["LOGIN_LOCKOUT_SECONDS"]
    with time_machine.travel(clock.now(), tick=False) as traveller:
        statuses = [_post_login(client, user.email, "wrong password!").status_code for _ in range(limit)]
        assert statuses == [401] * limit
        assert _post_login(client, user.email, PASSWORD).status_code == 429
        traveller.shift(timedelta(seconds=seconds + 1))
        assert _post_login(client, user.email, PASSWORD).status_code == 302
    db.session.rollback()
    stored = db.session.get(User, user.id)
    assert (stored.failed_logins, stored.locked_until) == (0, None)


def test_a_right_password_resets_the_count(app, client, make_user):
    user = make_user()
    limit = app.config["LOGIN_MAX_FAILURES"]
    for _ in range(limit - 1):
        assert _post_login(client, user.email, "wrong password!").status_code == 401
    assert _post_login(client, user.email, PASSWORD).status_code == 302
    client.post("/logout", data={"csrf_token": csrf_from(client.get("/").get_data(as_text=True))})
    for _ in range(limit - 1):
        assert _post_login(client, user.email, "wrong password!").status_code == 401
    assert _post_login(client, user.email, PASSWORD).status_code == 302
