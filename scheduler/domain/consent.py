"""Who may be sent which email: the one consent rule (pure; docs/records.md "Consents").

Two kinds of email, two consents:

- **service emails** (booking confirmation, pre-visit reminder, follow-up, and any notice about
  an appointment) go to every patient with an address unless they asked for no emails at all;
- **re-treatment reminders** need the patient's reminder consent for that kind of treatment
  (therapeutic or cosmetic), given at the desk, through the API, or carried over by migration.

The planner (scheduler.reminders.planning) asks `refusal` when it decides a series, and the sweep
asks it once more just before sending (a withdrawal may have landed in between); nothing else
decides consent.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

#: treatment kinds a reminder consent is given for (scheduler.models.treatment.KINDS)
REMINDER_TOPICS = ("therapeutic", "cosmetic")
#: the consent to any email at all: withdrawn means "stop all emails"
EMAILS = "emails"
TOPICS = (*REMINDER_TOPICS, EMAILS)
#: how a consent was given or withdrawn
VIAS = ("desk", "api", "link", "migration", "erasure")
#: the only email kind that needs a reminder consent; every other kind is a service email
RETREATMENT = "retreatment"

STOPPED = "the patient asked for no emails"


def not_agreed(topic: str | None) -> str:
    """The reason a re-treatment reminder is not sent for lack of consent."""
    return f"the patient has not agreed to {topic or 'these'} re-treatment reminders"


@dataclass(frozen=True)
class ConsentState:
    """A patient's current consents: all emails stopped or not; the reminder topics agreed to."""

    emails_stopped: bool = False
    reminders: frozenset[str] = frozenset()

    @classmethod
    def from_rows(cls, rows: Iterable[tuple[str, bool]]) -> ConsentState:
        """From stored (topic, given) pairs: no row means no reminder consent, and emails not stopped."""
        given = dict(rows)
        return cls(
            emails_stopped=given.get(EMAILS) is False,
            reminders=frozenset(t for t in REMINDER_TOPICS if given.get(t) is True),
        )


def refusal(email_kind: str, treatment_kind: str | None, state: ConsentState) -> str | None:
    """Why this email may not go to the patient, or None when it may."""
    if state.emails_stopped:
        return STOPPED
    if email_kind == RETREATMENT and treatment_kind not in state.reminders:
        return not_agreed(treatment_kind)
    return None


def unsubscribe_changes(email_kind: str | None, treatment_kind: str | None, stop_all: bool) -> dict[str, bool]:
    """What an unsubscribe link withdraws.

    From a re-treatment reminder: that treatment kind's reminder consent only. From a service email
    (or a link that names no email, sent before links named one), and whenever the patient chose
    "stop all emails": every consent, so nothing at all is sent.
    """
    if not stop_all and email_kind == RETREATMENT and treatment_kind in REMINDER_TOPICS:
        return {treatment_kind: False}
    return {topic: False for topic in TOPICS}


def answers_from_flag(opt_in: bool) -> dict[str, bool]:
    """The old `reminders_opt_in` flag as answers: on gives every consent; off withdraws the
    reminder consents and leaves service emails flowing (the API's field, when it is written)."""
    if opt_in:
        return {topic: True for topic in TOPICS}
    return {topic: False for topic in REMINDER_TOPICS}


def migrated_answers(opt_in: bool) -> dict[str, bool]:
    """The old flag's exact meaning, as migration 0008 carries it over: on, every consent; off, every
    consent withdrawn (the old flag stopped confirmations and pre-visit reminders too)."""
    return {topic: bool(opt_in) for topic in TOPICS}


def legacy_flag(state: ConsentState) -> bool:
    """The old single `reminders_opt_in` flag for this state: on only with every consent given.

    The flag could not send one kind of reminder without the other, nor service emails without
    reminders, so anything short of full consent reads as opted out (the API's `reminders_opt_in`,
    and what migration 0008 writes back on a downgrade).
    """
    return not state.emails_stopped and state.reminders == frozenset(REMINDER_TOPICS)
