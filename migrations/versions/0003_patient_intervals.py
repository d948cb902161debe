"""Per-patient re-treatment intervals: a clinician's note that a patient's effect lasts shorter or longer.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23

Read by hand: the instant column is a plain DateTime(timezone=True) (UTCDateTime only converts).
"""

import sqlalchemy as sa
from alembic import op

from migrations.guard import refuse_data_loss


# revision identifiers, used by Alembic.
revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('patient_intervals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('treatment_id', sa.Integer(), nullable=False),
    sa.Column('remind_from', sa.String(length=20), nullable=False),
    sa.Column('remind_until', sa.String(length=20), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('set_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], name=op.f('fk_patient_intervals_patient_id_patients'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['set_by_id'], ['users.id'], name=op.f('fk_patient_intervals_set_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['treatment_id'], ['treatments.id'], name=op.f('fk_patient_intervals_treatment_id_treatments'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_patient_intervals')),
    sa.UniqueConstraint('patient_id', 'treatment_id', name='uq_patient_intervals_patient_treatment')
    )
    with op.batch_alter_table('patient_intervals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_patient_intervals_treatment_id'), ['treatment_id'], unique=False)



def downgrade():
    refuse_data_loss('patient_intervals')
    with op.batch_alter_table('patient_intervals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_patient_intervals_treatment_id'))

    op.drop_table('patient_intervals')
