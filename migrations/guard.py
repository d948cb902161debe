"""What the revisions do to keep an operator from losing data without saying so.

- A downgrade step that would drop tables holding rows refuses, naming each table and its row
  count, unless the operator confirms the loss: `flask db downgrade -x force=1 REVISION`, or
  MIGRATION_ALLOW_DATA_LOSS=1 in the environment. Empty tables are dropped freely. Migrations
  run in one transaction (env.py), so a refusal leaves the database as it was.
  Revisions 0004 (an index) and 0005 (a column its upgrade fills again from the patients) lose
  nothing and are not guarded.
- An upgrade that creates the reminders table anew on a database that already has sessions or
  appointments says to run `flask reminders replan-all`.

Imported by the revisions as `migrations.guard` (the repository root is on the import path of
the app and its flask commands).
"""

from __future__ import annotations

import os

import sqlalchemy as sa
from alembic import context, op
from alembic.util import CommandError

#: the environment variable that confirms a downgrade's data loss, as `-x force=1` does
ALLOW_DATA_LOSS = "MIGRATION_ALLOW_DATA_LOSS"
YES = {"1", "true", "yes", "on"}


class DataLossRefused(CommandError):
    """A downgrade would delete rows and the operator did not confirm it."""


def loss_confirmed() -> bool:
    """Whether the operator accepted losing data: `-x force=1` or MIGRATION_ALLOW_DATA_LOSS=1."""
    force = context.get_x_argument(as_dictionary=True).get("force", "")
    return force.strip().lower() in YES or os.environ.get(ALLOW_DATA_LOSS, "").strip().lower() in YES


def row_counts(tables: tuple[str, ...]) -> dict[str, int]:
    """How many rows each table holds."""
    bind = op.get_bind()
    return {name: bind.execute(sa.select(sa.func.count()).select_from(sa.table(name))).scalar_one() for name in tables}


def refuse_data_loss(*tables: str) -> None:
    """Raises DataLossRefused if any of the tables this step drops has rows and the loss is not confirmed.

    An offline script (`--sql`) is not checked: it is read before anyone runs it.
    """
    if context.is_offline_mode():
        return
    losing = {name: n for name, n in row_counts(tables).items() if n}
    if not losing:
        return
    lost = ", ".join(f"{name} ({n} row{'s' if n != 1 else ''})" for name, n in losing.items())
    if loss_confirmed():
        print(f"Downgrade confirmed: dropping {lost}.")
        return
    raise DataLossRefused(
        f"this downgrade would delete {lost}, and the upgrade cannot bring them back. Nothing was changed. "
        f"Back up the database first; to accept the loss run again with `flask db downgrade -x force=1 ...` "
        f"(or {ALLOW_DATA_LOSS}=1)."
    )


def ask_to_replan() -> None:
    """After the reminders table was created: on a database with sessions or appointments, says
    how to plan their reminders (the table starts empty)."""
    if context.is_offline_mode():
        return
    existing = sum(row_counts(("sessions", "appointments")).values())
    if existing:
        print(
            "The reminders table was created empty on a database that has sessions and appointments: "
            "once the upgrade is done, run `flask reminders replan-all` to plan their reminders."
        )
