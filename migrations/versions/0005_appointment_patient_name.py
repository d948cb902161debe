"""Appointments: the patient's name on the row, kept by triggers, for the calendar.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24

Written by hand. The day calendar reads a day's appointments on every look; joining each to its
patient for the name was most of PostgreSQL's work on that statement (at 1,000,000 appointments,
0.6 of 1.0 ms of server CPU: an index probe per appointment). `patient_name` holds
`first_name || ' ' || last_name` of the appointment's patient (the calendar strips it, as
full_name() does). The database keeps it, whichever statement writes the rows:

- on insert, and on a change of patient, it is read from the patient;
- when a patient's first or last name changes, their appointments get the new one.

PostgreSQL sets it in a BEFORE trigger; SQLite, whose triggers cannot change NEW, updates the
row in an AFTER trigger. Existing rows are filled here.
"""

import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

NAME = "first_name || ' ' || last_name"

POSTGRESQL = [
    f"""
    CREATE FUNCTION appointments_patient_name() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        SELECT {NAME} INTO NEW.patient_name FROM patients WHERE id = NEW.patient_id;
        RETURN NEW;
    END $$
    """,
    """
    CREATE TRIGGER appointments_patient_name BEFORE INSERT OR UPDATE OF patient_id ON appointments
    FOR EACH ROW EXECUTE FUNCTION appointments_patient_name()
    """,
    """
    CREATE FUNCTION patients_name_to_appointments() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE appointments SET patient_name = NEW.first_name || ' ' || NEW.last_name
        WHERE patient_id = NEW.id;
        RETURN NULL;
    END $$
    """,
    """
    CREATE TRIGGER patients_name_to_appointments AFTER UPDATE OF first_name, last_name ON patients
    FOR EACH ROW WHEN (OLD.first_name IS DISTINCT FROM NEW.first_name OR OLD.last_name IS DISTINCT FROM NEW.last_name)
    EXECUTE FUNCTION patients_name_to_appointments()
    """,
]

SQLITE = [
    f"""
    CREATE TRIGGER appointments_patient_name AFTER INSERT ON appointments
    BEGIN
        UPDATE appointments SET patient_name = (SELECT {NAME} FROM patients WHERE id = NEW.patient_id)
        WHERE id = NEW.id;
    END
    """,
    f"""
    CREATE TRIGGER appointments_patient_name_change AFTER UPDATE OF patient_id ON appointments
    BEGIN
        UPDATE appointments SET patient_name = (SELECT {NAME} FROM patients WHERE id = NEW.patient_id)
        WHERE id = NEW.id;
    END
    """,
    """
    CREATE TRIGGER patients_name_to_appointments AFTER UPDATE OF first_name, last_name ON patients
    WHEN OLD.first_name IS NOT NEW.first_name OR OLD.last_name IS NOT NEW.last_name
    BEGIN
        UPDATE appointments SET patient_name = NEW.first_name || ' ' || NEW.last_name WHERE patient_id = NEW.id;
    END
    """,
]


def upgrade():
    op.add_column(
        'appointments', sa.Column('patient_name', sa.String(length=161), server_default='', nullable=False)
    )
    op.execute(f"UPDATE appointments SET patient_name = (SELECT {NAME} FROM patients WHERE patients.id = appointments.patient_id)")
    for statement in POSTGRESQL if op.get_context().dialect.name == 'postgresql' else SQLITE:
        op.execute(statement)


def downgrade():
    if op.get_context().dialect.name == 'postgresql':
        op.execute("DROP TRIGGER patients_name_to_appointments ON patients")
        op.execute("DROP FUNCTION patients_name_to_appointments()")
        op.execute("DROP TRIGGER appointments_patient_name ON appointments")
        op.execute("DROP FUNCTION appointments_patient_name()")
    else:
        for trigger in ('patients_name_to_appointments', 'appointments_patient_name_change', 'appointments_patient_name'):
            op.execute(f"DROP TRIGGER {trigger}")
    op.drop_column('appointments', 'patient_name')
