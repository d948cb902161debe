"""Admin: the treatment catalogue editor, with a preview of the reminder dates."""

from __future__ import annotations

import re
from datetime import date

from flask import flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user
from wtforms import BooleanField, IntegerField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from scheduler.catalog import operations as catalog
from scheduler.domain import durations, plan, slots, toxins
from scheduler.extensions import db
from scheduler.services import clock
from scheduler.services.errors import ServiceError
from scheduler.web.admin import bp
from scheduler.web.plain_text import PlainTextForm

UNITS = {"D": "days", "W": "weeks", "M": "months"}
#: "as typed": the value field holds the whole length ("1 month 15 days", "P1M15D")
UNIT_CHOICES = [SelectChoice(k, v) for k, v in UNITS.items()] + [SelectChoice("ISO", "as typed")]


class TreatmentForm(PlainTextForm):
    """A catalogue entry; each interval is a number and a unit."""

    name = StringField("Name", validators=[DataRequired(), Length(max=120)])
    kind = SelectField(
        "Kind", choices=[SelectChoice("therapeutic", "Therapeutic"), SelectChoice("cosmetic", "Cosmetic")]
    )
    product = StringField("Product", validators=[DataRequired(), Length(max=80)])
    duration_minutes = IntegerField("Appointment length (minutes)", validators=[DataRequired(), NumberRange(5, 480)])
    min_interval_days = IntegerField(
        "Minimum interval between sessions (days)",
        validators=[DataRequired(), NumberRange(*durations.MIN_INTERVAL_DAYS)],
    )
    from_value = StringField("First reminder after", validators=[DataRequired(), Length(max=20)])
    from_unit = SelectField("unit", choices=UNIT_CHOICES)
    until_value = StringField("Last reminder after", validators=[DataRequired(), Length(max=20)])
    until_unit = SelectField("unit", choices=UNIT_CHOICES)
    reminder_count = IntegerField("Number of reminders", validators=[DataRequired(), NumberRange(1, 6)])
    follow_value = StringField("Follow-up email after (empty for none)", validators=[Optional(), Length(max=20)])
    follow_unit = SelectField("unit", choices=UNIT_CHOICES)
    active = BooleanField("Offered (bookable)", default=True)
    buffer_minutes = IntegerField(
        "Buffer after each appointment (minutes)",
        default=0,
        validators=[Optional(), NumberRange(0, slots.MAX_BUFFER_MINUTES, "From 0 to 60 minutes.")],
    )
    toxin = StringField("Toxin (empty: the product's)", validators=[Optional(), Length(max=80)])
    usual_sites = TextAreaField("Usual injection sites, one per line", validators=[Optional(), Length(max=2000)])


def to_iso(value: str | None, unit: str) -> str | None:
    """A number and a unit, or a length typed in words ("4 months", "12w", "P3M"), as an ISO 8601
    duration; None when empty; text that is neither is returned marked invalid for the checks."""
    value = (value or "").strip()
    if not value:
        return None
    if unit in UNITS and re.fullmatch(r"\d{1,4}", value):
        return f"P{int(value)}{unit}"
    try:
        return durations.parse_plain(value)
    except ValueError:
        return f"invalid:{value}"


def from_iso(iso: str | None) -> tuple[str, str]:
    """An ISO 8601 duration as (number, unit) when it has one unit, else in words with "as typed"."""
    if not iso:
        return "", "D"
    match = re.fullmatch(r"P(\d+)([DWM])", iso)
    return (match.group(1), match.group(2)) if match else (durations.plain(iso), "ISO")


def _values(form: TreatmentForm) -> dict:
    """The form as the catalogue service's fields."""
    return {
        "name": form.name.data,
        "kind": form.kind.data,
        "product": form.product.data,
        "duration_minutes": form.duration_minutes.data,
        "min_interval_days": form.min_interval_days.data,
        "remind_from": to_iso(form.from_value.data, form.from_unit.data) or "",
        "remind_until": to_iso(form.until_value.data, form.until_unit.data) or "",
        "reminder_count": form.reminder_count.data,
        "follow_up_after": to_iso(form.follow_value.data, form.follow_unit.data),
        "active": form.active.data,
        "buffer_minutes": form.buffer_minutes.data or 0,
        # toxin safety
        "toxin": (form.toxin.data or "").strip() or None,
        "usual_sites": (form.usual_sites.data or "").strip() or None,
    }


