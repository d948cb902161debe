"""The patients' search (one function behind the desk, the booking panel and the API): names in any
order, phone numbers in any common format, dates of birth as people write them."""

from __future__ import annotations

from datetime import date

import pytest

from scheduler.extensions import db
from scheduler.models import Patient
from scheduler.patients import records
from tests.web.conftest import text_of


@pytest.fixture
def amelia(app, make_patient) -> Patient:
    make_patient(first_name="Amelia", last_name="Hartley", phone="07700 900555", date_of_birth=date(1962, 1, 3))
    make_patient(first_name="Raj", last_name="Patel", phone="07700 900777", date_of_birth=date(1951, 4, 14))
    make_patient(first_name="Mary-Anne", last_name="van der Berg", phone=None, date_of_birth=None)
    return make_patient(first_name="Amelia", last_name="Patel", phone="07700 900118", date_of_birth=date(1951, 4, 13))


@pytest.mark.parametrize(
    "q",
    [
        "Patel, Amelia",
        "Amelia Patel",
        "patel amelia",
        "PATEL,AMELIA",
        "am pat",
        "+447700900118",
        "+44 7700 900118",
        "07700 900118",
        "07700900118",
        "0044 7700 900118",
        "(07700) 900-118",
        "900118",
        "13/04/1951",
        "13/4/1951",
        "13.04.1951",
        "13 Apr 1951",
        "13 April 1951",
        "1951-04-13",
    ],
)
def test_the_patient_is_found_however_the_text_is_written(amelia, q):
    assert [p.id for p in records.search(q)] == [amelia.id]


def test_a_name_word_may_start_a_later_part_of_a_name(amelia):
    found = {p.full_name for p in records.search("berg mary")}
    assert found == {"Mary-Anne van der Berg"}
    assert {p.full_name for p in records.search("anne")} == {"Mary-Anne van der Berg"}


def test_near_misses_find_nobody(amelia):
    assert records.search("Patel, Amelio") == []
    assert records.search("14/04/1952") == []
    assert records.search("31/02/1951") == []  # no such day: read as digits, which no phone holds
    assert records.search("+1 7700 900118") == []  # another country's number


def test_phone_digits_follow_a_changed_number(amelia, reception_api):
    resp = reception_api.patch(f"/patients/{amelia.id}", json={"phone": "+44 7911 123456"})
    assert resp.status_code == 200, resp.get_json()
    db.session.rollback()
    assert [p.id for p in records.search("07911123456")] == [amelia.id]
    assert records.search("07700900118") == []


def test_the_desk_search_and_the_api_use_it(amelia, client, sign_in, reception_api):
    sign_in("receptionist")
    page = text_of(client.get("/patients", query_string={"q": "Patel, Amelia"}))
    assert "Amelia Patel" in page and "Raj Patel" not in page
    body = reception_api.get("/patients", q="13 Apr 1951").get_json()
    assert [p["id"] for p in body["items"]] == [amelia.id]
    body = reception_api.get("/patients", q="+447700900118").get_json()
    assert [p["id"] for p in body["items"]] == [amelia.id]
