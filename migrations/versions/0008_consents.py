"""Consents per kind of email, and erased patients.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04

Written by hand.

- `consents`: one row per patient and topic (`therapeutic`, `cosmetic`: re-treatment reminders of
  that treatment kind; `emails`: given=False is "stop all emails"), with when and how it was given.
- `patients.reminders_opt_in` goes. Its choice is carried over, via 'migration', at the moment
  of the upgrade: a patient who was opted in agreed to both kinds of reminder (and to emails);
  one who was opted out had stopped every email (the old flag cancelled confirmations and
  pre-visit reminders too), so they get all three topics withdrawn.
- `patients.erased_at`: set when an admin erases a patient's personal details.

Downgrade: the flag comes back, on only for a patient who gave every consent and did not stop
emails (the flag cannot send one kind of reminder without the other). A patient whose answers the
flag cannot hold exactly (one kind only, service emails without reminders) makes the downgrade
refuse unless the loss is confirmed (`-x force=1`, as in migrations/guard.py); confirmed, such a
patient reads as opted out, the choice that sends nothing they did not agree to.
"""

import sqlalchemy as sa
from alembic import op

from migrations.guard import DataLossRefused, loss_confirmed

# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

TOPICS = ('therapeutic', 'cosmetic', 'emails')
REMINDER_TOPICS = ('therapeutic', 'cosmetic')


def upgrade():
    op.create_table('consents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('topic', sa.String(length=20), nullable=False),
    sa.Column('given', sa.Boolean(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('via', sa.String(length=20), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("topic IN ('therapeutic', 'cosmetic', 'emails')", name=op.f('ck_consents_topic')),
    sa.CheckConstraint("via IN ('desk', 'api', 'link', 'migration', 'erasure')", name=op.f('ck_consents_via')),
    sa.ForeignKeyConstraint(['patient_id'], ['patients.id'],
                            name=op.f('fk_consents_patient_id_patients'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'],
                            name=op.f('fk_consents_recorded_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consents')),
    sa.UniqueConstraint('patient_id', 'topic', name='uq_consents_patient_topic')
    )
    # Opted in: both reminder topics given (no `emails` row: service emails go out).
    for topic in REMINDER_TOPICS:
        op.execute(
            "INSERT INTO consents (patient_id, topic, given, recorded_at, via) "
            f"SELECT id, '{topic}', true, CURRENT_TIMESTAMP, 'migration' FROM patients WHERE reminders_opt_in"
        )
    # Opted out: every topic withdrawn, as the old flag stopped every email.
    for topic in TOPICS:
        op.execute(
            "INSERT INTO consents (patient_id, topic, given, recorded_at, via) "
            f"SELECT id, '{topic}', false, CURRENT_TIMESTAMP, 'migration' FROM patients WHERE NOT reminders_opt_in"
        )
    # Plain ALTER TABLE on both databases (SQLite 3.35+ drops a column in place): no copy of
    # `patients`, whose copy-and-drop would fire the ON DELETE CASCADE of the tables referring to it.
    op.add_column('patients', sa.Column('erased_at', sa.DateTime(timezone=True), nullable=True))
    op.drop_column('patients', 'reminders_opt_in')


#: a patient the old flag holds exactly: all three topics given (emails by having no row) ...
_ALL_GIVEN = (
    "(SELECT count(*) FROM consents c WHERE c.patient_id = patients.id AND c.topic IN ('therapeutic', 'cosmetic') "
    "AND c.given) = 2 AND NOT EXISTS (SELECT 1 FROM consents c WHERE c.patient_id = patients.id "
    "AND c.topic = 'emails' AND NOT c.given)"
)
#: ... or all three withdrawn
_ALL_WITHDRAWN = (
    "(SELECT count(*) FROM consents c WHERE c.patient_id = patients.id AND NOT c.given) = 3"
)


def downgrade():
    bind = op.get_bind()
    op.add_column('patients', sa.Column('reminders_opt_in', sa.Boolean(), server_default=sa.false(), nullable=False))
    mixed = bind.execute(
        sa.text(f"SELECT count(*) FROM patients WHERE NOT ({_ALL_GIVEN}) AND NOT ({_ALL_WITHDRAWN})")
    ).scalar_one()
    if mixed and not loss_confirmed():
        raise DataLossRefused(
            f"{mixed} patient{'s have' if mixed != 1 else ' has'} consents that the single reminders_opt_in flag "
            "cannot hold (one kind of reminder only, or service emails without reminders). Nothing was changed. "
            "To accept reading them as opted out, run again with `flask db downgrade -x force=1 ...` "
            "(or MIGRATION_ALLOW_DATA_LOSS=1)."
        )
    op.execute(f"UPDATE patients SET reminders_opt_in = ({_ALL_GIVEN})")
    if bind.dialect.name == 'postgresql':
        op.alter_column('patients', 'reminders_opt_in', server_default=None)  # SQLite would copy the table
    op.drop_column('patients', 'erased_at')
    op.drop_table('consents')
