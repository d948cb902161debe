"""Toxins and their dose limits, treatments' toxin and usual sites, session corrections.

Revision ID: 0009
Revises: 0012
Create Date: 2026-12-04

Written by hand.

- `toxins`: a toxin's rolling dose limit (`max_units` in any `period_days` days), admin-set.
- `treatments.toxin`: the toxin the treatment injects. Existing rows get the toxin of their
  product (BOTOX and BOTOX Cosmetic: onabotulinumtoxinA; Dysport: abobotulinumtoxinA; Xeomin:
  incobotulinumtoxinA; ...; an unknown product is a toxin of its own, as the safety interval
  treated it before). `treatments.usual_sites`: the sites offered when recording a session.
- `sessions.override_reason`, `voided_at`, `void_reason`: a session recorded
  against a safety rule keeps the admin's reason; a voided one stays on record but no longer counts.

The downgrade refuses while toxins hold rows or sessions are voided (a voided session would
count again), unless the loss is confirmed (`-x force=1`).
"""

import sqlalchemy as sa
from alembic import op

from migrations.guard import DataLossRefused, loss_confirmed, refuse_data_loss

# revision identifiers, used by Alembic.
revision = "0009"
down_revision = "0012"
branch_labels = None
depends_on = None

#: the toxins of known products when this revision was written (a copy: a revision never changes
#: with the app; scheduler.domain.toxins holds the current list)
KNOWN_PRODUCTS = {
    "botox": "onabotulinumtoxinA",
    "botox cosmetic": "onabotulinumtoxinA",
    "vistabel": "onabotulinumtoxinA",
    "dysport": "abobotulinumtoxinA",
    "azzalure": "abobotulinumtoxinA",
    "alluzience": "abobotulinumtoxinA",
    "xeomin": "incobotulinumtoxinA",
    "bocouture": "incobotulinumtoxinA",
    "jeuveau": "prabotulinumtoxinA",
    "nuceiva": "prabotulinumtoxinA",
    "daxxify": "daxibotulinumtoxinA",
    "letybo": "letibotulinumtoxinA",
    "relfydess": "letibotulinumtoxinA",
    "myobloc": "rimabotulinumtoxinB",
    "neurobloc": "rimabotulinumtoxinB",
}


def toxin_for_product(product):
    """A known product's toxin, else the product's name itself."""
    name = " ".join((product or "").split())
    return KNOWN_PRODUCTS.get(name.lower(), name)


def upgrade():
    op.create_table(
        "toxins",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("max_units", sa.Numeric(precision=8, scale=2, asdecimal=False), nullable=True),
        sa.Column("period_days", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "max_units IS NULL OR (max_units > 0 AND max_units <= 100000)", name=op.f("ck_toxins_max_units")
        ),
        sa.CheckConstraint(
            "period_days IS NULL OR (period_days >= 1 AND period_days <= 730)", name=op.f("ck_toxins_period_days")
        ),
        sa.CheckConstraint("(max_units IS NULL) = (period_days IS NULL)", name=op.f("ck_toxins_limit_complete")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_toxins")),
        sa.UniqueConstraint("name", name=op.f("uq_toxins_name")),
    )
    # Plain ADD COLUMN, never a batch copy: on SQLite a batch drops and re-creates the table, and
    # dropping treatments or sessions with foreign keys on would cascade into patient_intervals
    # and reminders.
    op.add_column("treatments", sa.Column("toxin", sa.String(length=80), server_default="", nullable=False))
    op.add_column("treatments", sa.Column("usual_sites", sa.Text(), nullable=True))
    bind = op.get_bind()
    treatments = sa.table("treatments", sa.column("id", sa.Integer), sa.column("product"), sa.column("toxin"))
    for ident, product in bind.execute(sa.select(treatments.c.id, treatments.c.product)).all():
        bind.execute(treatments.update().where(treatments.c.id == ident).values(toxin=toxin_for_product(product)))
    if op.get_context().dialect.name == "postgresql":
        op.alter_column("treatments", "toxin", server_default=None)  # the model names it on every insert
    op.add_column("sessions", sa.Column("override_reason", sa.Text(), nullable=True))
    op.add_column("sessions", sa.Column("voided_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("sessions", sa.Column("void_reason", sa.Text(), nullable=True))


def _refuse_voided_sessions() -> None:
    """A downgrade would make voided sessions count again: refused unless confirmed."""
    if op.get_context().as_sql:
        return
    voided = op.get_bind().execute(sa.text("SELECT count(*) FROM sessions WHERE voided_at IS NOT NULL")).scalar_one()
    if voided and not loss_confirmed():
        raise DataLossRefused(
            f"this downgrade would forget that {voided} session(s) were voided (sessions, {voided} rows), "
            "and they would count again. Nothing was changed. Run again with `flask db downgrade -x force=1 ...` "
            "to accept it."
        )


def downgrade():
    _refuse_voided_sessions()
    refuse_data_loss("toxins")
    # plain DROP COLUMN (SQLite 3.35+), never a batch copy (see the upgrade)
    for column in ("void_reason", "voided_at", "override_reason"):
        op.drop_column("sessions", column)
    op.drop_column("treatments", "usual_sites")
    op.drop_column("treatments", "toxin")
    op.drop_table("toxins")
