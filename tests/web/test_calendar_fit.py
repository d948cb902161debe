"""Calendar cells that fit: a free cell is offered only where the shortest active treatment, with
its buffer, fits before the next held time, time off or the end of working hours."""

from __future__ import annotations

import re

from scheduler.booking import operations
from scheduler.extensions import db
from scheduler.models import TimeOff
from tests.conftest import london
from tests.web.conftest import TUESDAY


def _cells(client, clinic) -> list[str]:
    html = client.get(f"/calendar?date={TUESDAY}").get_data(as_text=True)
    return re.findall(rf'href="/book\?practitioner_id={clinic.hart.id}&amp;date={TUESDAY}&amp;time=(\d\d:\d\d)"', html)


def _only_migraine(clinic, buffer: int) -> None:
    """Leaves migraine (30 minutes + buffer) as the one active treatment."""
    clinic.cosmetic.active = False
    clinic.dystonia.active = False
    clinic.migraine.buffer_minutes = buffer
    db.session.commit()


def test_a_cell_no_treatment_fits_is_not_offered(client, clinic, reception):
    _only_migraine(clinic, 10)
    operations.book(
        patient_id=clinic.olivia.id,
        practitioner_id=clinic.hart.id,
        treatment_id=clinic.migraine.id,
        starts_at=london(TUESDAY, 12),
        actor=None,
    )
    db.session.add(TimeOff(practitioner_id=clinic.hart.id, starts_at=london(TUESDAY, 14), ends_at=london(TUESDAY, 15)))
    db.session.commit()
    cells = _cells(client, clinic)
    assert "11:15" in cells and "11:30" not in cells and "11:45" not in cells  # 40 minutes before 12:00
    assert "12:30" not in cells and "12:45" in cells  # the booking's buffer runs to 12:40
    assert "13:15" in cells and "13:30" not in cells  # time off at 14:00
    assert "16:15" in cells and "16:30" not in cells and "16:45" not in cells  # closing at 17:00


def test_the_buffer_is_drawn_after_the_appointment(client, clinic, reception):
    _only_migraine(clinic, 10)
    operations.book(
        patient_id=clinic.olivia.id,
        practitioner_id=clinic.hart.id,
        treatment_id=clinic.migraine.id,
        starts_at=london(TUESDAY, 10),
        actor=None,
    )
    db.session.commit()
    html = client.get(f"/calendar?date={TUESDAY}").get_data(as_text=True)
    # 10:30 is 90 minutes after 09:00: track 19, two 5-minute tracks long
    assert re.search(r'<div class="buffer r19 s2"', html)


def test_a_changed_buffer_changes_the_cells(client, clinic, reception):
    _only_migraine(clinic, 0)
    assert _cells(client, clinic)[-1] == "16:30"
    clinic.migraine.buffer_minutes = 30
    db.session.commit()
    assert _cells(client, clinic)[-1] == "16:00"


def test_the_booking_form_offers_only_times_where_the_treatment_and_its_buffer_fit(client, clinic, reception):
    _only_migraine(clinic, 10)
    html = client.get(
        f"/book?patient_id={clinic.olivia.id}&treatment_id={clinic.migraine.id}"
        f"&practitioner_id={clinic.hart.id}&date={TUESDAY}"
    ).get_data(as_text=True)
    times = re.findall(r'<input type="radio" name="slot" value="[^"]+"[^>]*><span>(\d\d:\d\d)</span>', html)
    assert times[0] == "09:00" and times[-1] == "16:15"  # 16:30 + 30 minutes + 10 of buffer > 17:00
