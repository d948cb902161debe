"""`flask backup create PATH` and `flask backup restore PATH` (scheduler.records.backup)."""

from __future__ import annotations

import sqlite3
import sys

import click
from flask.cli import AppGroup
from sqlalchemy.exc import SQLAlchemyError

from scheduler.records import backup

backup_cli = AppGroup("backup", help="Back up the database, or restore a backup into an empty one.")


def _fail(message: str) -> None:
    click.echo(f"Error: {message}", err=True)
    sys.exit(1)


@backup_cli.command("create")
@click.argument("path", type=click.Path(dir_okay=False))
def create(path: str) -> None:
    """Writes a consistent backup of the database to PATH, safe while the app runs."""
    try:
        written = backup.create(path)
    except (backup.BackupError, SQLAlchemyError, OSError, sqlite3.Error) as exc:
        _fail(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
    click.echo(f"Backup written to {written} ({written.stat().st_size} bytes).")


@backup_cli.command("restore")
@click.argument("path", type=click.Path(dir_okay=False))
def restore(path: str) -> None:
    """Restores the backup at PATH into the configured database, which must be empty."""
    try:
        backup.restore(path)
    except (backup.BackupError, SQLAlchemyError, OSError, sqlite3.Error) as exc:
        _fail(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
    click.echo(f"Restored {path}.")
