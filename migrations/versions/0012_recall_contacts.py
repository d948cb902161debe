"""Recall as a work queue: each call to a patient who is due, and its outcome.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04

Written by hand. A new table only; its downgrade refuses when calls are recorded (migrations.guard).
"""

import sqlalchemy as sa
from alembic import op

from migrations.guard import refuse_data_loss

# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'recall_contacts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('patient_id', sa.Integer(), nullable=False),
        sa.Column('treatment_id', sa.Integer(), nullable=True),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('outcome', sa.String(length=20), nullable=False),
        sa.Column('call_back_on', sa.Date(), nullable=True),
        sa.Column('note', sa.Text(), nullable=False),
        sa.Column('by_id', sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "outcome IN ('booked', 'no_answer', 'declined', 'call_back')", name=op.f('ck_recall_contacts_outcome')
        ),
        sa.CheckConstraint(
            "outcome = 'call_back' OR call_back_on IS NULL", name=op.f('ck_recall_contacts_call_back_only')
        ),
        sa.CheckConstraint(
            "outcome <> 'call_back' OR call_back_on IS NOT NULL", name=op.f('ck_recall_contacts_call_back_day')
        ),
        sa.ForeignKeyConstraint(
            ['patient_id'], ['patients.id'], name=op.f('fk_recall_contacts_patient_id_patients'), ondelete='CASCADE'
        ),
        sa.ForeignKeyConstraint(
            ['treatment_id'], ['treatments.id'], name=op.f('fk_recall_contacts_treatment_id_treatments'),
            ondelete='SET NULL',
        ),
        sa.ForeignKeyConstraint(['by_id'], ['users.id'], name=op.f('fk_recall_contacts_by_id_users'), ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_recall_contacts')),
    )
    with op.batch_alter_table('recall_contacts', schema=None) as batch_op:
        batch_op.create_index('ix_recall_contacts_patient_at', ['patient_id', 'at'], unique=False)


def downgrade():
    refuse_data_loss('recall_contacts')
    with op.batch_alter_table('recall_contacts', schema=None) as batch_op:
        batch_op.drop_index('ix_recall_contacts_patient_at')
    op.drop_table('recall_contacts')
