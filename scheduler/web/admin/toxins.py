"""Admin: toxins and their rolling dose limits."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_login import current_user

from scheduler.catalog import toxins
from scheduler.extensions import db
from scheduler.services.errors import ServiceError
from scheduler.web.admin import bp
from scheduler.web.clinical_forms import ToxinForm


@bp.route("/toxins", methods=["GET", "POST"])
def toxin_limits():
    """Every toxin with its limit, and a form to set one (both fields empty: no limit)."""
    form = ToxinForm()
    status = 200
    if form.validate_on_submit():
        units = float(form.max_units.data) if form.max_units.data is not None else None
        try:
            toxins.set_limit(form.name.data, units, form.period_days.data, actor=current_user)
        except ServiceError as exc:
            db.session.rollback()
            flash(exc.message, "error")
            status = exc.status
        else:
            db.session.commit()
            flash(f"Saved the limit of {form.name.data}.", "info")
            return redirect(url_for("admin.toxin_limits"))
    elif form.is_submitted():
        status = 400
    return render_template("admin/toxins.html", rows=toxins.list_toxins(), form=form), status
