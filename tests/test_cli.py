"""The flask commands of CONTRACT §3: seed demo, users create, users token (exit codes, stderr)."""

from __future__ import annotations

from datetime import date, timedelta
from itertools import combinations

import pytest
import time_machine
from sqlalchemy import func, select

from scheduler.extensions import db
from scheduler.models import Appointment, AuditEvent, Patient, Practitioner, Treatment, TreatmentSession, User
from scheduler.staff import users
from tests.conftest import london

#: docs/rules.md's catalogue: name prefix -> (kind, product, minutes, min interval, from, until, count, follow-up)
RULES = {
    "Chronic migraine": ("therapeutic", "BOTOX", 30, 84, "P12W", "P6M", 3, None),
    "Cervical dystonia": ("therapeutic", "BOTOX", 30, 84, "P12W", "P6M", 3, "P4W"),
    "Chronic pain": ("therapeutic", "BOTOX", 30, 84, "P3M", "P6M", 3, "P4W"),
    "Cosmetic lines": ("cosmetic", "BOTOX Cosmetic", 20, 90, "P3M", "P6M", 3, "P14D"),
}
SEED_DAY = date(2027, 3, 3)  # a Wednesday


def count(model) -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def one_line_error(result) -> str:
    assert result.exit_code != 0, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].strip()
    return lines[0]


# --- seed demo -------------------------------------------------------------------------------


def test_seed_demo(runner):
    """One seeding (it takes a few seconds), every promise of CONTRACT §3 checked on it."""
    with time_machine.travel(london(SEED_DAY, 12), tick=False):
        result = runner.invoke(args=["seed", "demo"])
    assert result.exit_code == 0, (result.output, result.stderr, result.exception)
    _check_catalogue()
    _check_counts()
    _check_sessions()
    _check_no_double_booking()
    _check_recall_list()
    _check_passwords(result.output)
    # a second run refuses, and --if-empty (the run script's) is a quiet no-op
    before = count(Appointment)
    assert "already has data" in one_line_error(runner.invoke(args=["seed", "demo"]))
    again = runner.invoke(args=["seed", "demo", "--if-empty"])
    assert again.exit_code == 0 and count(Appointment) == before


def _check_catalogue():
    db.session.rollback()
    treatments = db.session.scalars(select(Treatment)).all()
    assert len(treatments) == 4
    for t in treatments:
        prefix = next(p for p in RULES if t.name.startswith(p))
        assert (
            t.kind,
            t.product,
            t.duration_minutes,
            t.min_interval_days,
            t.remind_from,
            t.remind_until,
            t.reminder_count,
            t.follow_up_after,
        ) == RULES[prefix]
        assert t.active
    assert {next(p for p in RULES if t.name.startswith(p)) for t in treatments} == set(RULES)


def _check_counts():
    assert count(Practitioner) == 4
    assert 150 <= count(Patient) <= 300
    db.session.rollback()
    assert all(p.working_hours for p in db.session.scalars(select(Practitioner)))
    first, last = db.session.execute(select(func.min(Appointment.starts_at), func.max(Appointment.starts_at))).one()
    assert timedelta(days=24) <= last - first <= timedelta(days=32)  # about four weeks
    assert first < london(SEED_DAY, 0) < london(SEED_DAY, 23) < last  # past and future
    assert count(Appointment) >= 100


def _check_recall_list():
    """The demo's recall list has patients due now (some overdue), a few already called."""
    from scheduler.patients import recall

    db.session.rollback()
    with time_machine.travel(london(SEED_DAY, 12), tick=False):
        items = recall.due_list()
    assert len(items) >= 8 and any(i.overdue for i in items) and any(not i.overdue for i in items)
    assert {i.last_call.outcome for i in items if i.last_call} == {"no_answer", "call_back", "declined"}
    assert items[0].rank == 0 and items[-1].last_call.outcome == "declined"


def _check_sessions():
    db.session.rollback()
    completed = db.session.scalars(select(Appointment).where(Appointment.status == "completed")).all()
    assert len(completed) >= 50
    sessions = {s.appointment_id: s for s in db.session.scalars(select(TreatmentSession))}
    for appt in completed:
        s = sessions[appt.id]
        assert s.patient_id == appt.patient_id and s.treatment_id == appt.treatment_id
        assert s.product and s.units and s.lot_number
        assert appt.ends_at <= london(SEED_DAY, 12)
    future = db.session.scalars(select(Appointment).where(Appointment.starts_at > london(SEED_DAY, 12))).all()
    assert future and all(a.status == "booked" for a in future)


def _check_no_double_booking():
    db.session.rollback()
    appts = db.session.scalars(
        select(Appointment).where(Appointment.status.in_(("booked", "checked_in", "completed")))
    ).all()
    for key in ("practitioner_id", "patient_id"):
        by: dict[int, list[Appointment]] = {}
        for a in appts:
            by.setdefault(getattr(a, key), []).append(a)
        for group in by.values():
            for a, b in combinations(group, 2):
                assert not (a.starts_at < b.ends_at and b.starts_at < a.ends_at), (key, a.id, b.id)


