"""appointments.patient_name: the database keeps each appointment's copy of its patient's name
(migration 0005's triggers), whichever statement writes the rows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import insert, select, update

from scheduler.extensions import db
from scheduler.models import Appointment
from scheduler.services import patients


def _names() -> dict[int, str]:
    return dict(db.session.execute(select(Appointment.id, Appointment.patient_name)).all())


def _book(patient, practitioner, treatment, hour: int) -> int:
    at = datetime(2027, 3, 2, hour, tzinfo=UTC)
    appt = Appointment(
        patient_id=patient.id,
        practitioner_id=practitioner.id,
        treatment_id=treatment.id,
        starts_at=at,
        ends_at=at + timedelta(minutes=30),
    )
    db.session.add(appt)
    db.session.commit()
    return appt.id


def test_the_copy_is_made_on_insert_and_follows_renames_and_a_change_of_patient(
    app, make_patient, make_practitioner, make_treatment
):
    ann, bob = make_patient(first_name="Ann", last_name="Lee"), make_patient(first_name="Bob", last_name="Ray")
    prac, treatment = make_practitioner(), make_treatment()
    first, second = _book(ann, prac, treatment, 9), _book(ann, prac, treatment, 10)
    at = datetime(2027, 3, 2, 11, tzinfo=UTC)
    core = db.session.execute(  # a Core insert, as the one-statement booking and the bulk loaders write
        insert(Appointment.__table__)
        .values(
            patient_id=bob.id,
            practitioner_id=prac.id,
            treatment_id=treatment.id,
            starts_at=at,
            ends_at=at + timedelta(minutes=30),
            status="booked",
        )
        .returning(Appointment.__table__.c.id)
    ).scalar_one()
    db.session.commit()
    assert _names() == {first: "Ann Lee", second: "Ann Lee", core: "Bob Ray"}

    patients.update(ann.id, {"first_name": "Anne"}, actor=None)
    db.session.commit()
    assert _names() == {first: "Anne Lee", second: "Anne Lee", core: "Bob Ray"}  # Bob's untouched

    patients.update(ann.id, {"email": "anne@example.net"}, actor=None)  # not a name: nothing to do
    db.session.commit()
    assert _names()[first] == "Anne Lee"

    db.session.execute(update(Appointment).where(Appointment.id == second).values(patient_id=bob.id))
    db.session.commit()
    assert _names() == {first: "Anne Lee", second: "Bob Ray", core: "Bob Ray"}
