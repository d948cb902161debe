"""The audit log in sentences: "Anna (admin) changed Chronic migraine's first reminder from 12 weeks to 13 weeks".

Pure: the caller resolves the records an event names into `Ref`s (a kind, an id and a label) and
passes a function that writes an instant in the pages' style; a sentence is a list of parts, text
or `Ref`, so a page can make each record a link. An action this module does not know still reads
as a sentence (the action in words, then its details).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from scheduler.domain.daytext import short_day
from scheduler.domain.durations import plain


@dataclass(frozen=True)
class Ref:
    """A record an event names: kind ("patient", "appointment", "treatment", ...), id and label."""

    kind: str
    id: int
    label: str


Part = str | Ref
Names = Mapping[tuple[str, int], Ref]

#: how a field reads in a sentence, and how its values are written
FIELD_WORDS = {
    "remind_from": "first reminder",
    "remind_until": "last reminder",
    "reminder_count": "number of reminders",
    "follow_up_after": "follow-up",
    "min_interval_days": "minimum interval",
    "duration_minutes": "length",
    "reminders_opt_in": "reminder emails",
    "first_name": "first name",
    "last_name": "last name",
    "date_of_birth": "date of birth",
    "working_hours": "working hours",
    "active": "offered",
}
_VERBS = {
    "appointment.booked": "booked",
    "appointment.cancelled": "cancelled",
    "appointment.checked_in": "checked in",
    "appointment.completed": "completed",
    "appointment.no_show": "marked as a no-show",
    "patient.created": "registered",
    "practitioner.created": "added the practitioner",
    "treatment.created": "added to the catalogue",
    "user.created": "created the staff account of",
    "user.activated": "re-activated",
    "user.deactivated": "deactivated",
    "user.password_reset": "reset the password of",
    "token.issued": "issued an API token for",
    "token.revoked": "revoked an API token of",
    "reminder.resent": "sent again",
}


def value_words(field: str, value: Any) -> str:
    """One field value as a page writes it: "12 weeks", "84 days", "30 minutes", "yes", "none"."""
    if value is None or value == "":
        return "none"
    if isinstance(value, bool):
        if field == "reminders_opt_in":
            return "on" if value else "off"
        return "yes" if value else "no"
    if field in ("remind_from", "remind_until", "follow_up_after"):
        return plain(str(value))
    if field == "min_interval_days":
        return f"{value} days"
    if field == "duration_minutes":
        return f"{value} minutes"
    return str(value)


def _field(name: str) -> str:
    return FIELD_WORDS.get(name, name.replace("_", " "))


def _changes(changed: Any) -> str:
    """ "first reminder from 12 weeks to 13 weeks and number of reminders from 3 to 4"."""
    if isinstance(changed, dict):
        pieces = []
        for key, pair in changed.items():
            if isinstance(pair, (list, tuple)) and len(pair) == 2:
                pieces.append(f"{_field(key)} from {value_words(key, pair[0])} to {value_words(key, pair[1])}")
            else:
                pieces.append(_field(key))
        return " and ".join(pieces)
    if isinstance(changed, (list, tuple)):
        return " and ".join(_field(str(k)) for k in changed)
    return str(changed)


def _window(pair: Any) -> str:
    if isinstance(pair, (list, tuple)) and len(pair) == 2:
        return f"{plain(str(pair[0]))}–{plain(str(pair[1]))}"
    return str(pair)


def _day(text: Any) -> str:
    """ "Mon 8 Mar 2027" for a YYYY-MM-DD text (the pages' date style); other text unchanged."""
    try:
        d = date.fromisoformat(str(text))
    except ValueError:
        return str(text)
    return short_day(d)


#: a recall call's outcome as the audit sentence ends
CALL_WORDS = {"booked": "booked", "no_answer": "no answer", "declined": "declined", "call_back": "call back"}


def _possessive(ref: Part) -> list[Part]:
    return [ref, "'s "]


def sentence(
    action: str,
    actor: str,
    subject: Ref | None,
    details: Mapping[str, Any],
    names: Names,
    when: Callable[[str], str],
) -> list[Part]:
    """The event as a sentence: parts of text and Refs, starting with the actor."""
    what: Part = subject if subject is not None else "a record"
    treatment = names.get(("treatment", details.get("treatment_id") or 0))
    reason = f" (reason: {details['reason']})" if details.get("reason") else ""
    if action in ("treatment.intervals_changed", "treatment.updated", "patient.updated", "practitioner.updated"):
        moved = details.get("reminders_replanned")
        tail = f"; {moved} pending reminder{'' if moved == 1 else 's'} re-planned" if moved else ""
        return [f"{actor} changed ", *_possessive(what), _changes(details.get("changed", {})) + tail]
    if action == "patient.interval_set":
        return [
            f"{actor} set ",
            *_possessive(what),
            "window for ",
            treatment or "a treatment",
            f" from {_window(details.get('from'))} to {_window(details.get('to'))}",
        ]
    if action == "patient.interval_cleared":
        return [f"{actor} returned ", what, " to the usual window for ", treatment or "a treatment"]
    if action == "patient.called":
        outcome = CALL_WORDS.get(str(details.get("outcome")), str(details.get("outcome")))
        on = f" on {_day(details['call_back_on'])}" if details.get("call_back_on") else ""
        about = [" about ", treatment] if treatment else []
        note = f" (“{details['note']}”)" if details.get("note") else ""
        return [f"{actor} called ", what, *about, f": {outcome}{on}{note}"]
    if action == "patient.unsubscribed":
        return [what, " unsubscribed from reminder emails", f" ({details['via']})" if details.get("via") else ""]
    if action == "appointment.rescheduled":
        return [f"{actor} moved ", what, f" from {when(str(details.get('from')))} to {when(str(details.get('to')))}"]
    if action == "appointment.safety_override":
        return [f"{actor} overrode the safety interval for ", what, reason]
    if action == "session.recorded":
        lot = f", lot {details['lot_number']}" if details.get("lot_number") else ""
        units = f", {details['units']:g} units" if isinstance(details.get("units"), (int, float)) else ""
        return [f"{actor} recorded ", what, lot + units]
    if action == "user.role_changed":
        return [f"{actor} changed the role of ", what, f" from {details.get('from')} to {details.get('to')}"]
    if action in ("user.signed_in", "user.locked_out"):
        return [what, " signed in" if action == "user.signed_in" else " was locked out after failed sign-ins"]
    if action.startswith("practitioner.time_off"):
        verb = "added" if action.endswith("added") else "removed"
        return [
            f"{actor} {verb} time off for ",
            what,
            f" from {when(str(details.get('from')))} to {when(str(details.get('to')))}",
            reason,
        ]
    if action == "text.cleaned":
        return [f"{actor} removed control characters from ", *_possessive(what), _field(str(details.get("column")))]
    if action in _VERBS:
        verb = _VERBS[action]
        if action == "treatment.created" or action == "appointment.no_show":
            return [f"{actor} {verb.split(' ', 1)[0]} ", what, f" {verb.split(' ', 1)[1]}"]
        return [f"{actor} {verb} ", what, reason]
    extra = "; ".join(f"{_field(k)}: {v}" for k, v in details.items() if not k.endswith("_id"))
    return [f"{actor}: {action.replace('.', ' ').replace('_', ' ')} ", what, f" ({extra})" if extra else ""]
