"""Appointments: the patient's name is no longer copied onto the row.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04

Written by hand. Revision 0005 copied `first_name || ' ' || last_name` onto every appointment,
kept by triggers, so the day calendar could skip a join to the patients. The calendar now joins
(an index look-up per appointment of one day), measured in docs/performance.md, and the copy
and its triggers go. The downgrade puts them back exactly as 0005 made them, names filled in.
"""

import importlib.util
from pathlib import Path

from alembic import op

# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def _revision_0005():
    """Revision 0005's module, whose upgrade makes the column and its triggers."""
    path = Path(__file__).with_name('0005_appointment_patient_name.py')
    spec = importlib.util.spec_from_file_location('revision_0005', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def upgrade():
    if op.get_context().dialect.name == 'postgresql':
        op.execute("DROP TRIGGER patients_name_to_appointments ON patients")
        op.execute("DROP FUNCTION patients_name_to_appointments()")
        op.execute("DROP TRIGGER appointments_patient_name ON appointments")
        op.execute("DROP FUNCTION appointments_patient_name()")
    else:
        for trigger in ('patients_name_to_appointments', 'appointments_patient_name_change', 'appointments_patient_name'):
            op.execute(f"DROP TRIGGER {trigger}")
    op.drop_column('appointments', 'patient_name')


def downgrade():
    _revision_0005().upgrade()
