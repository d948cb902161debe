"""A call to a patient on the recall list, and what came of it."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from scheduler.models.base import Base, UTCDateTime, utcnow
from scheduler.models.staff import User
from scheduler.models.treatment import Treatment


class RecallContact(Base):
    """One attempt to reach a patient who is due for re-treatment (rows are only ever added)."""

    __tablename__ = "recall_contacts"
    __table_args__ = (
        CheckConstraint("outcome IN ('booked', 'no_answer', 'declined', 'call_back')", name="outcome"),
        CheckConstraint("outcome = 'call_back' OR call_back_on IS NULL", name="call_back_only"),
        CheckConstraint("outcome <> 'call_back' OR call_back_on IS NOT NULL", name="call_back_day"),
        Index("ix_recall_contacts_patient_at", "patient_id", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"))
    #: the treatment the patient is due for, when the call was about one
    treatment_id: Mapped[int | None] = mapped_column(ForeignKey("treatments.id", ondelete="SET NULL"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: booked, no_answer, declined or call_back (scheduler.domain.recall_calls.OUTCOMES)
    outcome: Mapped[str] = mapped_column(String(20))
    #: the local day to call again; only, and always, for a call_back
    call_back_on: Mapped[date | None] = mapped_column(Date)
    note: Mapped[str] = mapped_column(Text, default="")
    by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    by: Mapped[User | None] = relationship(lazy="joined")
    treatment: Mapped[Treatment | None] = relationship()
