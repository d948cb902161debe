"""Entry points through which clinic events reach the reminder planner, and the one reconcile step.

Every event that can change what a patient should receive (a booking made, moved, cancelled or
missed, a check-in, a session completed, recorded or deleted, a consent given or withdrawn, a
removed patient, a treatment's new intervals) ends here. Reconcile reads the facts, asks the pure
plan (scheduler.domain.plan / reconcile) what the rows should be, and applies the difference:
create, cancel with a reason, revive, re-date. It flushes; the caller commits. Consent is one
rule, scheduler.domain.consent.refusal, asked here per series (and by the sweep before sending).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from scheduler.domain import appointment_plan, consent
from scheduler.domain import reconcile as rules
from scheduler.domain.plan import Intervals, confirmation_plan, follow_up_plan, pre_visit_plan, retreatment_plan
from scheduler.extensions import db
from scheduler.models import Appointment, Patient, PatientInterval, Reminder, Treatment, TreatmentSession
from scheduler.models.reminder import APPOINTMENT_KINDS, SESSION_KINDS
from scheduler.reminders.rows import apply_ops, clinic, load_rows
from scheduler.services import clock
from scheduler.waitlist import matching

NEW_CONFIRMATION = ("booked", "rescheduled")
#: set in a database session's info when the planner queued an email that is due now (scheduler.jobs
#: wakes the embedded sweep after the commit)
WAKE_FLAG = "reminders.wake_sweep"


def appointment_changed(
    event: str, appt: Appointment, session: TreatmentSession | None = None, *, moved_from: datetime | None = None
) -> None:
    """An appointment was booked, moved (from `moved_from`), cancelled, missed, checked in or completed."""
    reconcile_appointment(
        appt,
        new_confirmation=event in NEW_CONFIRMATION,
        new_appointment=event == "booked",
        moved_from=moved_from,
        just_cancelled=event == "cancelled",
    )
    reconcile_tracks(appt.patient_id, appt.treatment_id)


def session_recorded(session: TreatmentSession) -> None:
    """A session done earlier or elsewhere was recorded, corrected or voided."""
    reconcile_tracks(session.patient_id, session.treatment_id)


def consents_changed(patient: Patient) -> None:
    """A patient gave or withdrew a consent: pending emails it no longer covers are cancelled, those
    it covers again and still ahead come back."""
    db.session.refresh(patient, ["consents"])
    _reconcile_patient(patient)


def _reconcile_patient(patient: Patient) -> None:
    """Reconciles every series of a patient: all treatment tracks and open appointments."""
    db.session.flush()
    treatments = db.session.scalars(
        select(TreatmentSession.treatment_id).where(TreatmentSession.patient_id == patient.id).distinct()
    ).all()
    for treatment_id in treatments:
        reconcile_tracks(patient.id, treatment_id)
    with_rows = select(Reminder.appointment_id).where(
        Reminder.patient_id == patient.id,
        Reminder.appointment_id.is_not(None),
        Reminder.kind.in_(APPOINTMENT_KINDS),
        Reminder.status.in_(("pending", "cancelled")),
    )
    appts = db.session.scalars(
        select(Appointment).where(
            Appointment.patient_id == patient.id,
            (Appointment.id.in_(with_rows))
            | ((Appointment.status == "booked") & (Appointment.starts_at > clock.now())),
        )
    ).all()
    for appt in appts:
        reconcile_appointment(appt, new_confirmation=False)


def appointment_ops(
    rows: list, starts_at, status: str, refused: str | None, *, new_confirmation: bool, now, settings
) -> dict[str, list]:
    """What an appointment's confirmation and pre-visit emails should become, by kind (pure).

    `rows` are its stored emails of those kinds (`load_rows`), none for a new appointment.
    """
    confirmations = [r for r in rows if r.kind == "confirmation"]
    plan = None
    if new_confirmation:
        plan = confirmation_plan(starts_at, now, max((r.seq for r in confirmations), default=-1) + 1)
    pre = [r.row for r in rows if r.kind == "pre_visit"]
    return {
        "confirmation": appointment_plan.diff_confirmations([r.row for r in confirmations], plan, status, refused),
        "pre_visit": appointment_plan.diff_pre_visit(pre, pre_visit_plan(starts_at, settings), status, refused, now),
    }


def wakes_the_sender(ops: list) -> bool:
    """Whether the ops create a confirmation to send at once."""
    return any(isinstance(op, rules.Create) and op.status == "pending" for op in ops)


def reconcile_appointment(
    appt: Appointment,
    *,
    new_confirmation: bool,
    new_appointment: bool = False,
    moved_from: datetime | None = None,
    just_cancelled: bool = False,
) -> None:
    """Makes an appointment's confirmation and pre-visit emails match its status and time.

    A new appointment has no emails yet: nothing to read. A move's new confirmation says where
    from (the start the patient last heard of); a cancellation brings its notice to the patient
    and the slot's offers to the waitlist.
    """
    rows = (
        [] if new_appointment else load_rows(Reminder.appointment_id == appt.id, Reminder.kind.in_(APPOINTMENT_KINDS))
    )
    ops = appointment_ops(
        rows,
        appt.starts_at,
        appt.status,
        consent.refusal("confirmation", None, appt.patient.consent_state),
        new_confirmation=new_confirmation,
        now=clock.now(),
        settings=clinic(),
    )
    target = dict(patient_id=appt.patient_id, treatment_id=appt.treatment_id, appointment_id=appt.id)
    told = last_known_start(rows, moved_from) if moved_from is not None and new_confirmation else None
    apply_ops(ops["confirmation"], kind="confirmation", extra={"moved_from": told}, **target)
    if wakes_the_sender(ops["confirmation"]):
        db.session.info[WAKE_FLAG] = True  # the embedded scheduler, if any, sends it right after the commit
    apply_ops(ops["pre_visit"], kind="pre_visit", **target)
    if just_cancelled:  # notices: to the patient, and the freed slot to the waitlist
        notices = load_rows(Reminder.appointment_id == appt.id, Reminder.kind == "cancellation")
        notice = appointment_plan.diff_cancellation(
            [r.row for r in notices],
            [r.row for r in rows],
            consent.refusal("cancellation", None, appt.patient.consent_state) is None,
            appt.starts_at,
            clock.now(),
        )
        apply_ops(notice, kind="cancellation", **target)
        if matching.offer_slot(appt) or notice:
            db.session.info[WAKE_FLAG] = True


def last_known_start(rows: list, old_start: datetime) -> datetime | None:
    """The start the patient last heard of before this move (see appointment_plan.last_known_start)."""
    confirmations = [r for r in rows if r.kind == "confirmation"]
    if not confirmations:
        return None
    newest = max(confirmations, key=lambda r: r.seq)
    moved = db.session.scalar(select(Reminder.moved_from).where(Reminder.id == newest.row.id))
    return appointment_plan.last_known_start((newest.row.status, moved), old_start)


def reconcile_tracks(patient_id: int, treatment_id: int, *, exclude_session_id: int | None = None) -> None:
    """Makes the re-treatment and follow-up emails of a patient's sessions of one treatment match the plan."""
    db.session.flush()
    treatment = db.session.get(Treatment, treatment_id)
    patient = db.session.get(Patient, patient_id)
    if treatment is None or patient is None:
        return
    settings, now = clinic(), clock.now()
    sessions, voided = [], []
    for r in db.session.execute(
        select(
            TreatmentSession.id,
            TreatmentSession.performed_on,
            TreatmentSession.appointment_id,
            TreatmentSession.external,
            TreatmentSession.voided_at,
        ).where(TreatmentSession.patient_id == patient_id, TreatmentSession.treatment_id == treatment_id)
    ):
        if r.id == exclude_session_id:
            continue
        fact = rules.SessionFact(r.id, r.performed_on, r.appointment_id, r.external)
        (voided if r.voided_at is not None else sessions).append(fact)
    if voided:
        _end_voided(patient_id, treatment_id, voided)
    if not sessions:
        return
    iv = intervals_for(patient_id, treatment)
    state = patient.consent_state
    bookings = [
        rules.BookingFact(r.id, clock.local_date(r.starts_at), r.status)
        for r in db.session.execute(
            select(Appointment.id, Appointment.starts_at, Appointment.status).where(
                Appointment.patient_id == patient_id,
                Appointment.treatment_id == treatment_id,
                Appointment.status.in_(rules.HOLDING),
            )
        )
    ]
    stored: dict[int, dict[str, list[rules.Row]]] = {}
    for r in load_rows(Reminder.session_id.in_([s.id for s in sessions]), Reminder.kind.in_(SESSION_KINDS)):
        stored.setdefault(r.session_id or 0, {}).setdefault(r.kind, []).append(r.row)
    for s in sessions:
        ops = rules.diff_session(
            s,
            sessions,
            bookings,
            consent.refusal("retreatment", treatment.kind, state),
            consent.refusal("follow_up", treatment.kind, state),
            stored.get(s.id, {}),
            retreatment_plan(s.performed_on, iv, settings),
            follow_up_plan(s.performed_on, iv, settings),
            now,
        )
        for kind, kind_ops in ops.items():
            apply_ops(
                kind_ops,
                kind=kind,
                patient_id=patient_id,
                treatment_id=treatment_id,
                session_id=s.id,
                appointment_id=s.appointment_id if kind == "follow_up" else None,
            )


