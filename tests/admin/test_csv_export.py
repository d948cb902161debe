"""CSV downloads: no text cell is read as a formula by a spreadsheet (CSV injection)."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from sqlalchemy import text

from scheduler.extensions import db
from scheduler.models import TreatmentSession
from scheduler.web.csv_export import spreadsheet_safe

FORMULA = "=cmd|' /C calc'!A0"


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_a_text_cell_starting_like_a_formula_gets_an_apostrophe(start):
    assert spreadsheet_safe(f"{start}SUM(A1)") == f"'{start}SUM(A1)"


@pytest.mark.parametrize("value", ["C1234C3", "Olivia", "", "a=b", " =x", 155, -3, None])
def test_other_cells_are_left_as_they_are(value):
    assert spreadsheet_safe(value) == value


def test_the_lot_csv_neutralises_formulas_in_every_text_cell(client, sign_in, make_patient, make_treatment):
    sign_in("admin")
    treatment = make_treatment(name="@SUM(1+1)")
    patient = make_patient(first_name="+Olivia", last_name="-Smith", email="@evil.example", phone="-1")
    session = TreatmentSession(
        patient_id=patient.id,
        treatment_id=treatment.id,
        performed_on=date(2026, 5, 1),
        product="BOTOX",
        units=155,
        lot_number="placeholder",
        external=False,
    )
    db.session.add(session)
    db.session.commit()
    db.session.execute(
        text("UPDATE sessions SET lot_number = :lot, product = :product WHERE id = :id"),
        {"lot": FORMULA, "product": "\tBOTOX", "id": session.id},
    )
    db.session.commit()
    resp = client.get("/admin/lots", query_string={"lot": FORMULA, "format": "csv"})
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(resp.get_data(as_text=True))))
    assert len(rows) == 1
    assert rows[0]["lot_number"] == "'=cmd|' /C calc'!A0"
    assert (rows[0]["first_name"], rows[0]["last_name"]) == ("'+Olivia", "'-Smith")
    assert (rows[0]["email"], rows[0]["phone"]) == ("'@evil.example", "'-1")
    assert (rows[0]["product"], rows[0]["treatment"]) == ("'\tBOTOX", "'@SUM(1+1)")
    assert (rows[0]["units"], rows[0]["performed_on"], rows[0]["patient_id"]) == ("155", "2026-05-01", str(patient.id))
    assert FORMULA in client.get("/admin/lots", query_string={"lot": FORMULA}).get_data(as_text=True).replace(
        "&#39;", "'"
    )
