"""Practitioners, their weekly working hours and their time off."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from scheduler.models.base import Base, UTCDateTime, utcnow


class Practitioner(Base):
    """A clinician who gives injections and can be booked."""

    __tablename__ = "practitioners"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    email: Mapped[str | None] = mapped_column(String(254))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    #: local clinic times, {"mon": [["09:00", "17:00"]], ...}; a missing day is a day off
    working_hours: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    time_off: Mapped[list[TimeOff]] = relationship(
        back_populates="practitioner", order_by="TimeOff.starts_at", cascade="all, delete-orphan"
    )


class TimeOff(Base):
    """A period when a practitioner cannot be booked (leave, training)."""

    __tablename__ = "time_off"
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        Index("ix_time_off_practitioner_starts", "practitioner_id", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    practitioner_id: Mapped[int] = mapped_column(ForeignKey("practitioners.id", ondelete="CASCADE"))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(String(200), default="")

    practitioner: Mapped[Practitioner] = relationship(back_populates="time_off")
