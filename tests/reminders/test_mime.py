"""The MIME structure of every email: fixed boundaries no part can hold, headers parsed by policy.default."""

from __future__ import annotations

from email import message_from_bytes, policy

from scheduler.reminders import mime

#: text that looks like every boundary line and more: it must come back as text, inside its part
TRICKY = "\n".join(
    [
        "--=_alternative",
        "--=_alternative--",
        "--=_mixed",
        "=_mixed",
        ".",
        "trailing space ",
        "Zoë and 日本語",
        "x" * 200,
    ]
)


def _round_trip(msg):
    return message_from_bytes(msg.as_bytes(), policy=policy.default)


def test_text_that_looks_like_a_boundary_stays_inside_its_part():
    msg = mime.EmailMessage(policy=mime.LONG_LINES)
    msg["Subject"] = "Test"
    sent = _round_trip(mime.assemble(msg, TRICKY, f"<p>{TRICKY}</p>"))
    assert sent.get_content_type() == "multipart/alternative" and not sent.defects
    plain, html = sent.iter_parts()
    assert plain.get_content() == TRICKY + "\n"
    assert html.get_content() == f"<p>{TRICKY}</p>\n"
    assert all(len(line) <= 76 for line in msg.as_bytes().split(b"\n") if not line.startswith(b"Subject"))
    assert msg.as_bytes().isascii()  # 7-bit clean: quoted-printable parts, no 8BITMIME needed


def test_the_calendar_file_rides_beside_the_alternatives():
    msg = mime.EmailMessage(policy=mime.LONG_LINES)
    invite = b"BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nEND:VCALENDAR\r\n"
    sent = _round_trip(mime.assemble(msg, TRICKY, "<p>hi</p>", mime.calendar_part(invite, "REQUEST")))
    assert sent.get_content_type() == "multipart/mixed" and not sent.defects
    body, calendar = sent.iter_parts()
    assert body.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in body.iter_parts()] == ["text/plain", "text/html"]
    assert calendar.get_content_type() == "text/calendar" and calendar.get_param("method") == "REQUEST"
    assert calendar.get_filename() == "appointment.ics" and calendar.get_content() == invite.decode()


def test_fixed_headers_are_policy_default_headers_parsed_once():
    first = mime.fixed("Auto-Submitted", "auto-generated")
    assert first is mime.fixed("Auto-Submitted", "auto-generated")
    assert first.name == "Auto-Submitted" and str(first) == "auto-generated"
    content_type = mime.fixed("Content-Type", 'text/plain; charset="utf-8"')
    assert content_type.content_type == "text/plain" and content_type.params["charset"] == "utf-8"
