"""Forms of the clinical-safety actions: status changes an admin may override, session corrections,
toxin limits. Every one carries a CSRF token."""

from __future__ import annotations

from wtforms import DecimalField, HiddenField, IntegerField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from scheduler.web.forms import CompleteForm, DayField, PastSessionForm, Positive, UnitsField, _blank_to_none, _strip
from scheduler.web.plain_text import PlainTextForm


def _override_field() -> TextAreaField:
    """An admin's reason for setting a safety or timing rule aside."""
    return TextAreaField(
        "Override reason (admins only)",
        filters=[_strip, _blank_to_none],
        validators=[Optional(), Length(max=500, message="Keep the reason to 500 characters.")],
    )


class SiteChoices(SelectMultipleField):
    """The treatment's usual injection sites as tick boxes (any subset, none required)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def pre_validate(self, form):
        """Only offered sites may be ticked."""
        offered = {value for value, _label in self.choices or []}
        if any(value not in offered for value in self.data or []):
            raise ValueError("Tick only the sites offered.")


def joined_sites(chosen: list[str] | None, other: str | None) -> str | None:
    """The ticked sites and the free text as one stored text ("glabella, frontalis, left temple")."""
    parts = [*(chosen or []), *([other] if other else [])]
    return ", ".join(parts)[:500] or None


class SitesMixin:
    """Sites from the treatment's list plus free text."""

    site_choices = SiteChoices("Usual injection sites", choices=[])
    sites = StringField(
        "Injection sites",
        filters=[_strip, _blank_to_none],
        validators=[Optional(), Length(max=500, message="Keep the sites to 500 characters.")],
    )

    def offer_sites(self, usual: list[str]) -> None:
        """Offers the treatment's usual sites as tick boxes."""
        self.site_choices.choices = [(s, s) for s in usual]

    def all_sites(self) -> str | None:
        """The ticked and typed sites together."""
        return joined_sites(self.site_choices.data, self.sites.data)


class StatusActionForm(PlainTextForm):
    """A status change (check in, no-show, undo), with an admin's reason when a rule is set aside."""

    next = HiddenField()
    override_reason = _override_field()


class CompleteSessionForm(SitesMixin, CompleteForm):
    """Complete a checked-in appointment: the session, sites from a list, an admin's override."""

    override_reason = _override_field()


class RecordSessionForm(SitesMixin, PastSessionForm):
    """Record a session done earlier or elsewhere, with an admin's override."""

    override_reason = _override_field()


class SessionEditForm(SitesMixin, PlainTextForm):
    """Correct a recorded session: units, lot, expiry, sites, notes."""

    units = UnitsField("Units", validators=[Optional(), Positive(1000, "Units must be more than 0 and at most 1000.")])
    lot_number = StringField(
        "Lot number",
        filters=[_strip, _blank_to_none],
        validators=[Optional(), Length(max=64, message="Keep the lot number to 64 characters.")],
    )
    lot_expiry = DayField("Lot expiry", validators=[Optional()])
    notes = TextAreaField(
        "Notes",
        filters=[_strip, _blank_to_none],
        validators=[Optional(), Length(max=2000, message="Keep the notes to 2000 characters.")],
    )
    override_reason = _override_field()


class VoidForm(PlainTextForm):
    """Void a session recorded in error, saying why."""

    reason = TextAreaField(
        "Why is this session voided?",
        filters=[_strip],
        validators=[
            DataRequired("Say why the session is voided."),
            Length(max=500, message="Keep the reason to 500 characters."),
        ],
    )


class ToxinForm(PlainTextForm):
    """A toxin and its rolling dose limit (both limit fields, or neither)."""

    name = StringField(
        "Toxin",
        filters=[_strip],
        validators=[DataRequired("Name the toxin."), Length(max=80, message="Keep the name to 80 characters.")],
    )
    max_units = DecimalField(
        "Most units",
        places=None,
        validators=[Optional(), NumberRange(min=0.01, max=100000, message="Between 0.01 and 100000 units.")],
    )
    period_days = IntegerField(
        "In any period of (days)",
        validators=[Optional(), NumberRange(min=1, max=730, message="Between 1 and 730 days.")],
    )
