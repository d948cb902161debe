"""The form that logs a call to a patient on the recall list (the recall list and the patient page)."""

from __future__ import annotations

from wtforms import HiddenField, SelectChoice, SelectField, StringField
from wtforms.validators import InputRequired, Length, Optional

from scheduler.domain import recall_calls
from scheduler.web.forms import DayField
from scheduler.web.plain_text import PlainTextForm


class CallForm(PlainTextForm):
    """One call to a patient who is due: the outcome, a call-back day for a call back, a note."""

    outcome = SelectField(
        "Outcome",
        choices=[SelectChoice(value, label) for value, label in recall_calls.OUTCOMES.items()],
        validators=[InputRequired("Pick what came of the call.")],
    )
    call_back_on = DayField("Call back on", validators=[Optional()])
    note = StringField("Note", validators=[Optional(), Length(max=recall_calls.NOTE_MAX)])
    treatment_id = HiddenField()
    back = HiddenField()
