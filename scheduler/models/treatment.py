"""The treatment catalogue with its re-treatment interval fields."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from scheduler.domain.toxins import toxin_for_product
from scheduler.models.base import Base, UTCDateTime, utcnow

KINDS = ("therapeutic", "cosmetic")


def _toxin_of_product(context) -> str:
    """Default toxin of a new treatment: the toxin of its product (scheduler.domain.toxins)."""
    return toxin_for_product(context.get_current_parameters().get("product"))


class Treatment(Base):
    """A bookable treatment and the plan of reminders after each session of it."""

    __tablename__ = "treatments"
    __table_args__ = (
        CheckConstraint("kind IN ('therapeutic', 'cosmetic')", name="kind"),
        CheckConstraint("duration_minutes > 0 AND duration_minutes <= 480", name="duration"),
        CheckConstraint("min_interval_days > 0", name="min_interval"),
        CheckConstraint("reminder_count >= 1 AND reminder_count <= 6", name="reminder_count"),
        CheckConstraint("buffer_minutes >= 0 AND buffer_minutes <= 60", name="buffer"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    #: the product injected, e.g. "BOTOX"; the safety interval applies across one product
    product: Mapped[str] = mapped_column(String(80))
    duration_minutes: Mapped[int] = mapped_column(Integer)
    #: no new session of the same product sooner than this many days after the last one
    min_interval_days: Mapped[int] = mapped_column(Integer)
    #: ISO 8601 durations after the session date: first and last re-treatment reminder
    remind_from: Mapped[str] = mapped_column(String(20))
    remind_until: Mapped[str] = mapped_column(String(20))
    reminder_count: Mapped[int] = mapped_column(Integer, default=3)
    #: ISO 8601 duration after a completed session for the follow-up email; null for none
    follow_up_after: Mapped[str | None] = mapped_column(String(20))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    #: minutes the practitioner stays held after each appointment of this treatment (0 to 60):
    #: the next booking, time off and the end of working hours must leave room for it
    buffer_minutes: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    #: the toxin injected, e.g. "onabotulinumtoxinA" for BOTOX and BOTOX Cosmetic alike; the safety
    #: interval and the dose limit count sessions of one toxin, whatever the product's name
    toxin: Mapped[str] = mapped_column(String(80), default=_toxin_of_product)
    #: the usual injection sites offered as choices when recording a session, one per line
    usual_sites: Mapped[str | None] = mapped_column(Text)
