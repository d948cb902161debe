"""An email's MIME structure under `email.policy.default`, its fixed headers parsed once.

Every header of every email is a policy.default header object. Those that are the same in every
email (content types, transfer encodings, the one-click and auto-submitted headers, the sender)
are parsed once and shared: header objects are immutable strings, and parsing them again for
each email (with the parts' `set_content`) took most of a sweep's time per email, more than the
SMTP conversation itself. Only what differs per email (subject, recipient, date, Message-ID,
unsubscribe link) is parsed per email, by the policy, when compose sets it.

The parts are encoded here: text as quoted-printable (binascii's encoder: RFC 2045, lines of at
most 76 characters, 7-bit clean, so no server needs 8BITMIME), the calendar file as base64. The
boundaries are fixed, not drawn per message: each begins with "=_", which cannot begin a line of
quoted-printable text (an "=" there starts a hexadecimal escape) nor appear in base64, so no part
can hold a boundary line, and the generator's search of each message's text for a fresh one is
not needed.
"""

from __future__ import annotations

import base64
import quopri
from email import policy
from email.headerregistry import HeaderRegistry
from email.message import EmailMessage
from functools import lru_cache


class HeaderClasses(HeaderRegistry):
    """policy.default's header registry, with each header class made once.

    The standard registry makes a new class (`type(...)`) every time it is asked for a header's
    class: to parse each header set, and again to fold each header written out. Classes are freed
    only by the cyclic garbage collector, so an email left about twenty of them behind. The
    classes made here are the same (the registry's class for the name, over its base class) and
    hold no state of their own, so they are made once per header name and reused; parsing and
    folding are the policy's, unchanged.
    """

    def __init__(self) -> None:
        super().__init__()
        self._classes: dict[str, type] = {}

    def map_to_type(self, name: str, cls: type) -> None:
        super().map_to_type(name, cls)
        self._classes.clear()

    def __getitem__(self, name: str) -> type:
        key = name.lower()
        made = self._classes.get(key)
        if made is None:
            made = self._classes[key] = super().__getitem__(name)
        return made


#: How the message is written out: RFC 5322's limit of 998 characters a header line, so the
#: List-Unsubscribe URL stays on one line (folded at 78, it would be turned into encoded words that
#: no mail client reads as a link).
LONG_LINES = policy.default.clone(max_line_length=998, header_factory=HeaderClasses())
ALTERNATIVE_BOUNDARY = "=_alternative"
MIXED_BOUNDARY = "=_mixed"


@lru_cache(maxsize=64)
def fixed(name: str, value: str):
    """A header that is the same in every email, parsed once under the policy."""
    return LONG_LINES.header_factory(name, value)


def text_part(content: str, subtype: str) -> EmailMessage:
    """A UTF-8 text part (plain or html), quoted-printable."""
    part = EmailMessage(policy=LONG_LINES)
    part["Content-Type"] = fixed("Content-Type", f'text/{subtype}; charset="utf-8"')
    part["Content-Transfer-Encoding"] = fixed("Content-Transfer-Encoding", "quoted-printable")
    body = content.replace("\r\n", "\n").replace("\r", "\n")  # binascii's encoder ends lines at \n only
    body = body if body.endswith("\n") else body + "\n"
    part.set_payload(quopri.encodestring(body.encode("utf-8")).decode("ascii"))
    return part


def calendar_part(ics: bytes, method: str) -> EmailMessage:
    """The appointment's iCalendar file as an attachment (base64), with its iTIP method."""
    part = EmailMessage(policy=LONG_LINES)
    part["Content-Type"] = fixed("Content-Type", f'text/calendar; method="{method}"; charset="utf-8"')
    part["Content-Transfer-Encoding"] = fixed("Content-Transfer-Encoding", "base64")
    part["Content-Disposition"] = fixed("Content-Disposition", 'attachment; filename="appointment.ics"')
    part.set_payload(base64.encodebytes(ics).decode("ascii"))
    return part


def assemble(msg: EmailMessage, text: str, html: str, calendar: EmailMessage | None = None) -> EmailMessage:
    """Makes `msg` (its envelope headers set) the whole email: the text and HTML alternatives, and
    the calendar file beside them when there is one."""
    alternative = [text_part(text, "plain"), text_part(html, "html")]
    msg["MIME-Version"] = fixed("MIME-Version", "1.0")
    if calendar is None:
        msg["Content-Type"] = fixed("Content-Type", f'multipart/alternative; boundary="{ALTERNATIVE_BOUNDARY}"')
        msg.set_payload(alternative)
        return msg
    inner = EmailMessage(policy=LONG_LINES)
    inner["Content-Type"] = fixed("Content-Type", f'multipart/alternative; boundary="{ALTERNATIVE_BOUNDARY}"')
    inner.set_payload(alternative)
    msg["Content-Type"] = fixed("Content-Type", f'multipart/mixed; boundary="{MIXED_BOUNDARY}"')
    msg.set_payload([inner, calendar])
    return msg
