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


def _written(pol, sender: str, to: str, subject: str) -> bytes:
    msg = mime.EmailMessage(policy=pol)
    msg["Subject"] = subject
    msg["From"] = sender
    msg["To"] = to
    msg["Message-ID"] = "<r1.abc@clinic.example>"
    msg["List-Unsubscribe"] = "<https://clinic.example/u/" + "x" * 120 + ">"
    return mime.assemble(msg, "Hello Zoë", "<p>Hello Zoë</p>").as_bytes()


def test_headers_come_out_exactly_as_policy_default_writes_them():
    standard = policy.default.clone(max_line_length=998)
    cases = [
        ("Clinic <clinic@example.com>", "Zoë Ünal <zoe@example.net>", "Time for your next visit"),
        ('"Dr. A, B" <a@example.com>', "plain@example.net", "Ünïcode subject " * 8),
    ]
    for sender, to, subject in cases:
        assert _written(mime.LONG_LINES, sender, to, subject) == _written(standard, sender, to, subject)


def test_writing_emails_leaves_no_header_classes_for_the_cycle_collector():
    """The standard registry made a class per header set or written, freed only by a full
    garbage collection (about twenty an email, each a cycle of several objects)."""
    import gc
    from email.headerregistry import BaseHeader

    _written(mime.LONG_LINES, "Clinic <c@example.com>", "a@example.net", "warm-up")
    gc.collect()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)  # what a collection finds stays in gc.garbage, to be counted
    try:
        for i in range(50):
            _written(mime.LONG_LINES, "Clinic <c@example.com>", f"p{i}@example.net", f"Reminder {i}")
        gc.collect()
        header_classes = [o for o in gc.garbage if isinstance(o, type) and issubclass(o, BaseHeader)]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()
    assert header_classes == [], f"{len(header_classes)} header classes left for the collector after 50 emails"
