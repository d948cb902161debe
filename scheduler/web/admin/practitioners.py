"""Admin: practitioners, their weekly working hours and their time off."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from wtforms import BooleanField, DateTimeLocalField, EmailField, StringField
from wtforms.validators import DataRequired, Email, InputRequired, Length, Optional, StopValidation

from scheduler.catalog import operations as catalog
from scheduler.catalog import timeoff
from scheduler.domain import wallclock
from scheduler.domain.slots import DAYS
from scheduler.extensions import db
from scheduler.services import clock
from scheduler.services.errors import ServiceError
from scheduler.web.admin import bp
from scheduler.web.admin.forms import ActionForm
from scheduler.web.plain_text import PlainTextForm

#: what a datetime-local input sends
LOCAL_FORMAT = "%Y-%m-%dT%H:%M"
DAY_NAMES = dict(zip(DAYS, ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"), strict=True))


class PractitionerForm(PlainTextForm):
    """Name, email, active, and one text box per day ("09:00-12:30, 13:30-17:00")."""

    name = StringField("Name", validators=[DataRequired(), Length(max=120)])
    email = EmailField("Email", validators=[Optional(), Email(), Length(max=254)])
    active = BooleanField("Taking bookings", default=True)


class ClinicTime:
    """A local date and time in 2000..2100 that happens exactly once in the clinic's time zone."""

    def __call__(self, form, field):
        if field.data is None:
            return
        if not 2000 <= field.data.year <= 2100:
            raise StopValidation("Enter a year between 2000 and 2100.")
        try:
            wallclock.to_instant(field.data, clock.clinic_tz())
        except wallclock.NotAnInstant as exc:
            raise StopValidation(str(exc)) from None


class TimeOffForm(PlainTextForm):
    """A period of leave, in local clinic time."""

    starts = DateTimeLocalField(
        "From", format=LOCAL_FORMAT, validators=[InputRequired("Give the start."), ClinicTime()]
    )
    ends = DateTimeLocalField("Until", format=LOCAL_FORMAT, validators=[InputRequired("Give the end."), ClinicTime()])
    reason = StringField("Reason", validators=[Optional(), Length(max=200)])


def _hours_text(hours: dict) -> dict[str, str]:
    """Working hours as the form's text, per day."""
    return {d: ", ".join(f"{a}-{b}" for a, b in hours.get(d, [])) for d in DAYS}


def _hours_from_form() -> dict[str, list[list[str]]] | str:
    """The form's per-day text as working hours, or a message saying what is wrong."""
    hours: dict[str, list[list[str]]] = {}
    for day in DAYS:
        text = request.form.get(f"hours_{day}", "").strip()
        if not text:
            continue
        spans = []
        for part in text.split(","):
            start, sep, end = part.strip().partition("-")
            if not sep:
                return f"{DAY_NAMES[day]}: write times like 09:00-17:00, separated by commas"
            spans.append([start.strip(), end.strip()])
        hours[day] = spans
    return hours


@bp.get("/practitioners")
def practitioners():
    """Every practitioner with their hours."""
    return render_template(
        "admin/practitioners.html",
        practitioners=catalog.list_practitioners(),
        day_names=DAY_NAMES,
        hours_text=_hours_text,
    )


@bp.route("/practitioners/new", methods=["GET", "POST"])
@bp.route("/practitioners/<int:practitioner_id>", methods=["GET", "POST"])
def practitioner_edit(practitioner_id: int | None = None):
    """Creates or edits a practitioner and their working hours."""
    existing = catalog.get_practitioner(practitioner_id) if practitioner_id else None
    form = PractitionerForm(obj=existing)
    hours_text = _hours_text(existing.working_hours if existing else {})
    status = 200
    if form.validate_on_submit():
        hours = _hours_from_form()
        hours_text = {d: request.form.get(f"hours_{d}", "") for d in DAYS}
        if isinstance(hours, str):
            flash(hours, "error")
            status = 422
        else:
            data = {
                "name": form.name.data,
                "email": form.email.data or None,
                "active": form.active.data,
                "working_hours": hours,
            }
            try:
                if existing:
                    catalog.update_practitioner(existing.id, data, actor=current_user)
                else:
                    existing = catalog.create_practitioner(data, actor=current_user)
                db.session.commit()
                flash(f"Saved {data['name']}.", "info")
                return redirect(url_for("admin.practitioner_edit", practitioner_id=existing.id))
            except ServiceError as exc:
                db.session.rollback()
                flash(exc.message, "error")
                status = exc.status
    elif request.method == "POST":
        status = 400
    return _edit_page(existing, form, hours_text, status)


def _edit_page(existing, form: PractitionerForm, hours_text: dict[str, str], status: int, **time_off):
    """The practitioner page; `time_off` may carry the posted time-off form and its error."""
    time_off.setdefault("time_off_form", TimeOffForm(formdata=None))
    return render_template(
        "admin/practitioner_edit.html",
        form=form,
        practitioner=existing,
        hours_text=hours_text,
        day_names=DAY_NAMES,
        action=ActionForm(),
        **time_off,
    ), status


@bp.post("/practitioners/<int:practitioner_id>/time-off")
def time_off_add(practitioner_id: int):
    """Adds time off in local clinic time; a refusal is shown on the practitioner's page."""
    practitioner = catalog.get_practitioner(practitioner_id)
    form = TimeOffForm()
    if not form.validate_on_submit():
        return _time_off_refused(practitioner, form, 400, "The time off was not added; see the marked fields.")
    tz = clock.clinic_tz()
    starts, ends = wallclock.to_instant(form.starts.data, tz), wallclock.to_instant(form.ends.data, tz)
    try:
        timeoff.add(practitioner.id, starts, ends, form.reason.data or "", actor=current_user)
    except ServiceError as exc:
        db.session.rollback()
        return _time_off_refused(catalog.get_practitioner(practitioner_id), form, exc.status, exc.message)
    db.session.commit()
    flash("Time off added.", "info")
    return redirect(url_for("admin.practitioner_edit", practitioner_id=practitioner_id))


def _time_off_refused(practitioner, form: TimeOffForm, status: int, message: str):
    """The practitioner page again, with the posted time off and why it was refused."""
    page_form = PractitionerForm(formdata=None, obj=practitioner)
    hours_text = _hours_text(practitioner.working_hours)
    return _edit_page(practitioner, page_form, hours_text, status, time_off_form=form, time_off_error=message)


@bp.post("/time-off/<int:time_off_id>/delete")
def time_off_remove(time_off_id: int):
    """Removes time off."""
    practitioner_id = request.form.get("practitioner_id", type=int)
    if ActionForm().validate_on_submit():
        try:
            timeoff.remove(time_off_id, actor=current_user)
            db.session.commit()
            flash("Time off removed.", "info")
        except ServiceError as exc:
            db.session.rollback()
            flash(exc.message, "error")
    if practitioner_id:
        return redirect(url_for("admin.practitioner_edit", practitioner_id=practitioner_id))
    return redirect(url_for("admin.practitioners"))
