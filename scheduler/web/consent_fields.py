"""The consent boxes of the patient form (scheduler.domain.consent)."""

from __future__ import annotations

from wtforms import BooleanField


class ConsentFields:
    """Three boxes: a reminder consent per treatment kind, and emails at all (unticked: "stop all emails")."""

    consent_therapeutic = BooleanField("Agrees to re-treatment reminders for therapeutic treatments")
    consent_cosmetic = BooleanField("Agrees to re-treatment reminders for cosmetic treatments")
    consent_emails = BooleanField(
        "Emails about booked appointments (confirmation, day-before reminder, follow-up)", default=True
    )

    def consents_given(self) -> dict[str, bool]:
        """The answers as the patients service takes them ({topic: given})."""
        return {
            "therapeutic": bool(self.consent_therapeutic.data),
            "cosmetic": bool(self.consent_cosmetic.data),
            "emails": bool(self.consent_emails.data),
        }

    def show_consents(self, patient) -> None:
        """Ticks the boxes as the patient's current answers stand (the edit form's GET)."""
        state = patient.consent_state
        self.consent_therapeutic.data = "therapeutic" in state.reminders
        self.consent_cosmetic.data = "cosmetic" in state.reminders
        self.consent_emails.data = not state.emails_stopped
