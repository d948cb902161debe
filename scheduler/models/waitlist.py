"""The waitlist: patients who would take an earlier or freed slot of a treatment in a date range."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from scheduler.models.base import Base, UTCDateTime, utcnow
from scheduler.models.patient import Patient
from scheduler.models.practitioner import Practitioner
from scheduler.models.treatment import Treatment

#: waiting: on the list; booked: took an offered slot (left the list); removed: taken off by staff
WAITLIST_STATUSES = ("waiting", "booked", "removed")


class WaitlistEntry(Base):
    """A patient waiting for a slot of one treatment, with one practitioner or any, between two local dates."""

    __tablename__ = "waitlist_entries"
    __table_args__ = (
        CheckConstraint("status IN ('waiting', 'booked', 'removed')", name="status"),
        CheckConstraint("from_date <= until_date", name="date_range"),
        # What a cancellation looks up: the waiting entries of a treatment, oldest first.
        Index("ix_waitlist_entries_treatment_status_created", "treatment_id", "status", "created_at"),
        Index("ix_waitlist_entries_patient_id", "patient_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"))
    treatment_id: Mapped[int] = mapped_column(ForeignKey("treatments.id"))
    #: None: any practitioner will do
    practitioner_id: Mapped[int | None] = mapped_column(ForeignKey("practitioners.id"))
    #: the local dates (CLINIC_TIMEZONE) between which a slot suits the patient, both included
    from_date: Mapped[date] = mapped_column(Date)
    until_date: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(10), default="waiting")
    #: the appointment the patient booked from an offer (status booked)
    appointment_id: Mapped[int | None] = mapped_column(ForeignKey("appointments.id", ondelete="SET NULL"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    patient: Mapped[Patient] = relationship()
    treatment: Mapped[Treatment] = relationship()
    practitioner: Mapped[Practitioner | None] = relationship()
