"""Scratch databases of the benchmark's own (never the configured one)."""

from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

PG_SERVER = os.environ.get("BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


@contextmanager
def scratch_database(kind: str, name: str):
    """Yields the URL of a new empty database, and removes it afterwards."""
    if kind == "sqlite":
        folder = Path(tempfile.mkdtemp(prefix="bench-"))
        try:
            yield f"sqlite:///{folder / (name + '.db')}"
        finally:
            for f in folder.iterdir():
                f.unlink()
            folder.rmdir()
        return
    server = make_url(PG_SERVER)
    dbname = f"bench_{name}_{os.getpid()}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{dbname}"'))
    try:
        yield server.set(database=dbname).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)'))
        admin.dispose()
