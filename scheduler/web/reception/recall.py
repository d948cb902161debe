"""The recall list as a work queue: patients due for re-treatment who have not booked, and the
calls made to them."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for

from scheduler.catalog import operations as catalog
from scheduler.domain import recall_calls
from scheduler.extensions import db
from scheduler.patients import contacts, recall
from scheduler.services import clock
from scheduler.services.errors import ServiceError
from scheduler.web.reception import bp
from scheduler.web.reception.call_form import CallForm
from scheduler.web.reception.common import actor, id_arg
from scheduler.web.reception.patients import patient as patient_page

LIMIT = 500
FIELD_WORDS = {"outcome": "Outcome", "call_back_on": "Call back on", "note": "Note", "treatment_id": "Treatment"}


@bp.get("/recall")
def recall_list():
    """Who is due (window open or overdue) with no booking of that treatment: those to call now first."""
    treatment_id = id_arg("treatment_id")
    items = recall.due_list(clock.today(), treatment_id=treatment_id, limit=LIMIT + 1)
    return render_template(
        "reception/recall.html",
        items=items[:LIMIT],
        truncated=len(items) > LIMIT,
        treatments=catalog.list_treatments(include_inactive=False),
        treatment_id=treatment_id,
        today=clock.today(),
        show_bad_filter=bool(request.args.get("treatment_id")) and treatment_id is None,
        call_form=CallForm(formdata=None),
        outcomes=recall_calls.OUTCOMES,
    )


@bp.post("/patients/<int:patient_id>/calls")
def log_call(patient_id: int):
    """Records a call to a patient on the recall list and its outcome; back to the list (or the patient)."""
    form = CallForm()
    to_patient = request.form.get("back") == "patient"
    back = url_for("reception.patient", patient_id=patient_id) if to_patient else url_for("reception.recall_list")
    problems: dict[str, str] = {}
    if form.validate_on_submit():
        try:
            row = contacts.log_call(
                patient_id,
                form.outcome.data,
                treatment_id=id_arg("treatment_id", request.form),
                call_back_on=form.call_back_on.data,
                note=form.note.data or "",
                actor=actor(),
            )
            db.session.commit()
            when = f" on {row.call_back_on.day} {row.call_back_on:%b %Y}" if row.call_back_on else ""
            flash(f"Call recorded: {recall_calls.OUTCOMES[row.outcome].lower()}{when}.", "success")
            return redirect(back)
        except ServiceError as exc:
            db.session.rollback()
            if exc.status == 404:
                abort(404, description=exc.message)
            problems = exc.fields or {"outcome": exc.message}
    else:
        problems = {name: " ".join(errors) for name, errors in form.errors.items()}
    reasons = " ".join(f"{FIELD_WORDS.get(k, k)}: {v.rstrip('.')}." for k, v in problems.items())
    flash(f"The call was not recorded. {reasons}".strip(), "error")
    page = patient_page(patient_id) if to_patient else recall_list()
    return page, 400
