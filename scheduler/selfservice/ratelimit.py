"""Requests per link and minute, counted in the database so the limit holds across web workers.

A fixed one-minute window per token (by its SHA-256): one upsert that returns the new count, in
its own short transaction, committed before the request goes on (so a request that is refused or
rolled back later still counts). Rows of past minutes are deleted on the way.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta

from flask import current_app
from sqlalchemy import delete
from sqlalchemy.dialects import postgresql, sqlite

from scheduler.db import begin_write, is_sqlite
from scheduler.extensions import db
from scheduler.models import LinkUse
from scheduler.services import clock

#: rows older than this are deleted as new ones are written
KEEP = timedelta(minutes=5)


def hit(token: str) -> bool:
    """Counts one request made with a link; False when the link is over its limit this minute."""
    limit = int(current_app.config["PATIENT_LINK_RATE_PER_MINUTE"])
    now = clock.now()
    window = now.replace(second=0, microsecond=0)
    key = hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()
    begin_write()
    insert = (sqlite.insert if is_sqlite() else postgresql.insert)(LinkUse.__table__)
    stmt = (
        insert.values(token_hash=key, window_start=window, hits=1)
        .on_conflict_do_update(
            index_elements=["token_hash", "window_start"], set_={"hits": LinkUse.__table__.c.hits + 1}
        )
        .returning(LinkUse.__table__.c.hits)
    )
    hits = db.session.execute(stmt).scalar_one()
    db.session.execute(delete(LinkUse).where(LinkUse.window_start < now - KEEP))
    db.session.commit()
    return hits <= limit
