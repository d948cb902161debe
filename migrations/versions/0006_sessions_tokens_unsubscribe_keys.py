"""Session versions, API token expiry, and random keys in unsubscribe links.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01

Written by hand.

- `users.session_version`: kept in the signed session cookie and compared on every request;
  signing out, a password reset, a change of role and a deactivation bump it, so a cookie
  captured before any of them no longer opens a page. Existing users start at 0 (their current
  cookies, which carry no version, are refused: everyone signs in once more).
- `api_tokens.expires_at`: an optional end to a token (`flask users token EMAIL --days N`).
- `patients.unsubscribe_key`: 32 random hex digits naming the patient in unsubscribe links in
  place of the readable id. Filled here for existing patients from the database's own
  cryptographic source (PostgreSQL's gen_random_uuid(), 122 random bits; SQLite's randomblob);
  the model fills it on every insert made through SQLAlchemy. Nullable, because SQLite can only
  add a NOT NULL column with a default, and a unique index refuses that shared default.
"""

import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

RANDOM_KEY = {
    'postgresql': "replace(gen_random_uuid()::text, '-', '')",
    'sqlite': 'lower(hex(randomblob(16)))',
}


def upgrade():
    op.add_column('users', sa.Column('session_version', sa.Integer(), server_default='0', nullable=False))
    op.add_column('api_tokens', sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('patients', sa.Column('unsubscribe_key', sa.String(length=32), nullable=True))
    op.execute(f"UPDATE patients SET unsubscribe_key = {RANDOM_KEY[op.get_context().dialect.name]}")
    op.create_index('ix_patients_unsubscribe_key', 'patients', ['unsubscribe_key'], unique=True)


def downgrade():
    op.drop_index('ix_patients_unsubscribe_key', table_name='patients')
    op.drop_column('patients', 'unsubscribe_key')
    op.drop_column('api_tokens', 'expires_at')
    op.drop_column('users', 'session_version')
