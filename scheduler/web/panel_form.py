"""The booking panel's form (the day calendar's "book from a cell"): the chosen patient or a new
one, the treatment, a free time and, for admins, an override reason. The new patient's fields are
those of PatientForm, validated by it."""

from __future__ import annotations

from wtforms import HiddenField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from scheduler.web.forms import SlotChoice, _blank_to_none, _strip
from scheduler.web.plain_text import PlainTextForm


class PanelForm(PlainTextForm):
    """Book a free time from the calendar: an existing patient (patient_id) or a new one."""

    patient_id = HiddenField()
    treatment_id = StringField("Treatment", validators=[DataRequired("Choose the treatment.")])
    slot = StringField("Time", validators=[DataRequired("Pick a free time."), SlotChoice()])
    override_reason = TextAreaField(
        "Override reason (admins only)",
        filters=[_strip, _blank_to_none],
        validators=[Optional(), Length(max=500, message="Keep the reason to 500 characters.")],
    )
