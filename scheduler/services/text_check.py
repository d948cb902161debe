"""Finds, and cleans, control characters already stored in the text people type (scheduler.domain.text)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import NamedTuple

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from scheduler.db import begin_write
from scheduler.domain import text
from scheduler.extensions import db
from scheduler.models import (
    Appointment,
    Base,
    Patient,
    PatientInterval,
    Practitioner,
    RecallContact,
    TimeOff,
    Toxin,
    Treatment,
    TreatmentSession,
    User,
)
from scheduler.services import audit
from scheduler.services.errors import Conflict

#: every stored text column people type: model -> (audit entity type, single-line columns, free-text columns)
TYPED: dict[type[Base], tuple[str, tuple[str, ...], tuple[str, ...]]] = {
    Patient: ("patient", ("first_name", "last_name", "email", "phone"), ()),
    Practitioner: ("practitioner", ("name", "email"), ()),
    TimeOff: ("time_off", ("reason",), ()),
    Treatment: (
        "treatment",
        ("name", "product", "remind_from", "remind_until", "follow_up_after", "toxin"),
        ("usual_sites",),
    ),
    TreatmentSession: ("session", ("product", "lot_number", "sites"), ("notes", "override_reason", "void_reason")),
    Toxin: ("toxin", ("name",), ()),
    Appointment: ("appointment", (), ("override_reason", "cancel_reason")),
    PatientInterval: ("patient_interval", ("remind_from", "remind_until", "note"), ()),
    User: ("user", ("email", "name"), ()),
    RecallContact: ("recall_contact", ("note",), ()),
}

#: text columns no one types: codes and statuses, hashes, tokens and keys, what the app writes itself
#: (reminder reasons, sweep notes), and the audit log, which is never rewritten
NOT_TYPED = frozenset(
    {
        "treatments.kind",
        "users.role",
        "users.password_hash",
        "patients.unsubscribe_key",
        "consents.topic",
        "consents.via",
        "patients.phone_digits",  # the digits of the checked phone, kept by the model
        "api_tokens.token_hash",
        "link_uses.token_hash",
        "api_tokens.prefix",
        "appointments.status",
        "audit_events.actor",
        "audit_events.action",
        "audit_events.entity_type",
        "recall_contacts.outcome",
        "reminders.kind",
        "reminders.status",
        "reminders.claim_token",
        "reminders.reason",
        "reminders.message_id",
        "sweep_runs.worker",
        "sweep_runs.note",
        "waitlist_entries.status",
    }
)


class Finding(NamedTuple):
    """One stored value holding a refused character."""

    model: type[Base]
    id: int
    column: str
    value: str
    free_text: bool

    def describe(self) -> str:
        """One line: table, id, column and a printable excerpt of the value."""
        table = self.model.__tablename__
        return f"{table} #{self.id} {self.column}: {text.shown(self.value, multiline=self.free_text)}"


def _columns() -> Iterator[tuple[type[Base], str, bool]]:
    """Every typed column as (model, column name, free text?)."""
    for model, (_entity, single_line, free_text) in TYPED.items():
        yield from ((model, name, False) for name in single_line)
        yield from ((model, name, True) for name in free_text)


def find() -> list[Finding]:
    """Every stored typed value that text.problem refuses, table by table."""
    found = []
    for model, name, free_text in _columns():
        column = getattr(model, name)
        stmt = select(model.id, column).where(column.is_not(None)).order_by(model.id)
        for row_id, value in db.session.execute(stmt.execution_options(yield_per=1000)):
            if text.problem(value, multiline=free_text) is not None:
                found.append(Finding(model, row_id, name, value, free_text))
    return found


def fix(actor_label: str = "cli") -> list[tuple[Finding, str | None]]:
    """Cleans every finding (text.clean), with an audit event per change; the caller commits.

    Returns each finding with its new value. A value left empty is stored as null where the column
    allows it. A cleaned value that another row already holds in a unique column (a user's email,
    a treatment's name) is a Conflict naming the row: the caller rolls back, and nothing is changed.
    """
    begin_write()
    changes = []
    for finding in find():
        new: str | None = text.clean(finding.value, multiline=finding.free_text)
        if not new and finding.model.__table__.c[finding.column].nullable:
            new = None
        stmt = update(finding.model).where(finding.model.id == finding.id).values({finding.column: new})
        try:
            with db.session.no_autoflush:
                db.session.execute(stmt)
        except IntegrityError:
            raise Conflict(f"{finding.describe()} cannot become {new!r}: another row holds that value") from None
        audit.record(
            "text.cleaned",
            TYPED[finding.model][0],
            finding.id,
            None,
            {"column": finding.column, "was": text.shown(finding.value, multiline=finding.free_text), "now": new},
            actor_label=actor_label,
        )
        changes.append((finding, new))
    db.session.flush()
    return changes
