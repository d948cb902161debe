"""Control characters from the command line (`flask users create`) and in stored rows (`flask data check-text`)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import String, func, select, text

from scheduler.extensions import db
from scheduler.models import Appointment, AuditEvent, Base, Patient, Practitioner, Treatment, TreatmentSession, User
from scheduler.services import text_check
from tests.conftest import london
from tests.test_cli import one_line_error

PASSWORD = "a long enough password\n"


def _count(model) -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(model)) or 0


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (["new@clinic.example\r\nBcc: victim@evil.example"], "the email must be on one line, without control"),
        (["new@clinic\x1b.example"], "the email must be on one line, without control characters (found u+001b)"),
        (["new@clinic.example", "--name", "New\nUser"], "the name must be on one line"),
        (["new@clinic.example", "--name", "New\u2028User"], "(found u+2028)"),
    ],
)
def test_users_create_refuses_control_characters(runner, args, reason):
    result = runner.invoke(args=["users", "create", *args, "--role", "admin", "--password-stdin"], input=PASSWORD)
    assert reason in one_line_error(result).lower()
    assert _count(User) == 0 and _count(AuditEvent) == 0


# --- flask data check-text -----------------------------------------------------------------------


def test_every_text_column_is_either_checked_or_said_to_be_written_by_the_app():
    typed = {
        f"{model.__tablename__}.{name}"
        for model, (_entity, single, free) in text_check.TYPED.items()
        for name in single + free
    }
    stored = {
        f"{table.name}.{column.name}"
        for table in Base.metadata.sorted_tables
        for column in table.columns
        if isinstance(column.type, String)
    }
    assert typed.isdisjoint(text_check.NOT_TYPED)
    assert typed | text_check.NOT_TYPED == stored


def _cleaned() -> list[AuditEvent]:
    """The audit events of `check-text --fix`, oldest first."""
    db.session.rollback()
    return list(
        db.session.scalars(select(AuditEvent).where(AuditEvent.action == "text.cleaned").order_by(AuditEvent.id))
    )


def _sql(statement: str, **params) -> None:
    """Writes straight to the database, past every validation."""
    db.session.execute(text(statement), params)
    db.session.commit()


@pytest.fixture
def hostile(make_patient, make_practitioner, make_treatment, make_user):
    """Rows whose typed text was given control characters by SQL, as an older version could store them."""
    ann, noah = make_patient(first_name="Ann", last_name="Lee"), make_patient(first_name="Noah")
    prac, treatment, user = make_practitioner(), make_treatment(), make_user("receptionist")
    appt = Appointment(
        patient_id=ann.id,
        practitioner_id=prac.id,
        treatment_id=treatment.id,
        starts_at=london(date(2027, 3, 2), 10),
        ends_at=london(date(2027, 3, 2), 10, 30),
        status="cancelled",
    )
    session = TreatmentSession(
        patient_id=ann.id, treatment_id=treatment.id, performed_on=date(2027, 1, 4), product="BOTOX", external=False
    )
    db.session.add_all([appt, session])
    db.session.commit()
    _sql("UPDATE patients SET first_name = :v WHERE id = :id", v="Ann\r\nBcc: victim@evil.example", id=ann.id)
    _sql("UPDATE patients SET email = :v WHERE id = :id", v="noah@example.org\x0b", id=noah.id)
    _sql("UPDATE practitioners SET name = :v WHERE id = :id", v="Dr\u2029Hart", id=prac.id)
    _sql("UPDATE treatments SET name = :v WHERE id = :id", v="Bo\x85tox", id=treatment.id)
    _sql("UPDATE users SET name = :v WHERE id = :id", v="\x1b[31mRed", id=user.id)
    _sql("UPDATE appointments SET cancel_reason = :v WHERE id = :id", v="flu\rWill call", id=appt.id)
    _sql(
        "UPDATE sessions SET lot_number = :lot, notes = :notes WHERE id = :id",
        lot="C1\tC3",
        notes="line one\r\nline two\x7f",
        id=session.id,
    )
    return {
        "ann": ann.id,
        "noah": noah.id,
        "prac": prac.id,
        "treatment": treatment.id,
        "user": user.id,
        "appt": appt.id,
    }


EXPECTED_FINDINGS = {
    "patients #{ann} first_name: 'Ann\\r\\nBcc: victim@evil.example'",
    "patients #{noah} email: 'noah@example.org\\x0b'",
    "practitioners #{prac} name: 'Dr\\u2029Hart'",
    "treatments #{treatment} name: 'Bo\\x85tox'",
    "sessions #1 lot_number: 'C1\\tC3'",
    "sessions #1 notes: 'line one\\r\\nline two\\x7f'",
    "appointments #{appt} cancel_reason: 'flu\\rWill call'",
    "users #{user} name: '\\x1b[31mRed'",
}


def test_check_text_lists_every_stored_control_character_and_exits_non_zero(runner, hostile):
    session_id = db.session.scalar(select(TreatmentSession.id))
    result = runner.invoke(args=["data", "check-text"])
    assert result.exit_code == 1
    expected = {line.format(**hostile).replace("sessions #1", f"sessions #{session_id}") for line in EXPECTED_FINDINGS}
    assert set(result.stdout.splitlines()) == expected
    assert result.stderr.strip() == "Error: 8 stored values hold control characters; --fix cleans them."
    assert _cleaned() == []


def test_check_text_fix_cleans_every_value_with_an_audit_event_each(runner, hostile):
    result = runner.invoke(args=["data", "check-text", "--fix"])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1] == "Cleaned 8 stored values."
    db.session.rollback()
    ann = db.session.get(Patient, hostile["ann"])
    assert ann.first_name == "Ann Bcc: victim@evil.example"
    assert db.session.get(Patient, hostile["noah"]).email == "noah@example.org"
    assert db.session.get(Practitioner, hostile["prac"]).name == "Dr Hart"
    assert db.session.get(Treatment, hostile["treatment"]).name == "Bo tox"
    assert db.session.get(User, hostile["user"]).name == "[31mRed"
    assert db.session.get(Appointment, hostile["appt"]).cancel_reason == "flu\nWill call"
    session = db.session.scalar(select(TreatmentSession))
    assert (session.lot_number, session.notes) == ("C1 C3", "line one\nline two")
    events = _cleaned()
    assert [(e.action, e.actor) for e in events] == [("text.cleaned", "cli")] * 8
    by_column = {(e.entity_type, e.entity_id, e.details["column"]): e.details for e in events}
    assert by_column[("patient", hostile["ann"], "first_name")] == {
        "column": "first_name",
        "was": "'Ann\\r\\nBcc: victim@evil.example'",
        "now": "Ann Bcc: victim@evil.example",
    }
    assert by_column[("session", session.id, "notes")]["now"] == "line one\nline two"
    again = runner.invoke(args=["data", "check-text"])
    assert again.exit_code == 0 and again.stdout.strip() == "No stored text holds control characters."


def test_check_text_fix_changes_nothing_when_a_cleaned_value_is_taken(runner, make_user, hostile):
    taken = make_user("admin", email="boss@clinic.example")
    _sql("UPDATE users SET email = :v WHERE id = :id", v="boss@clinic.example\n", id=hostile["user"])
    result = runner.invoke(args=["data", "check-text", "--fix"])
    line = one_line_error(result)
    assert f"users #{hostile['user']} email" in line and "another row holds that value; nothing was changed" in line
    db.session.rollback()
    assert db.session.get(Patient, hostile["ann"]).first_name == "Ann\r\nBcc: victim@evil.example"
    assert db.session.get(User, taken.id).email == "boss@clinic.example"
    assert _cleaned() == []
