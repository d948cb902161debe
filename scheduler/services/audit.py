"""Writes the audit log."""

from __future__ import annotations

from typing import Any

from scheduler.extensions import db
from scheduler.models import AuditEvent, User
from scheduler.models.base import utcnow


def record(
    action: str,
    entity_type: str,
    entity_id: int | None,
    actor: User | None,
    details: dict[str, Any] | None = None,
    *,
    actor_label: str | None = None,
) -> AuditEvent:
    """Adds one audit event to the current transaction (the caller commits)."""
    event = AuditEvent(**row(action, entity_type, entity_id, actor, details, actor_label=actor_label))
    db.session.add(event)
    return event


def row(
    action: str,
    entity_type: str,
    entity_id: int | None,
    actor: User | None,
    details: dict[str, Any] | None = None,
    *,
    actor_label: str | None = None,
) -> dict[str, Any]:
    """The column values of an audit event (for a Core insert; `at` is stamped on insert)."""
    return dict(
        at=utcnow(),
        action=action,
        entity_type=entity_type,
        entity_id=entity_id,
        actor_id=actor.id if actor is not None else None,
        actor=actor.email if actor is not None else (actor_label or "system"),
        details=details or {},
    )
