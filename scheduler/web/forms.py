"""Flask-WTF forms of the receptionist's pages; every one carries a CSRF token.

The patient rules match the JSON API's (names required and at most 80 characters, a valid email,
the phone pattern, a date of birth that is not in the future).
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from wtforms import BooleanField, DateField, FloatField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.fields import EmailField, TelField
from wtforms.validators import DataRequired, Email, InputRequired, Length, Optional, Regexp, StopValidation
from wtforms.widgets import NumberInput

from scheduler.services import clock
from scheduler.web.consent_fields import ConsentFields
from scheduler.web.plain_text import PlainTextForm

PHONE_PATTERN = r"^\+?[0-9 ()\-]{0,39}$"


def _strip(value):
    """Trims text the way the API does."""
    return value.strip() if isinstance(value, str) else value


def _blank_to_none(value):
    """An empty optional text field is stored as null."""
    return value or None


class DayField(DateField):
    """A date input whose parse error says what to type."""

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError("Enter a date as YYYY-MM-DD, e.g. 2027-03-01.") from None


class UnitsField(FloatField):
    """A positive number input (units of toxin) whose parse error says what to type."""

    widget = NumberInput(step="any", min="0")

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError("Enter the units as a number, e.g. 155.") from None


class NotInFuture:
    """Refuses a date after today in the clinic."""

    def __init__(self, message: str):
        self.message = message

    def __call__(self, form, field):
        if field.data is not None and field.data > clock.today():
            raise StopValidation(self.message)


class PlausibleYear:
    """Keeps dates in the range the API accepts (1900 to 2100)."""

    def __call__(self, form, field):
        if field.data is not None and not 1900 <= field.data.year <= 2100:
            raise StopValidation("Enter a year between 1900 and 2100.")


class Positive:
    """A number above zero and at most a maximum."""

    def __init__(self, maximum: float, message: str):
        self.maximum = maximum
        self.message = message

    def __call__(self, form, field):
        if field.data is not None and not 0 < field.data <= self.maximum:
            raise StopValidation(self.message)


class PatientForm(ConsentFields, PlainTextForm):
    """Register or edit a patient."""

    first_name = StringField(
        "First name",
        filters=[_strip],
        validators=[
            DataRequired("Enter the first name."),
            Length(max=80, message="Keep the first name to 80 characters."),
        ],
    )
    last_name = StringField(
        "Last name",
        filters=[_strip],
        validators=[
            DataRequired("Enter the last name."),
            Length(max=80, message="Keep the last name to 80 characters."),
        ],
    )
    email = EmailField(
        "Email",
        filters=[_strip, _blank_to_none],
        validators=[
            Optional(),
            Length(max=254, message="Keep the email to 254 characters."),
            Email("Enter an email address like name@example.com."),
        ],
    )
    phone = TelField(
        "Phone",
        filters=[_strip, _blank_to_none],
        validators=[
            Optional(),
            Length(max=40, message="Keep the phone number to 40 characters."),
            Regexp(PHONE_PATTERN, message="Use digits, spaces, brackets and dashes, with an optional leading +."),
        ],
    )
    date_of_birth = DayField(
        "Date of birth",
        validators=[Optional(), PlausibleYear(), NotInFuture("The date of birth cannot be in the future.")],
    )
    #: "book" to go on to the booking form with the new patient
    then = HiddenField()

    def data_for_service(self) -> dict:
        """The patient fields as the patients service takes them."""
        return {
            "first_name": self.first_name.data,
            "last_name": self.last_name.data,
            "email": self.email.data,
            "phone": self.phone.data,
            "date_of_birth": self.date_of_birth.data,
            "consents": self.consents_given(),
        }


def parse_slot(value: str) -> tuple[int, datetime] | None:
    """A slot choice "<practitioner id>|<RFC 3339 start>" as (practitioner id, aware UTC start)."""
    try:
        pid, _, iso = (value or "").partition("|")
        start = datetime.fromisoformat(iso)
        practitioner_id = int(pid)
    except ValueError:
        return None
    if start.tzinfo is None or start.utcoffset() is None or practitioner_id < 1 or not 2000 <= start.year <= 2100:
        return None
    return practitioner_id, start.astimezone(UTC)


def slot_value(practitioner_id: int, start: datetime) -> str:
    """The radio value of a free slot (see parse_slot)."""
    return f"{practitioner_id}|{start.astimezone(UTC).isoformat()}"


class SlotChoice:
    """A slot radio value that parse_slot understands."""

    def __call__(self, form, field):
        if parse_slot(field.data) is None:
            raise StopValidation("That time is not one of the offered times; pick a free time.")


class BookForm(PlainTextForm):
    """Book the chosen free time (the slot names the practitioner and the start)."""

    patient_id = HiddenField(validators=[DataRequired("Choose the patient first.")])
    treatment_id = HiddenField(validators=[DataRequired("Choose the treatment.")])
    slot = StringField("Time", validators=[DataRequired("Pick a free time."), SlotChoice()])
    override_reason = TextAreaField(
        "Override reason (admins only)",
        filters=[_strip, _blank_to_none],
        validators=[Optional(), Length(max=500, message="Keep the reason to 500 characters.")],
    )


class RescheduleForm(PlainTextForm):
    """Move a booked appointment to another free time."""

    slot = StringField("New time", validators=[DataRequired("Pick a free time."), SlotChoice()])
    override_reason = TextAreaField(
        "Override reason (admins only)",
        filters=[_strip, _blank_to_none],
        validators=[Optional(), Length(max=500, message="Keep the reason to 500 characters.")],
    )


class ActionForm(PlainTextForm):
    """A bare POST (check in, no-show) with its CSRF token and where to go next."""

    next = HiddenField()


class CancelForm(PlainTextForm):
    """Cancel an appointment, saying why."""

    reason = TextAreaField(
        "Reason for cancelling",
        filters=[_strip],
        validators=[
            DataRequired("Say why the appointment is cancelled."),
            Length(max=500, message="Keep the reason to 500 characters."),
        ],
    )
    next = HiddenField()


class CompleteForm(PlainTextForm):
    """Complete a checked-in appointment and record what was injected."""

    product = StringField(
        "Product",
        filters=[_strip, _blank_to_none],
        validators=[Optional(), Length(max=80, message="Keep the product to 80 characters.")],
    )
    units = UnitsField(
        "Units",
        validators=[
            InputRequired("Enter the units given."),
            Positive(1000, "Units must be more than 0 and at most 1000."),
        ],
    )
    lot_number = StringField(
        "Lot number",
        filters=[_strip],
        validators=[
            DataRequired("Enter the lot number from the vial."),
            Length(max=64, message="Keep the lot number to 64 characters."),
        ],
    )
    lot_expiry = DayField("Lot expiry", validators=[Optional(), PlausibleYear()])
    sites = StringField(
        "Injection sites",
        filters=[_strip, _blank_to_none],
        validators=[Optional(), Length(max=500, message="Keep the sites to 500 characters.")],
    )
    notes = TextAreaField(
        "Notes",
        filters=[_strip, _blank_to_none],
        validators=[Optional(), Length(max=2000, message="Keep the notes to 2000 characters.")],
    )


class PastSessionForm(PlainTextForm):
    """Record a session done earlier or at another clinic."""

    treatment_id = SelectField("Treatment", coerce=int, validators=[InputRequired("Choose the treatment.")])
    performed_on = DayField(
        "Date of the injection",
        validators=[
            InputRequired("Enter the date of the injection."),
            PlausibleYear(),
            NotInFuture("A session cannot be recorded for a future date."),
        ],
    )
    external = BooleanField("Given at another clinic")
    product = StringField(
        "Product (if different)",
        filters=[_strip, _blank_to_none],
        validators=[Optional(), Length(max=80, message="Keep the product to 80 characters.")],
    )
    units = UnitsField("Units", validators=[Optional(), Positive(1000, "Units must be more than 0 and at most 1000.")])
    lot_number = StringField(
        "Lot number",
        filters=[_strip, _blank_to_none],
        validators=[Optional(), Length(max=64, message="Keep the lot number to 64 characters.")],
    )
    lot_expiry = DayField("Lot expiry", validators=[Optional(), PlausibleYear()])
    sites = StringField(
        "Injection sites",
        filters=[_strip, _blank_to_none],
        validators=[Optional(), Length(max=500, message="Keep the sites to 500 characters.")],
    )
    notes = TextAreaField(
        "Notes",
        filters=[_strip, _blank_to_none],
        validators=[Optional(), Length(max=2000, message="Keep the notes to 2000 characters.")],
    )


def today_iso() -> str:
    """Today's clinic date as YYYY-MM-DD (the default of date inputs)."""
    return clock.today().isoformat()


def as_date(value: str | None) -> date | None:
    """A YYYY-MM-DD text as a date in 2000..2100, else None."""
    try:
        day = date.fromisoformat((value or "").strip())
    except ValueError:
        return None
    return day if 2000 <= day.year <= 2100 else None
