"""Appointment status lifecycle: which status changes are allowed."""

from __future__ import annotations

STATUSES: tuple[str, ...] = ("booked", "checked_in", "completed", "cancelled", "no_show")
ACTIVE_STATUSES: frozenset[str] = frozenset({"booked", "checked_in", "completed"})

TRANSITIONS: dict[str, frozenset[str]] = {
    "booked": frozenset({"checked_in", "cancelled", "no_show"}),
    "checked_in": frozenset({"completed", "cancelled"}),
    "completed": frozenset(),
    "cancelled": frozenset(),
    "no_show": frozenset(),
}

_LABELS = {
    "booked": "booked",
    "checked_in": "checked in",
    "completed": "completed",
    "cancelled": "cancelled",
    "no_show": "no-show",
}


class BadTransition(Exception):
    """Raised when an appointment cannot move from `current` to `target` status."""

    def __init__(self, current: str, target: str, message: str | None = None) -> None:
        self.current = current
        self.target = target
        if message is None:
            message = f"cannot mark {_article(current)} appointment as {_label(target)}"
        super().__init__(message)

    @property
    def message(self) -> str:
        """The human-readable explanation."""
        return str(self)


def _label(status: str) -> str:
    """Human label for a status."""
    return _LABELS.get(status, status)


def _article(status: str) -> str:
    """Label with its indefinite article ("a booked", "an unknown")."""
    label = _label(status)
    return ("an " if label[:1] in "aeiou" else "a ") + label


def can_reschedule(status: str) -> bool:
    """True iff an appointment in this status may be moved to another time (booked only)."""
    return status == "booked"


def check_transition(current: str, target: str) -> None:
    """Raise BadTransition unless current -> target is an allowed status change."""
    for status in (current, target):
        if status not in TRANSITIONS:
            raise BadTransition(current, target, f"unknown appointment status {status!r}")
    if current == target:
        raise BadTransition(current, target, f"the appointment is already {_label(target)}")
    if target not in TRANSITIONS[current]:
        raise BadTransition(current, target)
