"""Buffer after appointments; patients' phone digits for the search.

Revision ID: 0010
Revises: 0008
Create Date: 2026-12-04

Written by hand.

- `treatments.buffer_minutes` (0 to 60, default 0): minutes the practitioner stays held after
  each appointment of the treatment.
- `appointments.held_until`: the end of the practitioner's held time, ends_at plus the buffer
  when booked; existing rows get their ends_at (booked without a buffer). On PostgreSQL the
  practitioner's exclusion constraint now covers [starts_at, held_until), so two bookings of one
  practitioner can never eat into each other's buffer, whatever the concurrency; the patient's
  stays on [starts_at, ends_at).
- `patients.phone_digits`: the phone number's national digits (scheduler.domain.lookup), filled
  here for existing rows, kept by the model afterwards; and an index on date_of_birth, which the
  search by date of birth compares.

The downgrade puts the constraint back on [starts_at, ends_at) and drops the columns (the
buffer values are lost; no row is).
"""

import sqlalchemy as sa
from alembic import op

from scheduler.domain.lookup import phone_digits

# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0008'
branch_labels = None
depends_on = None

PRACTITIONER_OVERLAP = 'ex_appointments_practitioner_overlap'
OCCUPYING = "WHERE (status IN ('booked', 'checked_in', 'completed'))"
BUFFER_RANGE = 'buffer_minutes >= 0 AND buffer_minutes <= 60'
EPOCH = '1970-01-01 00:00:00.000000'


def _practitioner_constraint(end_column: str) -> None:
    """PostgreSQL: the practitioner's exclusion constraint over [starts_at, end_column)."""
    op.execute(f'ALTER TABLE appointments DROP CONSTRAINT {PRACTITIONER_OVERLAP}')
    op.execute(
        f'ALTER TABLE appointments ADD CONSTRAINT {PRACTITIONER_OVERLAP} EXCLUDE USING gist '
        f"(practitioner_id WITH =, tstzrange(starts_at, {end_column}, '[)') WITH &&) {OCCUPYING}"
    )


def upgrade():
    # SQLite: no batch mode (a table copy). Dropping the old treatments or appointments table would
    # cascade to patient_intervals and reminders (ON DELETE CASCADE, foreign keys on), so the
    # columns are added in place, constraints written into the column where SQLite allows it.
    postgresql = op.get_context().dialect.name == 'postgresql'
    if postgresql:
        op.add_column('treatments', sa.Column('buffer_minutes', sa.Integer(), server_default='0', nullable=False))
        op.create_check_constraint(op.f('ck_treatments_buffer'), 'treatments', BUFFER_RANGE)
        op.add_column('appointments', sa.Column('held_until', sa.DateTime(timezone=True), nullable=True))
        op.execute('UPDATE appointments SET held_until = ends_at')
        op.alter_column('appointments', 'held_until', existing_type=sa.DateTime(timezone=True), nullable=False)
        op.create_check_constraint(op.f('ck_appointments_held_after_end'), 'appointments', 'held_until >= ends_at')
        _practitioner_constraint('held_until')
    else:
        op.execute(
            'ALTER TABLE treatments ADD COLUMN buffer_minutes INTEGER DEFAULT 0 NOT NULL '
            f'CONSTRAINT ck_treatments_buffer CHECK ({BUFFER_RANGE})'
        )
        # NOT NULL needs a default for the rows already there; each is then set to its ends_at.
        # (The booking operations keep held_until >= ends_at; SQLite cannot add that check in place.)
        op.execute(f"ALTER TABLE appointments ADD COLUMN held_until DATETIME DEFAULT '{EPOCH}' NOT NULL")
        op.execute('UPDATE appointments SET held_until = ends_at')

    # Not in batch mode: SQLite's table copy would lose the patients' expression indexes.
    op.add_column('patients', sa.Column('phone_digits', sa.String(length=40), nullable=True))
    conn = op.get_bind()
    patients = sa.table('patients', sa.column('id', sa.Integer), sa.column('phone', sa.String),
                        sa.column('phone_digits', sa.String))
    rows = conn.execute(sa.select(patients.c.id, patients.c.phone).where(patients.c.phone.is_not(None))).all()
    for patient_id, phone in rows:
        conn.execute(patients.update().where(patients.c.id == patient_id).values(phone_digits=phone_digits(phone)))
    op.create_index('ix_patients_phone_digits', 'patients', ['phone_digits'], unique=False)
    op.create_index('ix_patients_date_of_birth', 'patients', ['date_of_birth'], unique=False)


def downgrade():
    op.drop_index('ix_patients_date_of_birth', table_name='patients')
    op.drop_index('ix_patients_phone_digits', table_name='patients')
    op.drop_column('patients', 'phone_digits')

    if op.get_context().dialect.name == 'postgresql':
        _practitioner_constraint('ends_at')
        op.drop_constraint(op.f('ck_appointments_held_after_end'), 'appointments', type_='check')
        op.drop_constraint(op.f('ck_treatments_buffer'), 'treatments', type_='check')
    op.drop_column('appointments', 'held_until')
    op.drop_column('treatments', 'buffer_minutes')
