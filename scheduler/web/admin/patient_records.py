"""Admin: one patient's data export (JSON file, printable HTML) and erasure (scheduler.records)."""

from __future__ import annotations

import json

from flask import Response, flash, redirect, render_template, url_for

from scheduler.extensions import db
from scheduler.patients import records as patients
from scheduler.records import erasure, export
from scheduler.services.errors import ServiceError
from scheduler.web.admin import bp
from scheduler.web.admin.forms import EraseForm
from scheduler.web.reception.common import actor


@bp.get("/patients/<int:patient_id>/records")
def patient_records(patient_id: int):
    """Export links and the erasure form (the confirmation step) for one patient."""
    patient = patients.get(patient_id)
    return render_template("admin/patient_records.html", patient=patient, form=EraseForm())


@bp.get("/patients/<int:patient_id>/export.json")
def patient_export_json(patient_id: int):
    """Every row about the patient, as a JSON file to download."""
    data = export.collect(patient_id)
    body = json.dumps(data, indent=2, ensure_ascii=False, sort_keys=True)
    return Response(
        body,
        mimetype="application/json",
        headers={"Content-Disposition": f'attachment; filename="patient-{patient_id}-export.json"'},
    )


@bp.get("/patients/<int:patient_id>/export.html")
def patient_export_html(patient_id: int):
    """The same data as a readable, printable summary."""
    return render_template("admin/patient_export.html", data=export.collect(patient_id))


@bp.post("/patients/<int:patient_id>/erase")
def patient_erase(patient_id: int):
    """Erases the patient's personal details after the reason and the confirmation box."""
    patient = patients.get(patient_id)
    form = EraseForm()
    if not form.validate_on_submit():
        return render_template("admin/patient_records.html", patient=patient, form=form), 400
    try:
        erasure.erase(patient_id, form.reason.data, actor=actor())
    except ServiceError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return render_template("admin/patient_records.html", patient=patient, form=form), exc.status
    db.session.commit()
    flash(f"Patient #{patient_id}'s personal details were erased; the clinical record stays.", "success")
    return redirect(url_for("reception.patient", patient_id=patient_id))
