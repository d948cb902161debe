"""Appointment status lifecycle: which status changes are allowed."""

from __future__ import annotations

from datetime import date, datetime

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


# --- when a status change may happen -----------------------------------------------

#: the status changes that can be undone on the appointment's day, and the status they return to
UNDO: dict[str, str] = {"checked_in": "booked", "no_show": "booked"}


def timing_problem(
    target: str, *, visit_day: date, starts_at: datetime, today: date, now: datetime
) -> tuple[str, str] | None:
    """Why a status change is not allowed at this moment, as (code, message), or None when it is.

    Check-in only on the appointment's local day (`not_today`); completion on that day or later
    (`before_day`: a session is never dated in the future); a no-show only once the appointment
    has started (`before_start`). Cancelling has no timing rule.
    """
    if target == "checked_in" and today != visit_day:
        when = "is still to come" if today < visit_day else "has passed"
        return (
            "not_today",
            f"patients are checked in on the day of the appointment ({visit_day:%d %b %Y}), which {when}",
        )
    if target == "completed" and today < visit_day:
        return "before_day", f"the appointment cannot be completed before its day ({visit_day:%d %b %Y})"
    if target == "no_show" and now < starts_at:
        return "before_start", "a patient can be marked as a no-show only after the appointment's start"
    return None


def undo_problem(status: str, *, visit_day: date, today: date) -> str | None:
    """Why the last check-in or no-show cannot be undone now, or None when it can (on the day)."""
    if status not in UNDO:
        return f"there is nothing to undo on {_article(status)} appointment"
    if today != visit_day:
        return f"{_label(status)} can be undone only on the day of the appointment ({visit_day:%d %b %Y})"
    return None


def is_overridable(target: str) -> bool:
    """Whether an admin's reason may set aside the timing rule (never for completing early: the
    session would be dated in the future)."""
    return target in ("checked_in", "no_show", "undo")


def offered_actions(
    status: str, *, visit_day: date, starts_at: datetime, today: date, now: datetime, is_admin: bool
) -> dict[str, str | None]:
    """What the appointment page offers for each action: "yes", "override" (an admin, with a
    reason), or None (not offered: it would be refused)."""
    targets = TRANSITIONS.get(status, frozenset())
    offers: dict[str, str | None] = {}
    for action, target in (("check_in", "checked_in"), ("no_show", "no_show"), ("complete", "completed")):
        if target not in targets:
            offers[action] = None
        elif timing_problem(target, visit_day=visit_day, starts_at=starts_at, today=today, now=now) is None:
            offers[action] = "yes"
        else:
            offers[action] = "override" if is_admin and is_overridable(target) else None
    offers["cancel"] = "yes" if "cancelled" in targets else None
    offers["reschedule"] = "yes" if can_reschedule(status) else None
    if status not in UNDO:
        offers["undo"] = None
    elif undo_problem(status, visit_day=visit_day, today=today) is None:
        offers["undo"] = "yes"
    else:
        offers["undo"] = "override" if is_admin else None
    return offers
