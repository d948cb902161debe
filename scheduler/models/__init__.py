"""All models, imported here so Alembic and the app see the whole schema."""

from scheduler.models.appointment import OCCUPYING, Appointment
from scheduler.models.audit import AuditEvent
from scheduler.models.base import Base, UTCDateTime, utcnow
from scheduler.models.consent import Consent
from scheduler.models.link_use import LinkUse
from scheduler.models.patient import Patient
from scheduler.models.patient_interval import PatientInterval
from scheduler.models.practitioner import Practitioner, TimeOff
from scheduler.models.recall_contact import RecallContact
from scheduler.models.reminder import REMINDER_KINDS, REMINDER_STATUSES, Reminder, SweepRun
from scheduler.models.session import TreatmentSession
from scheduler.models.staff import ROLES, ApiToken, User
from scheduler.models.toxin import Toxin
from scheduler.models.treatment import KINDS, Treatment
from scheduler.models.waitlist import WAITLIST_STATUSES, WaitlistEntry

__all__ = [
    "OCCUPYING",
    "ROLES",
    "KINDS",
    "LinkUse",
    "ApiToken",
    "Appointment",
    "AuditEvent",
    "Consent",
    "Base",
    "Patient",
    "PatientInterval",
    "Practitioner",
    "RecallContact",
    "REMINDER_KINDS",
    "REMINDER_STATUSES",
    "Reminder",
    "SweepRun",
    "TimeOff",
    "Toxin",
    "Treatment",
    "TreatmentSession",
    "UTCDateTime",
    "User",
    "utcnow",
    "WAITLIST_STATUSES",
    "WaitlistEntry",
]
