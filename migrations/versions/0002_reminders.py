"""Reminders: one row per email to send, and the sweep's heartbeat.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23

Generated, then read and fixed by hand: instants are plain DateTime(timezone=True) (the model's
UTCDateTime only converts values); the partial index on due pending reminders carries its WHERE
clause for both SQLite and PostgreSQL; the downgrade drops exactly what the upgrade made.
"""

import sqlalchemy as sa
from alembic import op

from migrations.guard import ask_to_replan, refuse_data_loss


# revision identifiers, used by Alembic.
revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

PENDING = sa.text("status = 'pending'")


def upgrade():
    op.create_table('sweep_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('worker', sa.String(length=120), nullable=False),
    sa.Column('sent', sa.Integer(), nullable=False),
    sa.Column('skipped', sa.Integer(), nullable=False),
    sa.Column('failed', sa.Integer(), nullable=False),
    sa.Column('retried', sa.Integer(), nullable=False),
    sa.Column('cancelled', sa.Integer(), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sweep_runs'))
    )
    with op.batch_alter_table('sweep_runs', schema=None) as batch_op:
        batch_op.create_index('ix_sweep_runs_started_at', ['started_at'], unique=False)

    op.create_table('reminders',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('treatment_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=True),
    sa.Column('appointment_id', sa.Integer(), nullable=True),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('claimed_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('claim_token', sa.String(length=32), nullable=True),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('message_id', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("(kind IN ('retreatment', 'follow_up') AND session_id IS NOT NULL) OR (kind IN ('pre_visit', 'confirmation') AND appointment_id IS NOT NULL)", name=op.f('ck_reminders_kind_target')),
    sa.CheckConstraint("kind IN ('retreatment', 'pre_visit', 'follow_up', 'confirmation')", name=op.f('ck_reminders_kind')),
    sa.CheckConstraint("status <> 'sending' OR claimed_until IS NOT NULL", name=op.f('ck_reminders_sending_has_lease')),
    sa.CheckConstraint("status <> 'sent' OR sent_at IS NOT NULL", name=op.f('ck_reminders_sent_has_time')),
    sa.CheckConstraint("status IN ('pending', 'sending', 'sent', 'failed', 'cancelled', 'skipped')", name=op.f('ck_reminders_status')),
    sa.CheckConstraint('attempts >= 0', name=op.f('ck_reminders_attempts_not_negative')),
    sa.CheckConstraint('seq >= 0', name=op.f('ck_reminders_seq_not_negative')),
    sa.ForeignKeyConstraint(['appointment_id'], ['appointments.id'], name=op.f('fk_reminders_appointment_id_appointments'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], name=op.f('fk_reminders_patient_id_patients'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['session_id'], ['sessions.id'], name=op.f('fk_reminders_session_id_sessions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['treatment_id'], ['treatments.id'], name=op.f('fk_reminders_treatment_id_treatments')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reminders')),
    sa.UniqueConstraint('appointment_id', 'kind', 'seq', name='uq_reminders_appointment_kind_seq'),
    sa.UniqueConstraint('message_id', name='uq_reminders_message_id'),
    sa.UniqueConstraint('session_id', 'kind', 'seq', name='uq_reminders_session_kind_seq')
    )
    with op.batch_alter_table('reminders', schema=None) as batch_op:
        # The sweep scans only due pending rows: a partial index stays small whatever the history.
        batch_op.create_index('ix_reminders_due_pending', ['due_at'], unique=False,
                              sqlite_where=PENDING, postgresql_where=PENDING)
        batch_op.create_index('ix_reminders_patient_id', ['patient_id'], unique=False)
        batch_op.create_index('ix_reminders_status_due', ['status', 'due_at'], unique=False)
        batch_op.create_index('ix_reminders_treatment_status', ['treatment_id', 'kind', 'status'], unique=False)

    ask_to_replan()


def downgrade():
    refuse_data_loss('reminders', 'sweep_runs')
    with op.batch_alter_table('reminders', schema=None) as batch_op:
        batch_op.drop_index('ix_reminders_treatment_status')
        batch_op.drop_index('ix_reminders_status_due')
        batch_op.drop_index('ix_reminders_patient_id')
        batch_op.drop_index('ix_reminders_due_pending')

    op.drop_table('reminders')
    with op.batch_alter_table('sweep_runs', schema=None) as batch_op:
        batch_op.drop_index('ix_sweep_runs_started_at')

    op.drop_table('sweep_runs')
