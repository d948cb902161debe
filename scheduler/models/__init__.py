"""All models, imported here so Alembic and the app see the whole schema."""

from scheduler.models.appointment import OCCUPYING, Appointment
from scheduler.models.audit import AuditEvent
from scheduler.models.base import Base, UTCDateTime, utcnow
from scheduler.models.link_use import LinkUse
from scheduler.models.patient import Patient
from scheduler.models.patient_interval import PatientInterval
from scheduler.models.practitioner import Practitioner, TimeOff
from scheduler.models.reminder import REMINDER_KINDS, REMINDER_STATUSES, Reminder, SweepRun
from scheduler.models.session import TreatmentSession
from scheduler.models.staff import ROLES, ApiToken, User
from scheduler.models.treatment import KINDS, Treatment

__all__ = [
    "OCCUPYING",
    "ROLES",
    "KINDS",
    "LinkUse",
    "ApiToken",
    "Appointment",
    "AuditEvent",
    "Base",
    "Patient",
    "PatientInterval",
    "Practitioner",
    "REMINDER_KINDS",
    "REMINDER_STATUSES",
    "Reminder",
    "SweepRun",
    "TimeOff",
    "Treatment",
    "TreatmentSession",
    "UTCDateTime",
    "User",
    "utcnow",
]
