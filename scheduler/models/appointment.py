"""Appointments and their status lifecycle."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import CheckConstraint, ColumnElement, ForeignKey, Index, Select, String, Text, and_, or_, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from scheduler.models.base import Base, UTCDateTime, utcnow
from scheduler.models.patient import Patient
from scheduler.models.practitioner import Practitioner
from scheduler.models.treatment import Treatment

#: statuses that occupy the practitioner's and the patient's time
OCCUPYING = ("booked", "checked_in", "completed")
#: the longest an appointment can be (treatments last at most 480 minutes)
MAX_LENGTH = timedelta(minutes=480)
#: the longest an appointment can hold its practitioner (its length and a buffer of at most 60 minutes)
MAX_HOLD = MAX_LENGTH + timedelta(minutes=60)


def _held_until_default(context) -> datetime:
    """A row inserted without `held_until` holds its practitioner until its end (no buffer)."""
    return context.get_current_parameters()["ends_at"]


class Appointment(Base):
    """A booked injection session; no practitioner or patient is ever in two at once.

    The database enforces that: on PostgreSQL by two exclusion constraints written in the
    migrations (`ex_appointments_practitioner_overlap` on [starts_at, held_until), the
    treatment's buffer included; `ex_appointments_patient_overlap` on [starts_at, ends_at)),
    on SQLite by taking the write lock before the check and the insert.
    """

    __tablename__ = "appointments"
    __table_args__ = (
        CheckConstraint("status IN ('booked', 'checked_in', 'completed', 'cancelled', 'no_show')", name="status"),
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        CheckConstraint("held_until >= ends_at", name="held_after_end"),
        Index("ix_appointments_practitioner_starts", "practitioner_id", "starts_at"),
        Index("ix_appointments_patient_starts", "patient_id", "starts_at"),
        Index("ix_appointments_starts_at", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    practitioner_id: Mapped[int] = mapped_column(ForeignKey("practitioners.id"))
    treatment_id: Mapped[int] = mapped_column(ForeignKey("treatments.id"), index=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: end of the practitioner's held time: ends_at plus the treatment's buffer when booked
    #: (domain.slots.held_until); set by the booking operations
    held_until: Mapped[datetime] = mapped_column(UTCDateTime, default=_held_until_default)
    status: Mapped[str] = mapped_column(String(20), default="booked")
    #: why an admin booked inside the safety interval (also in the audit log)
    override_reason: Mapped[str | None] = mapped_column(Text)
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    booked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    patient: Mapped[Patient] = relationship()
    practitioner: Mapped[Practitioner] = relationship()
    treatment: Mapped[Treatment] = relationship()


def overlapping(start: Any, end: Any) -> ColumnElement[bool]:
    """Appointments overlapping [start, end), as an index range scan on starts_at.

    The lower bound on starts_at (no appointment is longer than MAX_LENGTH) keeps the scan to
    the window itself, however many years of history lie before it.
    """
    return and_(
        Appointment.starts_at < end,
        Appointment.starts_at > start - MAX_LENGTH,
        Appointment.ends_at > start,
    )


def holding(start: Any, until: Any) -> ColumnElement[bool]:
    """Appointments whose held time [starts_at, held_until) overlaps [start, until): the
    practitioner's side of an overlap, buffers included (an index range scan on starts_at, as
    `overlapping`)."""
    return and_(
        Appointment.starts_at < until,
        Appointment.starts_at > start - MAX_HOLD,
        Appointment.held_until > start,
    )


def occupying_conflicts(
    start: datetime,
    end: datetime,
    *,
    held_until: datetime | None = None,
    practitioner_id: int | None = None,
    patient_id: int | None = None,
    exclude_id: int | None = None,
) -> Select[tuple[Appointment]]:
    """Occupying appointments of the practitioner whose held time overlaps [start, held_until)
    (their buffers and the new one's included; `held_until` defaults to `end`), or of the patient
    overlapping [start, end) (a patient is not held by a buffer).

    The one conflicts query: availability, booking, rescheduling and the calendar's free cells
    all ask it (rescheduling excludes the appointment being moved).
    """
    who = []
    if practitioner_id is not None:
        until = end if held_until is None else held_until
        who.append(and_(Appointment.practitioner_id == practitioner_id, holding(start, until)))
    if patient_id is not None:
        who.append(and_(Appointment.patient_id == patient_id, overlapping(start, end)))
    stmt = select(Appointment).where(or_(*who), Appointment.status.in_(OCCUPYING))
    if exclude_id is not None:
        stmt = stmt.where(Appointment.id != exclude_id)
    return stmt
