"""The UTC instant type reads every stored form back as an aware UTC instant."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.dialects import postgresql, sqlite

from scheduler.models.base import UTCDateTime


def test_sqlite_text_comes_back_aware_utc() -> None:
    read = UTCDateTime().result_processor(sqlite.dialect(), None)
    assert read("2026-03-29 00:30:00.000000") == datetime(2026, 3, 29, 0, 30, tzinfo=UTC)
    assert read("2026-03-29 00:30:00.000000").tzinfo is UTC
    # text carrying its own offset (written by hand or by another tool) is moved to UTC
    assert read("2026-03-29T02:30:00+02:00") == datetime(2026, 3, 29, 0, 30, tzinfo=UTC)
    assert read(None) is None


def test_postgresql_timestamptz_is_moved_to_utc() -> None:
    read = UTCDateTime().result_processor(postgresql.dialect(), None)
    local = datetime(2026, 10, 25, 2, 30, tzinfo=ZoneInfo("Europe/Paris"))
    # the first 02:30 of the night the clocks go back (CEST, +02:00)
    assert read(local) == datetime(2026, 10, 25, 0, 30, tzinfo=UTC) and read(local).tzinfo is UTC
    assert read(None) is None
