"""Admin: practitioners, their weekly working hours and their time off."""

from __future__ import annotations

from datetime import datetime

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from wtforms import BooleanField, DateTimeLocalField, EmailField, StringField
from wtforms.validators import DataRequired, Email, Length, Optional

from scheduler.catalog import operations as catalog
from scheduler.catalog import timeoff
from scheduler.domain.slots import DAYS
from scheduler.extensions import db
from scheduler.services import clock
from scheduler.services.errors import ServiceError
from scheduler.web.admin import bp
from scheduler.web.admin.forms import ActionForm
from scheduler.web.plain_text import PlainTextForm

DAY_NAMES = dict(zip(DAYS, ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"), strict=True))


class PractitionerForm(PlainTextForm):
    """Name, email, active, and one text box per day ("09:00-12:30, 13:30-17:00")."""

    name = StringField("Name", validators=[DataRequired(), Length(max=120)])
    email = EmailField("Email", validators=[Optional(), Email(), Length(max=254)])
    active = BooleanField("Taking bookings", default=True)


class TimeOffForm(PlainTextForm):
    """A period of leave, in local clinic time."""

    starts = DateTimeLocalField("From", format="%Y-%m-%dT%H:%M", validators=[DataRequired()])
    ends = DateTimeLocalField("Until", format="%Y-%m-%dT%H:%M", validators=[DataRequired()])
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
    return render_template(
        "admin/practitioner_edit.html",
        form=form,
        practitioner=existing,
        hours_text=hours_text,
        day_names=DAY_NAMES,
        time_off_form=TimeOffForm(),
        action=ActionForm(),
    ), status


@bp.post("/practitioners/<int:practitioner_id>/time-off")
def time_off_add(practitioner_id: int):
    """Adds time off in local clinic time."""
    form = TimeOffForm()
    if form.validate_on_submit():
        tz = clock.clinic_tz()
        starts = _aware(form.starts.data, tz)
        ends = _aware(form.ends.data, tz)
        try:
            timeoff.add(practitioner_id, starts, ends, form.reason.data or "", actor=current_user)
            db.session.commit()
            flash("Time off added.", "info")
        except ServiceError as exc:
            db.session.rollback()
            flash(exc.message, "error")
    else:
        reason_errors = form.reason.errors
        flash(reason_errors[0] if reason_errors else "Give both the start and the end of the time off.", "error")
    return redirect(url_for("admin.practitioner_edit", practitioner_id=practitioner_id))


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


def _aware(local: datetime, tz) -> datetime:
    """A local wall-clock time from a form as a UTC instant."""
    return local.replace(tzinfo=tz).astimezone(clock.UTC)
