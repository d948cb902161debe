"""Correcting a recorded session: edit units, lot, expiry, sites and notes, or void it with a reason."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from scheduler.extensions import db
from scheduler.patients import corrections
from scheduler.patients.view import treatment_sites
from scheduler.services.errors import ServiceError
from scheduler.web.clinical_forms import SessionEditForm, VoidForm
from scheduler.web.reception import bp
from scheduler.web.reception.common import actor, show_service_error


def _edit_form(session, formdata=True) -> SessionEditForm:
    """The correction form, filled from the session; its recorded sites split into ticks and text."""
    usual = treatment_sites(session.treatment)
    recorded = [p.strip() for p in (session.sites or "").split(",") if p.strip()]
    if formdata:
        form = SessionEditForm()
    else:
        form = SessionEditForm(
            formdata=None,
            units=session.units,
            lot_number=session.lot_number,
            lot_expiry=session.lot_expiry,
            notes=session.notes,
            site_choices=[s for s in recorded if s in usual],
            sites=", ".join(s for s in recorded if s not in usual) or None,
        )
    form.offer_sites(usual)
    return form


def _render(session, form: SessionEditForm, void_form: VoidForm, *, status: int = 200, error: str | None = None):
    """The correction page."""
    return render_template(
        "reception/session_correct.html",
        s=session,
        form=form,
        void_form=void_form,
        is_admin=current_user.is_admin,
        error=error,
    ), status


@bp.get("/sessions/<int:session_id>")
def session_correct(session_id: int):
    """A recorded session with its correction and void forms."""
    session = corrections.get_session(session_id)
    return _render(session, _edit_form(session, formdata=False), VoidForm(formdata=None))


@bp.post("/sessions/<int:session_id>")
def session_correct_post(session_id: int):
    """Saves a correction; a refusal (dose limit, expired lot, voided) is shown on the form."""
    session = corrections.get_session(session_id)
    form = _edit_form(session)
    if not form.validate_on_submit():
        return _render(session, form, VoidForm(formdata=None), status=400, error="Please correct the marked fields.")
    changes = {
        "units": form.units.data,
        "lot_number": form.lot_number.data,
        "lot_expiry": form.lot_expiry.data,
        "sites": form.all_sites(),
        "notes": form.notes.data,
    }
    try:
        corrections.edit(session.id, changes, actor=actor(), override_reason=form.override_reason.data)
    except ServiceError as exc:
        status = show_service_error(form, exc)
        session = corrections.get_session(session_id)
        return _render(session, form, VoidForm(formdata=None), status=status, error=exc.message)
    db.session.commit()
    flash(f"Corrected the session of {session.performed_on:%d %b %Y}.", "success")
    return redirect(url_for("reception.patient", patient_id=session.patient_id))


@bp.post("/sessions/<int:session_id>/void")
def session_void(session_id: int):
    """Voids a session with a reason; its reminders stop and the safety rules no longer count it."""
    session = corrections.get_session(session_id)
    void_form = VoidForm()
    if not void_form.validate_on_submit():
        error = "Say why the session is voided." if request.method == "POST" else None
        return _render(session, _edit_form(session, formdata=False), void_form, status=400, error=error)
    try:
        corrections.void(session.id, actor=actor(), reason=void_form.reason.data)
    except ServiceError as exc:
        status = show_service_error(void_form, exc)
        session = corrections.get_session(session_id)
        return _render(session, _edit_form(session, formdata=False), void_form, status=status, error=exc.message)
    db.session.commit()
    flash(f"Voided the session of {session.performed_on:%d %b %Y}.", "success")
    return redirect(url_for("reception.patient", patient_id=session.patient_id))