def _check_passwords(out: str):
    db.session.rollback()
    for email, role in (("admin@example.com", "admin"), ("reception@example.com", "receptionist")):
        line = next(line for line in out.splitlines() if email in line)
        password = line.split()[-1]
        user = users.find_by_email(email)
        assert user is not None and user.role == role
        assert users.verify_password(user, password)


def test_seed_demo_refuses_when_only_staff_exist(runner, make_user):
    """An install whose first admin was made by `flask users create` is not empty."""
    make_user("admin", email="admin@example.com")
    result = runner.invoke(args=["seed", "demo"])
    one_line_error(result)
    assert count(Treatment) == 0 and count(User) == 1


def test_seed_demo_refuses_in_production(app, runner):
    app.config["ENV_NAME"] = "production"
    result = runner.invoke(args=["seed", "demo"])
    assert "development" in one_line_error(result)
    assert count(Treatment) == 0 and count(User) == 0


# --- users create ------------------------------------------------------------------------------


def test_users_create(runner):
    result = runner.invoke(
        args=["users", "create", "Front.Desk@Clinic.Example", "--role", "receptionist", "--password-stdin"],
        input="a long enough password\n",
    )
    assert result.exit_code == 0, (result.output, result.stderr)
    assert result.stderr == ""
    db.session.rollback()
    user = users.find_by_email("front.desk@clinic.example")
    assert user is not None and user.role == "receptionist" and user.active
    assert users.verify_password(user, "a long enough password")
    assert "a long enough password" not in user.password_hash
    actions = db.session.scalars(select(AuditEvent.action).where(AuditEvent.entity_id == user.id)).all()
    assert actions == ["user.created"]


def test_users_create_admin(runner):
    result = runner.invoke(
        args=["users", "create", "boss@clinic.example", "--role", "admin", "--password-stdin"],
        input="correct horse battery staple",
    )
    assert result.exit_code == 0, result.stderr
    db.session.rollback()
    assert users.find_by_email("boss@clinic.example").is_admin


@pytest.mark.parametrize(
    ("args", "stdin", "reason"),
    [
        (["a@clinic.example", "--role", "admin", "--password-stdin"], "short\n", "password"),
        (["a@clinic.example", "--role", "admin", "--password-stdin"], "", "password"),
        (["a@clinic.example", "--role", "superuser", "--password-stdin"], "a long enough password\n", "role"),
        (["a@clinic.example", "--role", "Admin", "--password-stdin"], "a long enough password\n", "role"),
        (["not-an-email", "--role", "admin", "--password-stdin"], "a long enough password\n", "email"),
        (["a@clinic.example", "--role", "admin"], "a long enough password\n", "password-stdin"),
        (["a@clinic.example", "--password-stdin"], "a long enough password\n", "role"),
    ],
)
def test_users_create_refusals(runner, args, stdin, reason):
    result = runner.invoke(args=["users", "create", *args], input=stdin)
    line = one_line_error(result)
    assert reason in line.lower(), line
    assert count(User) == 0


def test_users_create_duplicate(runner):
    args = ["users", "create", "dup@clinic.example", "--role", "admin", "--password-stdin"]
    assert runner.invoke(args=args, input="a long enough password\n").exit_code == 0
    result = runner.invoke(args=[*args[:2], "DUP@clinic.example", *args[3:]], input="another long password\n")
    assert "already exists" in one_line_error(result)
    assert count(User) == 1


# --- users token -------------------------------------------------------------------------------


def test_users_token_prints_one_line_that_authenticates(runner, client, make_user):
    make_user("receptionist", email="desk@clinic.example")
    result = runner.invoke(args=["users", "token", "Desk@Clinic.Example"])
    assert result.exit_code == 0, result.stderr
    token = result.stdout.strip()
    assert result.stdout == token + "\n" and " " not in token and len(token) >= 32
    resp = client.get("/api/v1/treatments", headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 200 and resp.get_json() == {"items": []}
    # a second token is different and both work
    second = runner.invoke(args=["users", "token", "desk@clinic.example"]).stdout.strip()
    assert second != token
    assert client.get("/api/v1/patients", headers={"Authorization": f"Bearer {second}"}).status_code == 200
    assert client.get("/api/v1/patients", headers={"Authorization": f"Bearer {token}"}).status_code == 200


def test_users_token_role_is_the_users(runner, client, make_user):
    make_user("receptionist", email="desk@clinic.example")
    token = runner.invoke(args=["users", "token", "desk@clinic.example"]).stdout.strip()
    resp = client.post("/api/v1/treatments", json={}, headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 403


def test_users_token_unknown_or_inactive_user(runner, make_user):
    assert "nobody@clinic.example" in one_line_error(runner.invoke(args=["users", "token", "nobody@clinic.example"]))
    user = make_user("admin", email="gone@clinic.example")
    user.active = False
    db.session.commit()
    result = runner.invoke(args=["users", "token", "gone@clinic.example"])
    one_line_error(result)
    assert result.stdout == ""