def preview(values: dict, session_day: date) -> tuple[list[date], date | None, dict[str, str]]:
    """Reminder dates (and the follow-up date) for a session on `session_day`, or the problems."""
    problems = durations.validate_interval(
        min_interval_days=values.get("min_interval_days") or 0,
        remind_from=values.get("remind_from") or "",
        remind_until=values.get("remind_until") or "",
        reminder_count=values.get("reminder_count") or 0,
        follow_up_after=values.get("follow_up_after"),
    )
    if problems:
        return [], None, durations.plain_problems(problems)
    iv = plan.Intervals.parse(
        values["remind_from"], values["remind_until"], values["reminder_count"], values.get("follow_up_after")
    )
    follow = durations.add_duration(session_day, iv.follow_up_after) if iv.follow_up_after else None
    return plan.retreatment_dates(session_day, iv), follow, {}


@bp.get("/treatments")
def treatments():
    """The catalogue."""
    return render_template("admin/treatments.html", treatments=catalog.list_treatments())


@bp.route("/treatments/new", methods=["GET", "POST"])
@bp.route("/treatments/<int:treatment_id>", methods=["GET", "POST"])
def treatment_edit(treatment_id: int | None = None):
    """Creates or edits a treatment; saving new intervals re-plans its pending reminders."""
    existing = catalog.get_treatment(treatment_id) if treatment_id else None
    form = TreatmentForm(obj=existing)
    if request.method == "GET":
        if existing:
            form.from_value.data, form.from_unit.data = from_iso(existing.remind_from)
            form.until_value.data, form.until_unit.data = from_iso(existing.remind_until)
            form.follow_value.data, form.follow_unit.data = from_iso(existing.follow_up_after)
        else:
            form.from_value.data, form.from_unit.data = "12", "W"
            form.until_value.data, form.until_unit.data = "6", "M"
            form.reminder_count.data, form.min_interval_days.data, form.duration_minutes.data = 3, 84, 30
    status, problems = 200, {}
    if form.validate_on_submit():
        values = _values(form)
        try:
            if existing:
                _, moved = catalog.update_treatment(existing.id, values, actor=current_user)
                message = f"Saved. {moved} pending reminder{'' if moved == 1 else 's'} re-planned."
            else:
                existing = catalog.create_treatment(values, actor=current_user)
                message = f"Added {existing.name}."
            db.session.commit()
            flash(message, "info")
            return redirect(url_for("admin.treatment_edit", treatment_id=existing.id))
        except ServiceError as exc:
            db.session.rollback()
            problems = durations.plain_problems(exc.fields)
            flash(exc.message, "error")
            status = exc.status
    elif request.method == "POST":
        status = 400
    today = clock.today()
    dates, follow, preview_problems = preview(_values(form), today)
    return render_template(
        "admin/treatment_edit.html",
        form=form,
        treatment=existing,
        problems=problems,
        preview_dates=dates,
        preview_follow=follow,
        preview_problems=preview_problems,
        today=today,
        known_toxins=toxins.KNOWN_TOXINS,
    ), status


@bp.get("/treatments/preview")
def treatment_preview():
    """JSON for the live preview: the reminder dates of a session today, or why there are none."""
    args = request.args

    def number(name: str) -> int:
        raw = args.get(name, "")
        return int(raw) if raw.isdigit() and len(raw) < 5 else 0

    values = {
        "min_interval_days": number("min_interval_days"),
        "reminder_count": number("reminder_count"),
        "remind_from": to_iso(args.get("from_value"), args.get("from_unit", "D")) or "",
        "remind_until": to_iso(args.get("until_value"), args.get("until_unit", "D")) or "",
        "follow_up_after": to_iso(args.get("follow_value"), args.get("follow_unit", "D")),
    }
    today = clock.today()
    dates, follow, problems = preview(values, today)
    return jsonify(
        {
            "session": today.isoformat(),
            "reminders": [d.isoformat() for d in dates],
            "follow_up": follow.isoformat() if follow else None,
            "problems": problems,
        }
    )
