"""API schemas of a patient's consents and of erasure (scheduler.domain.consent, records.erasure)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, StringConstraints

from scheduler.web.api.plain_text import FREE_TEXT, PlainTextModel


class ConsentAnswers(PlainTextModel):
    """Answers to record (only those sent): re-treatment reminders per treatment kind, emails at all."""

    therapeutic: bool | None = None
    cosmetic: bool | None = None
    #: false: "stop all emails"
    emails: bool | None = None


class ConsentOut(BaseModel):
    """One topic's current answer: null `given` means never asked (no reminders; emails go out)."""

    given: bool | None
    #: RFC 3339, UTC
    recorded_at: str | None
    via: Literal["desk", "api", "link", "migration", "erasure"] | None


class ConsentsOut(BaseModel):
    therapeutic: ConsentOut
    cosmetic: ConsentOut
    emails: ConsentOut


def consents_out(rows: Any) -> Any:
    """The patient's stored consent rows as {topic: {given, recorded_at, via}} (a dict passes through)."""
    if isinstance(rows, dict):
        return rows
    by_topic = {row.topic: row for row in rows}
    out = {}
    for topic in ("therapeutic", "cosmetic", "emails"):
        row = by_topic.get(topic)
        given = row.given if row is not None else (True if topic == "emails" else None)
        out[topic] = {
            "given": given,
            "recorded_at": row.recorded_at.isoformat() if row is not None else None,
            "via": row.via if row is not None else None,
        }
    return out


class EraseIn(PlainTextModel):
    """Why the patient's personal details are erased (kept in the audit log)."""

    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=500), FREE_TEXT]
    #: must be true: the API's confirmation step
    confirm: Literal[True]
