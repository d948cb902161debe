"""Admin audit log and lot search (CSV export for product recalls)."""

import csv
import io
from datetime import date

from scheduler.extensions import db
from scheduler.models import TreatmentSession
from scheduler.services import audit


def test_audit_log_lists_and_filters(client, sign_in, make_user):
    admin = sign_in("admin")
    audit.record("appointment.booked", "appointment", 7, admin, {"starts_at": "2027-03-01T09:00:00+00:00"})
    audit.record("treatment.intervals_changed", "treatment", 2, admin, {"reminders_replanned": 12})
    db.session.commit()
    html = client.get("/admin/audit").get_data(as_text=True)
    assert "appointment.booked" in html and "treatment.intervals_changed" in html
    only = client.get("/admin/audit?action=treatment.").get_data(as_text=True)
    assert "treatment.intervals_changed" in only and "appointment.booked" not in only
    by_entity = client.get("/admin/audit?entity=appointment").get_data(as_text=True)
    assert "appointment.booked" in by_entity and "intervals_changed" not in by_entity
    assert client.get("/admin/audit?from=2027-02-30").status_code == 400


def test_lot_search_and_csv(client, sign_in, make_patient, make_treatment):
    sign_in("admin")
    treatment = make_treatment()
    hit, miss = make_patient(first_name="=cmd", last_name="Recall"), make_patient(last_name="Other")
    db.session.add_all(
        [
            TreatmentSession(
                patient_id=hit.id,
                treatment_id=treatment.id,
                performed_on=date(2026, 5, 1),
                product="BOTOX",
                units=155,
                lot_number="C1234C3",
                external=False,
            ),
            TreatmentSession(
                patient_id=miss.id,
                treatment_id=treatment.id,
                performed_on=date(2026, 5, 2),
                product="BOTOX",
                units=100,
                lot_number="C9999C1",
                external=False,
            ),
        ]
    )
    db.session.commit()
    html = client.get("/admin/lots?lot=C1234C3").get_data(as_text=True)
    assert "Recall" in html and "Other" not in html and "1 session from lot" in html
    resp = client.get("/admin/lots?lot=C1234C3&format=csv")
    assert resp.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(resp.get_data(as_text=True))))
    assert len(rows) == 1
    assert rows[0]["last_name"] == "Recall" and rows[0]["units"] == "155" and rows[0]["performed_on"] == "2026-05-01"
    assert rows[0]["first_name"] == "'=cmd"  # no spreadsheet formula
    assert "0 sessions" in client.get("/admin/lots?lot=NOPE").get_data(as_text=True)


def test_lot_search_ignores_case_and_finds_by_prefix(client, sign_in, make_patient, make_treatment):
    """A product recall must not get a false zero from how the lot number was typed."""
    from scheduler.patients import sessions

    sign_in("admin")
    treatment = make_treatment()
    people = [make_patient(last_name=name) for name in ("Upper", "Lower", "Sibling", "Elsewhere", "Wild")]
    for patient, lot in zip(people, ("C1003C1", "c1003c1", "C1003C2", "X1003C1", "C1%3_1"), strict=True):
        db.session.add(
            TreatmentSession(
                patient_id=patient.id,
                treatment_id=treatment.id,
                performed_on=date(2026, 5, 1),
                product="BOTOX",
                units=100,
                lot_number=lot,
                external=False,
            )
        )
    db.session.commit()

    def found(typed: str) -> list[str]:
        return sorted(s.patient.last_name for s in sessions.patients_by_lot(typed))

    assert found("c1003c1") == found("C1003C1") == found(" C1003c1 ") == ["Lower", "Upper"]
    assert found("C1003") == ["Lower", "Sibling", "Upper"]
    assert found("1003") == [] and found("") == []
    assert found("C1%") == ["Wild"] and found("C1_0") == []  # LIKE wildcards are plain characters
    html = client.get("/admin/lots?lot=c1003").get_data(as_text=True)
    assert "3 sessions from lot" in html and "C1003C2" in html and "Elsewhere" not in html
    rows = list(csv.DictReader(io.StringIO(client.get("/admin/lots?lot=c1003&format=csv").get_data(as_text=True))))
    assert sorted(r["lot_number"] for r in rows) == ["C1003C1", "C1003C2", "c1003c1"]
