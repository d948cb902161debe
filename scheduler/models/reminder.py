"""Reminder emails as rows (one per email to send), and the heartbeat of the sweep that sends them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    ColumnElement,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    and_,
    func,
    select,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from scheduler.models.appointment import Appointment
from scheduler.models.base import Base, UTCDateTime, utcnow
from scheduler.models.patient import Patient
from scheduler.models.session import TreatmentSession

REMINDER_KINDS = ("retreatment", "pre_visit", "follow_up", "confirmation", "cancellation", "waitlist_offer")
REMINDER_STATUSES = ("pending", "sending", "sent", "failed", "cancelled", "skipped")
#: a due re-treatment reminder in one of these makes the older ones of its track superseded (rule 4)
LIVE_STATUSES = ("pending", "sending", "sent")
#: kinds that belong to a session (a re-treatment track, a follow-up) and to an appointment
SESSION_KINDS = ("retreatment", "follow_up")
APPOINTMENT_KINDS = ("pre_visit", "confirmation")
#: one-off notices about an appointment: it was cancelled (to its patient), its freed slot is offered
#: (to a waitlisted patient; seq is the waitlist entry's id)
NOTICE_KINDS = ("cancellation", "waitlist_offer")


def _in(values: tuple[str, ...]) -> str:
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"


class Reminder(Base):
    """One email to a patient: planned, then claimed, sent (or skipped, cancelled, failed).

    Rows are derived state: services.planning makes them match the plan of each session and
    appointment; the sweep (services.sweep) claims due rows in the database before sending.
    """

    __tablename__ = "reminders"
    __table_args__ = (
        CheckConstraint(f"kind IN {_in(REMINDER_KINDS)}", name="kind"),
        CheckConstraint(f"status IN {_in(REMINDER_STATUSES)}", name="status"),
        CheckConstraint(
            f"(kind IN {_in(SESSION_KINDS)} AND session_id IS NOT NULL) OR "
            f"(kind IN {_in(APPOINTMENT_KINDS + NOTICE_KINDS)} AND appointment_id IS NOT NULL)",
            name="kind_target",
        ),
        CheckConstraint("seq >= 0", name="seq_not_negative"),
        CheckConstraint("attempts >= 0", name="attempts_not_negative"),
        CheckConstraint("status <> 'sent' OR sent_at IS NOT NULL", name="sent_has_time"),
        CheckConstraint("status <> 'sending' OR claimed_until IS NOT NULL", name="sending_has_lease"),
        UniqueConstraint("session_id", "kind", "seq", name="uq_reminders_session_kind_seq"),
        UniqueConstraint("appointment_id", "kind", "seq", name="uq_reminders_appointment_kind_seq"),
        UniqueConstraint("message_id", name="uq_reminders_message_id"),
        # What the sweep scans: due rows still to send. Small, whatever the history's size.
        Index(
            "ix_reminders_due_pending",
            "due_at",
            sqlite_where=text("status = 'pending'"),
            postgresql_where=text("status = 'pending'"),
        ),
        # An appointment's emails. Partial: most rows have no appointment, and counting their NULLs
        # as one value made SQLite's planner (after ANALYZE) scan the table instead (migration 0004).
        Index(
            "ix_reminders_appointment_id",
            "appointment_id",
            sqlite_where=text("appointment_id IS NOT NULL"),
            postgresql_where=text("appointment_id IS NOT NULL"),
        ),
        # The rows one sweep's claim holds (only rows being sent carry a token): a claim gathers a
        # patient's due re-treatment reminders by it, an outcome is recorded by it (migration 0014).
        Index(
            "ix_reminders_claim_token",
            "claim_token",
            sqlite_where=text("claim_token IS NOT NULL"),
            postgresql_where=text("claim_token IS NOT NULL"),
        ),
        Index("ix_reminders_patient_id", "patient_id"),
        Index("ix_reminders_treatment_status", "treatment_id", "kind", "status"),
        Index("ix_reminders_status_due", "status", "due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"))
    #: the treatment of the session or appointment (denormalised for the bulk re-plan)
    treatment_id: Mapped[int] = mapped_column(ForeignKey("treatments.id"))
    kind: Mapped[str] = mapped_column(String(20))
    session_id: Mapped[int | None] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"))
    appointment_id: Mapped[int | None] = mapped_column(ForeignKey("appointments.id", ondelete="CASCADE"))
    #: position in its series: 1..reminder_count on a re-treatment track; for appointment emails
    #: 0, 1, 2 ... one per confirmation or pre-visit reminder of a booking moved after sending
    seq: Mapped[int] = mapped_column(Integer, default=0)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: from this instant the email is pointless (window closed 14 days ago, appointment started):
    #: a due row is skipped, never sent
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(12), default="pending")
    #: delivery tries so far (each SMTP hand-over or failure to hand over)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    #: after a failed try, not before this instant
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: lease of a sweep that claimed the row (status 'sending'); once passed, another sweep takes it
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: which claim holds the lease: only that sweep may record the outcome
    claim_token: Mapped[str | None] = mapped_column(String(32))
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: why it was skipped, cancelled, failed or is being retried
    reason: Mapped[str | None] = mapped_column(Text)
    #: a confirmation of a moved appointment: the start the patient last heard of (the email says
    #: it moved from there); None for a first confirmation
    moved_from: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: the Message-ID header, fixed when the row is planned, so every retry carries the same one
    message_id: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    patient: Mapped[Patient] = relationship()
    session: Mapped[TreatmentSession | None] = relationship()
    appointment: Mapped[Appointment | None] = relationship()


def newest_due_seq(now: Any) -> ColumnElement[int]:
    """The seq of the newest due re-treatment reminder (pending, being sent or sent) of the
    reminder's track: a correlated sub-select on the reminders table."""
    table = Reminder.__table__
    newer = table.alias("newer")
    return (
        select(func.max(newer.c.seq))
        .where(
            newer.c.session_id == table.c.session_id,
            newer.c.kind == "retreatment",
            newer.c.due_at <= now,
            newer.c.status.in_(LIVE_STATUSES),
        )
        .scalar_subquery()
    )


def superseded(now: Any) -> ColumnElement[bool]:
    """Rule 4 (docs/rules.md): a due re-treatment reminder older than the newest due one of its
    track, which alone goes out. The sweep's housekeeping skips these; its claim passes them over."""
    table = Reminder.__table__
    return and_(table.c.kind == "retreatment", table.c.due_at <= now, table.c.seq < newest_due_seq(now))


class SweepRun(Base):
    """The heartbeat: one row per sweep, with what it did, for the admin pages."""

    __tablename__ = "sweep_runs"
    __table_args__ = (Index("ix_sweep_runs_started_at", "started_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: host and process id of the sweeping process
    worker: Mapped[str] = mapped_column(String(120))
    sent: Mapped[int] = mapped_column(Integer, default=0)
    skipped: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    #: failed tries left pending for a later retry
    retried: Mapped[int] = mapped_column(Integer, default=0)
    cancelled: Mapped[int] = mapped_column(Integer, default=0)
    #: "outside send hours", or the error that ended the sweep
    note: Mapped[str | None] = mapped_column(Text)
