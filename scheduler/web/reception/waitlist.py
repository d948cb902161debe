"""The waitlist page: who waits for which treatment, practitioner and dates; add a patient, remove one.

A patient is found by a GET search (as on the booking form), then put on the list by a POST
form; each row has a Remove button (a POST). The order of the list is the order offers go out.
"""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from wtforms import HiddenField, SelectField
from wtforms.validators import DataRequired, InputRequired

from scheduler.catalog import operations as catalog
from scheduler.extensions import db
from scheduler.patients import records as patients
from scheduler.services import clock
from scheduler.services.errors import ServiceError
from scheduler.waitlist import entries
from scheduler.web.args import text_arg
from scheduler.web.forms import DayField, PlausibleYear
from scheduler.web.plain_text import PlainTextForm
from scheduler.web.reception import bp
from scheduler.web.reception.common import actor, id_arg, show_service_error

LIMIT = 500


class WaitlistForm(PlainTextForm):
    """Put the chosen patient on the waitlist."""

    patient_id = HiddenField(validators=[DataRequired("Choose the patient first.")])
    treatment_id = SelectField("Treatment", coerce=int, validators=[InputRequired("Choose the treatment.")])
    practitioner_id = SelectField("Practitioner", coerce=int, validators=[InputRequired("Choose a practitioner.")])
    from_date = DayField("From", validators=[InputRequired("Enter the first date that suits."), PlausibleYear()])
    until_date = DayField("Until", validators=[InputRequired("Enter the last date that suits."), PlausibleYear()])


class RemoveForm(PlainTextForm):
    """A bare POST with its CSRF token."""


def _form(formdata=None) -> WaitlistForm:
    form = WaitlistForm(formdata=formdata)
    form.treatment_id.choices = [(t.id, t.name) for t in catalog.list_treatments(include_inactive=False)]
    form.practitioner_id.choices = [(0, "Any practitioner")] + [
        (p.id, p.name) for p in catalog.list_practitioners(include_inactive=False)
    ]
    return form


def _page(form: WaitlistForm, status: int = 200, error: str | None = None):
    patient_id = id_arg("patient_id", request.form if request.method == "POST" else None)
    try:
        patient = patients.get(patient_id) if patient_id is not None else None
    except ServiceError:
        patient = None
    if patient is not None:
        form.patient_id.data = str(patient.id)
    if form.from_date.data is None and request.method == "GET":
        form.from_date.data = clock.today()
    q = text_arg("q", 100, label="search") if request.method == "GET" else ""
    waiting = entries.listing(limit=LIMIT + 1)
    return (
        render_template(
            "reception/waitlist.html",
            form=form,
            remove_form=RemoveForm(formdata=None),
            patient=patient,
            q=q,
            matches=patients.search(q, limit=20) if q else [],
            entries=waiting[:LIMIT],
            truncated=len(waiting) > LIMIT,
            error=error,
        ),
        status,
    )


@bp.get("/waitlist")
def waitlist():
    """The waiting patients, oldest first, and the form that adds one."""
    return _page(_form())


@bp.post("/waitlist")
def waitlist_add():
    """Puts the chosen patient on the waitlist."""
    form = _form(request.form)
    patient_id = id_arg("patient_id", request.form)
    if not form.validate() or patient_id is None:
        return _page(form, 400, None if patient_id else "Choose the patient first.")
    try:
        entries.add(
            patient_id=patient_id,
            treatment_id=form.treatment_id.data,
            practitioner_id=form.practitioner_id.data or None,
            from_date=form.from_date.data,
            until_date=form.until_date.data,
            actor=actor(),
        )
        db.session.commit()
    except ServiceError as exc:
        return _page(form, show_service_error(form, exc), exc.message)
    flash("Added to the waitlist.")
    return redirect(url_for("reception.waitlist"), 303)


@bp.post("/waitlist/<int:entry_id>/remove")
def waitlist_remove(entry_id: int):
    """Takes a patient off the waitlist."""
    form = RemoveForm()
    if not form.validate():
        return _page(_form(), 400, "The form expired; try again.")
    try:
        entries.remove(entry_id, actor=actor())
        db.session.commit()
    except ServiceError as exc:
        return _page(_form(), show_service_error(None, exc), exc.message)
    flash("Removed from the waitlist.")
    return redirect(url_for("reception.waitlist"), 303)
