"""Every kind of link in a patient's email is read one way (scheduler.services.signed_links): a
token too long, forged, signed for another page, carrying the wrong payload or an instant no
calendar holds answers the page that says so (400), never a 500."""

from __future__ import annotations

import pytest

from scheduler.reminders import unsubscribe
from scheduler.selfservice import links
from scheduler.services import signed_links
from scheduler.waitlist import tokens

#: each page of a signed link, with its salt and a payload of the right shape naming nothing stored
PAGES = [
    ("/p/offer/{}", tokens.SALT, {"w": 1, "a": 1, "x": 4_102_444_800}, False),
    ("/p/unsubscribe/{}", unsubscribe.SALT, {"k": "0" * 32}, True),
    ("/p/book/{}", links.BOOK_SALT, {"k": "0" * 32, "s": 1, "x": 4_102_444_800}, False),
    ("/p/appointment/{}", links.APPOINTMENT_SALT, {"k": "0" * 32, "a": 1}, False),
]


def _status_and_text(client, path: str) -> tuple[int, str]:
    resp = client.get(path)
    return resp.status_code, resp.get_data(as_text=True)


@pytest.mark.parametrize(("page", "salt", "payload", "dated"), PAGES)
def test_a_token_longer_than_any_link_is_refused_unread(app, client, page, salt, payload, dated):
    with app.app_context():
        token = signed_links.sign(salt, payload | {"pad": "x" * 400}, dated=dated)
    status, html = _status_and_text(client, page.format(token))
    assert status == 400 and "This link is not valid" in html


@pytest.mark.parametrize(("page", "salt", "payload", "dated"), PAGES)
def test_a_token_signed_for_another_page_is_refused(app, client, page, salt, payload, dated):
    other = "patients.elsewhere"
    with app.app_context():
        token = signed_links.sign(other, payload, dated=dated)
    status, html = _status_and_text(client, page.format(token))
    assert status == 400 and "This link is not valid" in html


@pytest.mark.parametrize(("page", "salt", "payload", "dated"), PAGES)
def test_a_signed_token_that_carries_no_object_is_refused(app, client, page, salt, payload, dated):
    with app.app_context():
        token = signed_links.sign(salt, payload, dated=dated)  # the right shape, to compare with
        listed = signed_links._serializer(salt, dated).dumps([1, 2, 3])
    assert _status_and_text(client, page.format(listed))[0] == 400
    assert client.get(page.format(token)).status_code in (400, 404, 410)  # names nothing stored


@pytest.mark.parametrize("page", ["/p/offer/{}", "/p/book/{}"])
def test_an_end_beyond_any_calendar_is_a_bad_link_not_a_crash(app, client, page):
    """A payload's instant past the year 9999 cannot be a datetime: refused, not an OverflowError."""
    salt, payload = {
        "/p/offer/{}": (tokens.SALT, {"w": 1, "a": 1}),
        "/p/book/{}": (links.BOOK_SALT, {"k": "k", "s": 1}),
    }[page]
    with app.app_context():
        token = signed_links.sign(salt, payload | {"x": 2**39})
    status, html = _status_and_text(client, page.format(token))
    assert status == 400 and "This link is not valid" in html


def test_whole_numbers_in_a_payload_are_positive_ints_not_bools():
    assert signed_links.whole({"a": 7}, "a") == 7
    for bad in (0, -1, True, "7", 7.0, None, 2**31):
        with pytest.raises(signed_links.BadLink):
            signed_links.whole({"a": bad}, "a")


def test_a_dated_token_past_its_age_is_expired_with_the_readers_words(app):
    with app.app_context():
        token = signed_links.sign("t", {"k": "v"}, dated=True)
        with pytest.raises(signed_links.BadLink) as caught:
            signed_links.read(token, "t", max_age=-1, expired="This unsubscribe link has expired.")
    assert caught.value.expired and str(caught.value) == "This unsubscribe link has expired."


@pytest.mark.parametrize("payload", [{"p": 2**63}, {"p": True}, {"k": "0" * 32, "r": 2**63}, {"p": 1, "r": "7"}])
def test_an_unsubscribe_token_naming_an_impossible_id_is_a_bad_link(app, client, payload):
    """Ids in a signed payload are whole numbers a row can have: not a bool, not past the column."""
    with app.app_context():
        token = signed_links.sign(unsubscribe.SALT, payload, dated=True)
    status, html = _status_and_text(client, f"/p/unsubscribe/{token}")
    assert status == 400 and "This link is not valid" in html


def test_text_with_lone_carriage_returns_is_encoded_as_lines():
    from scheduler.reminders import mime

    part = mime.text_part("one \rtwo \r\nthree ", "plain")
    assert part.get_payload() == "one=20\ntwo=20\nthree=20\n"
