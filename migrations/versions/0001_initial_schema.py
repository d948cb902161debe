"""Initial schema: staff, practitioners, treatments, patients, appointments, sessions, audit.

Revision ID: 0001
Revises:
Create Date: 2026-11-23

Read and fixed by hand: instants are plain DateTime(timezone=True) here (the model's UTCDateTime
only converts values); the case-insensitive search indexes and PostgreSQL's exclusion constraints
against double booking are written out, since autogenerate cannot produce them.
"""

import sqlalchemy as sa
from alembic import op

from migrations.guard import refuse_data_loss


# revision identifiers, used by Alembic.
revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('patients',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('first_name', sa.String(length=80), nullable=False),
    sa.Column('last_name', sa.String(length=80), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('phone', sa.String(length=40), nullable=True),
    sa.Column('date_of_birth', sa.Date(), nullable=True),
    sa.Column('reminders_opt_in', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_patients'))
    )
    with op.batch_alter_table('patients', schema=None) as batch_op:
        batch_op.create_index('ix_patients_phone', ['phone'], unique=False)
    op.create_index('ix_patients_last_name_lower', 'patients', [sa.text('lower(last_name)')])
    op.create_index('ix_patients_email_lower', 'patients', [sa.text('lower(email)')])

    op.create_table('practitioners',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('working_hours', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_practitioners'))
    )
    op.create_table('treatments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('product', sa.String(length=80), nullable=False),
    sa.Column('duration_minutes', sa.Integer(), nullable=False),
    sa.Column('min_interval_days', sa.Integer(), nullable=False),
    sa.Column('remind_from', sa.String(length=20), nullable=False),
    sa.Column('remind_until', sa.String(length=20), nullable=False),
    sa.Column('reminder_count', sa.Integer(), nullable=False),
    sa.Column('follow_up_after', sa.String(length=20), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('therapeutic', 'cosmetic')", name=op.f('ck_treatments_kind')),
    sa.CheckConstraint('duration_minutes > 0 AND duration_minutes <= 480', name=op.f('ck_treatments_duration')),
    sa.CheckConstraint('min_interval_days > 0', name=op.f('ck_treatments_min_interval')),
    sa.CheckConstraint('reminder_count >= 1 AND reminder_count <= 6', name=op.f('ck_treatments_reminder_count')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_treatments')),
    sa.UniqueConstraint('name', name=op.f('uq_treatments_name'))
    )
    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('failed_logins', sa.Integer(), nullable=False),
    sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("role IN ('admin', 'receptionist')", name=op.f('ck_users_role')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('email', name=op.f('uq_users_email'))
    )
    op.create_table('api_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('prefix', sa.String(length=12), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_api_tokens_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_api_tokens_token_hash'))
    )
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_tokens_user_id'), ['user_id'], unique=False)

    op.create_table('appointments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('practitioner_id', sa.Integer(), nullable=False),
    sa.Column('treatment_id', sa.Integer(), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('override_reason', sa.Text(), nullable=True),
    sa.Column('cancel_reason', sa.Text(), nullable=True),
    sa.Column('booked_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('booked', 'checked_in', 'completed', 'cancelled', 'no_show')", name=op.f('ck_appointments_status')),
    sa.CheckConstraint('ends_at > starts_at', name=op.f('ck_appointments_ends_after_start')),
    sa.ForeignKeyConstraint(['booked_by_id'], ['users.id'], name=op.f('fk_appointments_booked_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], name=op.f('fk_appointments_patient_id_patients')),
    sa.ForeignKeyConstraint(['practitioner_id'], ['practitioners.id'], name=op.f('fk_appointments_practitioner_id_practitioners')),
    sa.ForeignKeyConstraint(['treatment_id'], ['treatments.id'], name=op.f('fk_appointments_treatment_id_treatments')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_appointments'))
    )
    with op.batch_alter_table('appointments', schema=None) as batch_op:
        batch_op.create_index('ix_appointments_patient_starts', ['patient_id', 'starts_at'], unique=False)
        batch_op.create_index('ix_appointments_practitioner_starts', ['practitioner_id', 'starts_at'], unique=False)
        batch_op.create_index('ix_appointments_starts_at', ['starts_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_appointments_treatment_id'), ['treatment_id'], unique=False)
    if op.get_bind().dialect.name == 'postgresql':
        # No practitioner and no patient in two appointments at once, whatever the number of
        # concurrent requests. Cancelled and missed appointments free their time.
        op.execute('CREATE EXTENSION IF NOT EXISTS btree_gist')
        for column, name in (('practitioner_id', 'ex_appointments_practitioner_overlap'),
                             ('patient_id', 'ex_appointments_patient_overlap')):
            op.execute(
                f'ALTER TABLE appointments ADD CONSTRAINT {name} EXCLUDE USING gist '
                f"({column} WITH =, tstzrange(starts_at, ends_at, '[)') WITH &&) "
                f"WHERE (status IN ('booked', 'checked_in', 'completed'))"
            )

    op.create_table('audit_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('actor', sa.String(length=254), nullable=False),
    sa.Column('action', sa.String(length=60), nullable=False),
    sa.Column('entity_type', sa.String(length=40), nullable=False),
    sa.Column('entity_id', sa.Integer(), nullable=True),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_audit_events_actor_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_events'))
    )
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_events_action'), ['action'], unique=False)
        batch_op.create_index('ix_audit_events_at', ['at'], unique=False)
        batch_op.create_index('ix_audit_events_entity', ['entity_type', 'entity_id'], unique=False)

    op.create_table('time_off',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('practitioner_id', sa.Integer(), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=False),
    sa.CheckConstraint('ends_at > starts_at', name=op.f('ck_time_off_ends_after_start')),
    sa.ForeignKeyConstraint(['practitioner_id'], ['practitioners.id'], name=op.f('fk_time_off_practitioner_id_practitioners'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_time_off'))
    )
    with op.batch_alter_table('time_off', schema=None) as batch_op:
        batch_op.create_index('ix_time_off_practitioner_starts', ['practitioner_id', 'starts_at'], unique=False)

    op.create_table('sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('treatment_id', sa.Integer(), nullable=False),
    sa.Column('appointment_id', sa.Integer(), nullable=True),
    sa.Column('performed_on', sa.Date(), nullable=False),
    sa.Column('product', sa.String(length=80), nullable=False),
    sa.Column('units', sa.Numeric(precision=7, scale=2, asdecimal=False), nullable=True),
    sa.Column('lot_number', sa.String(length=64), nullable=True),
    sa.Column('lot_expiry', sa.Date(), nullable=True),
    sa.Column('sites', sa.String(length=500), nullable=True),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('external', sa.Boolean(), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('units IS NULL OR units > 0', name=op.f('ck_sessions_units_positive')),
    sa.ForeignKeyConstraint(['appointment_id'], ['appointments.id'], name=op.f('fk_sessions_appointment_id_appointments')),
    sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], name=op.f('fk_sessions_patient_id_patients')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_sessions_recorded_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['treatment_id'], ['treatments.id'], name=op.f('fk_sessions_treatment_id_treatments')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sessions')),
    sa.UniqueConstraint('appointment_id', name=op.f('uq_sessions_appointment_id'))
    )
    with op.batch_alter_table('sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sessions_lot_number'), ['lot_number'], unique=False)
        batch_op.create_index('ix_sessions_patient_performed', ['patient_id', 'performed_on'], unique=False)
        batch_op.create_index('ix_sessions_treatment_performed', ['treatment_id', 'performed_on'], unique=False)



def downgrade():
    refuse_data_loss('sessions', 'time_off', 'audit_events', 'appointments', 'api_tokens', 'users', 'treatments',
                     'practitioners', 'patients')
    with op.batch_alter_table('sessions', schema=None) as batch_op:
        batch_op.drop_index('ix_sessions_treatment_performed')
        batch_op.drop_index('ix_sessions_patient_performed')
        batch_op.drop_index(batch_op.f('ix_sessions_lot_number'))

    op.drop_table('sessions')
    with op.batch_alter_table('time_off', schema=None) as batch_op:
        batch_op.drop_index('ix_time_off_practitioner_starts')

    op.drop_table('time_off')
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_events_entity')
        batch_op.drop_index('ix_audit_events_at')
        batch_op.drop_index(batch_op.f('ix_audit_events_action'))

    op.drop_table('audit_events')
    with op.batch_alter_table('appointments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_appointments_treatment_id'))
        batch_op.drop_index('ix_appointments_starts_at')
        batch_op.drop_index('ix_appointments_practitioner_starts')
        batch_op.drop_index('ix_appointments_patient_starts')

    if op.get_bind().dialect.name == 'postgresql':
        op.execute('ALTER TABLE appointments DROP CONSTRAINT IF EXISTS ex_appointments_patient_overlap')
        op.execute('ALTER TABLE appointments DROP CONSTRAINT IF EXISTS ex_appointments_practitioner_overlap')
    op.drop_table('appointments')
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_tokens_user_id'))

    op.drop_table('api_tokens')
    op.drop_table('users')
    op.drop_table('treatments')
    op.drop_table('practitioners')
    with op.batch_alter_table('patients', schema=None) as batch_op:
        batch_op.drop_index('ix_patients_phone')
    op.drop_index('ix_patients_email_lower', table_name='patients')
    op.drop_index('ix_patients_last_name_lower', table_name='patients')

    op.drop_table('patients')