def _end_voided(patient_id: int, treatment_id: int, voided: list[rules.SessionFact]) -> None:
    """A voided session drives no reminders: its pending ones are cancelled with the reason."""
    for r in load_rows(Reminder.session_id.in_([s.id for s in voided]), Reminder.kind.in_(SESSION_KINDS)):
        ops = rules.diff_voided([r.row])
        if ops:
            apply_ops(
                ops,
                kind=r.kind,
                patient_id=patient_id,
                treatment_id=treatment_id,
                session_id=r.session_id,
                appointment_id=None,
            )


def intervals(treatment: Treatment, own: PatientInterval | None = None) -> Intervals:
    """A treatment's reminder fields, parsed; with the patient's own window when a clinician set one."""
    window = own or treatment
    return Intervals.parse(window.remind_from, window.remind_until, treatment.reminder_count, treatment.follow_up_after)


def own_window(patient_id: int, treatment_id: int) -> PatientInterval | None:
    """The patient's own re-treatment window for a treatment, if a clinician set one."""
    return db.session.scalar(
        select(PatientInterval).where(
            PatientInterval.patient_id == patient_id, PatientInterval.treatment_id == treatment_id
        )
    )


def intervals_for(patient_id: int, treatment: Treatment) -> Intervals:
    """The intervals that apply to one patient: their own window if a clinician set one."""
    return intervals(treatment, own_window(patient_id, treatment.id))
