"""Botulinum toxins and their cumulative-dose limits (admin-set)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Integer, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column

from scheduler.models.base import Base, UTCDateTime, utcnow


class Toxin(Base):
    """A toxin's rolling dose limit: at most `max_units` in any `period_days` days.

    Treatments name their toxin (`Treatment.toxin`); a toxin without a row here, or with no
    limit set, has no dose limit. Units of different toxins are never added together.
    """

    __tablename__ = "toxins"
    __table_args__ = (
        CheckConstraint("max_units IS NULL OR (max_units > 0 AND max_units <= 100000)", name="max_units"),
        CheckConstraint("period_days IS NULL OR (period_days >= 1 AND period_days <= 730)", name="period_days"),
        CheckConstraint("(max_units IS NULL) = (period_days IS NULL)", name="limit_complete"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: the toxin's name, e.g. "onabotulinumtoxinA" (as treatments name it)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    #: the most units a patient may receive in any `period_days` days; null for no limit
    max_units: Mapped[float | None] = mapped_column(Numeric(8, 2, asdecimal=False))
    period_days: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
