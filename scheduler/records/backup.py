"""Backups of the whole database, safe while the app runs, and restoring one into an empty database.

- SQLite: Python's sqlite3 online backup API copies the live file page by page into one new file,
  a consistent snapshot even while the web workers and the scheduler write (WAL mode).
- PostgreSQL: `pg_dump --format=custom` (one consistent snapshot, other sessions keep working);
  restored with `pg_restore`. Both tools come with the PostgreSQL client package.

A restore goes only into a database with no tables (a fresh file, or a new empty PostgreSQL
database); anything else is refused, so a restore never mixes two clinics' data.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy import inspect
from sqlalchemy.engine import URL

from scheduler.extensions import db


class BackupError(Exception):
    """A backup or restore that cannot go ahead; the message says why."""


SQLITE_MAGIC = b"SQLite format 3\x00"
PG_MAGIC = b"PGDMP"


def _url() -> URL:
    return db.engine.url


def _libpq(url: URL) -> tuple[str, dict[str, str]]:
    """A libpq connection URI without the password, and the environment carrying it."""
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    plain = url.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    return plain, env


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(f"{name} was not found on PATH: install the PostgreSQL client tools (postgresql-client)")
    return path


def _sqlite_copy(source: str | Path, target: str | Path) -> None:
    """Copies one SQLite database into another with the online backup API (a consistent snapshot)."""
    src = sqlite3.connect(source)
    try:
        dest = sqlite3.connect(target)
        try:
            src.backup(dest)
        finally:
            dest.close()
    finally:
        src.close()


def create(path: str | Path) -> Path:
    """Writes a backup of the database to `path` (refusing to overwrite a file); returns the path."""
    target = Path(path)
    if target.exists():
        raise BackupError(f"{target} exists already; give a new file name")
    if not target.parent.is_dir():
        raise BackupError(f"the directory {target.parent} does not exist")
    url = _url()
    partial = target.with_name(target.name + ".partial")
    if url.get_backend_name() == "sqlite":
        _sqlite_copy(url.database or "", partial)
    else:
        uri, env = _libpq(url)
        done = subprocess.run(
            [_tool("pg_dump"), "--format=custom", "--no-owner", "--file", str(partial), "--dbname", uri],
            env=env,
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            partial.unlink(missing_ok=True)
            raise BackupError(f"pg_dump failed: {(done.stderr.strip().splitlines() or ['no message'])[-1]}")
    os.replace(partial, target)
    return target


def tables() -> list[str]:
    """The tables of the configured database."""
    return inspect(db.engine).get_table_names()


def restore(path: str | Path) -> None:
    """Restores a backup made by `create` into the configured database, which must have no tables."""
    source = Path(path)
    if not source.is_file():
        raise BackupError(f"{source} is not a file")
    with source.open("rb") as fh:
        head = fh.read(16)
    url = _url()
    sqlite = url.get_backend_name() == "sqlite"
    if sqlite and not head.startswith(SQLITE_MAGIC):
        raise BackupError(f"{source} is not an SQLite backup (this app's database is SQLite)")
    if not sqlite and not head.startswith(PG_MAGIC):
        raise BackupError(f"{source} is not a pg_dump custom-format backup (this app's database is PostgreSQL)")
    existing = tables()
    if existing:
        raise BackupError(
            f"the database is not empty ({len(existing)} tables, e.g. {', '.join(sorted(existing)[:3])}): "
            "restore into a new, empty database"
        )
    db.session.remove()
    db.engine.dispose()
    if sqlite:
        _sqlite_copy(str(source), url.database or "")
        return
    uri, env = _libpq(url)
    done = subprocess.run(
        [_tool("pg_restore"), "--no-owner", "--no-privileges", "--exit-on-error", "--dbname", uri, str(source)],
        env=env,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise BackupError(f"pg_restore failed: {(done.stderr.strip().splitlines() or ['no message'])[-1]}")
