"""Delivery: SMTP (smtplib, with a timeout, one connection reused across a batch) or the local outbox.

With no MAIL_SERVER, messages are written as RFC 5322 files (`.eml`) under OUTBOX_DIR, named
after their Message-ID, where the admin outbox page reads them back.
"""

from __future__ import annotations

import os
import re
import smtplib
import ssl
import tempfile
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any

from flask import current_app


class TransportDown(Exception):
    """The mail server cannot be reached or refuses us: nothing in this batch can go out now."""


class MessageFailed(Exception):
    """The mail server refused this one message (recipient, sender or content).

    `permanent` when the refusal was a 5xx reply (or the server cannot take this message at all):
    trying again cannot help. A 4xx reply is temporary.
    """

    def __init__(self, reason: str, *, permanent: bool = False):
        super().__init__(reason)
        self.permanent = permanent


#: the server's answers about one message: the connection itself is still good
REFUSALS = (
    smtplib.SMTPRecipientsRefused,
    smtplib.SMTPSenderRefused,
    smtplib.SMTPDataError,
    smtplib.SMTPNotSupportedError,
)


class SmtpTransport:
    """Sends over one SMTP connection, opened on first use (STARTTLS or SSL, login when configured)."""

    def __init__(self, cfg: dict[str, Any]):
        self.cfg = cfg
        self.conn: smtplib.SMTP | None = None

    def __enter__(self) -> SmtpTransport:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _connect(self) -> smtplib.SMTP:
        cfg, timeout = self.cfg, self.cfg["MAIL_TIMEOUT_SECONDS"]
        try:
            if cfg["MAIL_USE_SSL"]:
                conn: smtplib.SMTP = smtplib.SMTP_SSL(
                    cfg["MAIL_SERVER"], cfg["MAIL_PORT"], timeout=timeout, context=ssl.create_default_context()
                )
            else:
                conn = smtplib.SMTP(cfg["MAIL_SERVER"], cfg["MAIL_PORT"], timeout=timeout)
                if cfg["MAIL_USE_TLS"]:
                    conn.starttls(context=ssl.create_default_context())
            if cfg["MAIL_USERNAME"]:
                conn.login(cfg["MAIL_USERNAME"], cfg["MAIL_PASSWORD"] or "")
        except (OSError, smtplib.SMTPException) as exc:
            raise TransportDown(
                f"mail server {cfg['MAIL_SERVER']}:{cfg['MAIL_PORT']} unavailable: {_describe(exc)}"
            ) from exc
        return conn

    def send(self, msg: EmailMessage) -> None:
        """Hands one message to the server; raises MessageFailed or TransportDown."""
        if self.conn is None:
            self.conn = self._connect()
        try:
            refused = self.conn.send_message(msg)
        except smtplib.SMTPServerDisconnected:
            # An idle connection the server closed: nothing was accepted yet, so one more try.
            self.conn = self._connect()
            refused = self._send_once(msg)
        except REFUSALS as exc:
            self.reset()
            raise _refused(exc) from exc
        except (OSError, smtplib.SMTPException) as exc:
            self.close()
            raise TransportDown(f"mail server connection lost: {_describe(exc)}") from exc
        if refused:
            raise _refused(smtplib.SMTPRecipientsRefused(refused))

    def _send_once(self, msg: EmailMessage) -> dict:
        assert self.conn is not None
        try:
            return self.conn.send_message(msg)
        except REFUSALS as exc:
            self.reset()
            raise _refused(exc) from exc
        except (OSError, smtplib.SMTPException) as exc:
            self.close()
            raise TransportDown(f"mail server connection lost: {_describe(exc)}") from exc

    def reset(self) -> None:
        """After a refused or broken message, clears the SMTP transaction so the connection can go on."""
        try:
            if self.conn is not None:
                self.conn.rset()
        except (OSError, smtplib.SMTPException):
            self.close()

    def close(self) -> None:
        """Says goodbye to the server, if connected."""
        if self.conn is not None:
            try:
                self.conn.quit()
            except (OSError, smtplib.SMTPException):
                self.conn.close()
            self.conn = None


class OutboxTransport:
    """Writes each message to OUTBOX_DIR as `<message-id>.eml` (atomically; a retry overwrites)."""

    def __init__(self, directory: str):
        self.directory = Path(directory)

    def __enter__(self) -> OutboxTransport:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def reset(self) -> None:
        """Nothing to clear between messages."""

    def send(self, msg: EmailMessage) -> None:
        """Stores one message in the outbox."""
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.directory, suffix=".tmp")
            with os.fdopen(fd, "wb") as fh:
                fh.write(msg.as_bytes(policy=msg.policy.clone(linesep="\r\n")))  # RFC 5322 line ends
            os.replace(tmp, outbox_path(self.directory, msg["Message-ID"]))
        except OSError as exc:
            raise TransportDown(f"local outbox {self.directory} not writable: {exc}") from exc


def outbox_path(directory: str | Path, message_id: str) -> Path:
    """Where the local outbox keeps the message with this Message-ID."""
    name = re.sub(r"[^A-Za-z0-9._@-]", "_", message_id.strip("<> "))
    return Path(directory) / f"{name}.eml"


def read_outbox(message_id: str) -> EmailMessage | None:
    """The message as stored in the local outbox, if it is there."""
    path = outbox_path(current_app.config["OUTBOX_DIR"], message_id)
    if not path.is_file():
        return None
    with path.open("rb") as fh:
        return BytesParser(policy=policy.default).parse(fh)  # type: ignore[return-value]


def remove_outbox(message_id: str) -> bool:
    """Deletes the stored message with this Message-ID (erasure); whether there was one."""
    path = outbox_path(current_app.config["OUTBOX_DIR"], message_id)
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    return True


def open_transport() -> SmtpTransport | OutboxTransport:
    """SMTP when MAIL_SERVER is set, else the local outbox."""
    cfg = current_app.config
    if cfg.get("MAIL_SERVER"):
        return SmtpTransport(dict(cfg))
    return OutboxTransport(cfg["OUTBOX_DIR"])


def _refused(exc: Exception) -> MessageFailed:
    """A refusal as MessageFailed: permanent for 5xx replies (every recipient's, when several)."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        permanent = all(500 <= code < 600 for code, _msg in exc.recipients.values())
    elif isinstance(exc, smtplib.SMTPResponseException):
        permanent = 500 <= exc.smtp_code < 600
    else:  # SMTPNotSupportedError: this server cannot take this message (an SMTPUTF8 address)
        permanent = True
    return MessageFailed(_describe(exc), permanent=permanent)


def _describe(exc: BaseException) -> str:
    """A one-line description of a delivery error."""
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"{exc.smtp_code} {_text(exc.smtp_error)}".strip()
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return "; ".join(f"{rcpt}: {code} {_text(msg)}".strip() for rcpt, (code, msg) in exc.recipients.items())
    return f"{type(exc).__name__}: {exc}".strip().rstrip(":")


def _text(reply: bytes | str) -> str:
    """A server's reply text, decoded."""
    return reply.decode(errors="replace") if isinstance(reply, bytes) else str(reply)
