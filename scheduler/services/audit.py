"""Writes the audit log."""

from __future__ import annotations

from typing import Any

from scheduler.extensions import db
from scheduler.models import AuditEvent, User


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
    event = AuditEvent(
        action=action,
        entity_type=entity_type,
        entity_id=entity_id,
        actor_id=actor.id if actor is not None else None,
        actor=actor.email if actor is not None else (actor_label or "system"),
        details=details or {},
    )
    db.session.add(event)
    return event
