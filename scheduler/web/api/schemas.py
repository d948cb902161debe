"""Pydantic schemas of the JSON API: they validate requests and generate openapi.json."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    EmailStr,
    Field,
    PlainSerializer,
    StringConstraints,
    WithJsonSchema,
)

from scheduler.domain.durations import MIN_INTERVAL_DAYS
from scheduler.domain.slots import MAX_BUFFER_MINUTES
from scheduler.web.api.consent_schemas import ConsentAnswers, ConsentsOut, consents_out
from scheduler.web.api.plain_text import FREE_TEXT, PlainTextModel

MAX_ID = 2**31 - 1


def _sane_instant(value: datetime) -> datetime:
    """Keeps instants in a range the calendar arithmetic and the database can hold, as UTC."""
    if not 2000 <= value.year <= 2100:
        raise ValueError("must be between the years 2000 and 2100")
    return value.astimezone(UTC)


def _sane_date(value: date) -> date:
    """Keeps dates in a plausible range."""
    if not 1900 <= value.year <= 2100:
        raise ValueError("must be between the years 1900 and 2100")
    return value


Id = Annotated[int, Field(ge=1, le=MAX_ID)]
Text80 = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80)]
Text120 = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500), FREE_TEXT]
Notes = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000), FREE_TEXT]
DurationText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20)]
Lot = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
Phone = Annotated[str, StringConstraints(strip_whitespace=True, max_length=40, pattern=r"^\+?[0-9 ()\-]{0,39}$")]
Instant = Annotated[AwareDatetime, AfterValidator(_sane_instant)]
Day = Annotated[date, AfterValidator(_sane_date)]


def _born(value: date) -> date:
    """A date of birth cannot be in the future (a day's slack for time zones)."""
    from datetime import UTC, datetime, timedelta

    if value > (datetime.now(UTC) + timedelta(days=1)).date():
        raise ValueError("must not be in the future")
    return value


Birthday = Annotated[Day, AfterValidator(_born)]


def _hundredths(value: float) -> float:
    """Units are stored as NUMERIC(7, 2): more decimals would be silently rounded (0.001 to zero)."""
    rounded = round(value, 2)
    if abs(rounded - value) > 1e-9:
        raise ValueError("must have at most two decimal places")
    if rounded <= 0:
        raise ValueError("must be at least 0.01")
    return rounded


Units = Annotated[float, Field(gt=0, le=1000, allow_inf_nan=False), AfterValidator(_hundredths)]
Hours = dict[str, list[tuple[str, str]]]

#: instants come back as RFC 3339 with an explicit +00:00 offset
OutInstant = Annotated[
    datetime,
    PlainSerializer(lambda v: v.astimezone(UTC).isoformat(), return_type=str),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]


class In(PlainTextModel):
    """Base of request bodies: unknown fields are ignored, strings are trimmed, control characters refused."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)


def _no_defaults(schema: dict, _model: type) -> None:
    """A PATCH field left out is left unchanged: openapi.json gives it no (null) default."""
    for prop in schema.get("properties", {}).values():
        prop.pop("default", None)


class Patch(In):
    """Base of PATCH bodies: only the fields sent are changed."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True, json_schema_extra=_no_defaults)


class Out(BaseModel):
    """Base of responses, read from ORM objects."""

    model_config = ConfigDict(from_attributes=True)


# --- errors -------------------------------------------------------------------------------


class ErrorBody(BaseModel):
    code: str
    message: str
    fields: dict[str, str] = {}


class ErrorOut(BaseModel):
    """Every error answer: {"error": {"code", "message", "fields"}}."""

    error: ErrorBody


# --- treatments ---------------------------------------------------------------------------


class TreatmentIn(In):
    name: Text120
    kind: Literal["therapeutic", "cosmetic"]
    product: Text80
    duration_minutes: int = Field(ge=5, le=480)
    min_interval_days: int = Field(ge=MIN_INTERVAL_DAYS[0], le=MIN_INTERVAL_DAYS[1])
    remind_from: DurationText = Field(examples=["P12W"])
    remind_until: DurationText = Field(examples=["P6M"])
    reminder_count: int = Field(default=3, ge=1, le=6)
    follow_up_after: DurationText | None = Field(default=None, examples=["P4W"])
    active: bool = True
    #: minutes the practitioner stays held after each appointment (buffer)
    buffer_minutes: int = Field(default=0, ge=0, le=MAX_BUFFER_MINUTES)
    # toxin safety: the toxin (default: the product's) and the usual injection sites, one per line
    toxin: Text80 | None = Field(default=None, examples=["onabotulinumtoxinA"])
    usual_sites: Notes | None = None


class TreatmentPatch(Patch):
    """Only the fields sent are changed; `follow_up_after: null` removes the follow-up."""

    name: Text120 = None  # type: ignore[assignment]
    kind: Literal["therapeutic", "cosmetic"] = None  # type: ignore[assignment]
    product: Text80 = None  # type: ignore[assignment]
    duration_minutes: int = Field(default=None, ge=5, le=480)  # type: ignore[assignment]
    min_interval_days: int = Field(default=None, ge=MIN_INTERVAL_DAYS[0], le=MIN_INTERVAL_DAYS[1])  # type: ignore[assignment]
    remind_from: DurationText = None  # type: ignore[assignment]
    remind_until: DurationText = None  # type: ignore[assignment]
    reminder_count: int = Field(default=None, ge=1, le=6)  # type: ignore[assignment]
    follow_up_after: DurationText | None = None
    active: bool = None  # type: ignore[assignment]
    buffer_minutes: int = Field(default=None, ge=0, le=MAX_BUFFER_MINUTES)  # type: ignore[assignment]
    # toxin safety
    toxin: Text80 = None  # type: ignore[assignment]
    usual_sites: Notes | None = None


class TreatmentOut(Out):
    id: int
    name: str
    kind: str
    product: str
    duration_minutes: int
    min_interval_days: int
    remind_from: str
    remind_until: str
    reminder_count: int
    follow_up_after: str | None
    active: bool
    buffer_minutes: int
    # toxin safety
    toxin: str
    usual_sites: str | None = None


class TreatmentPatched(TreatmentOut):
    #: how many pending reminders the change re-planned (0 when no interval field changed)
    reminders_replanned: int


# --- practitioners ------------------------------------------------------------------------


class PractitionerIn(In):
    name: Text120
    email: EmailStr | None = None
    active: bool = True
    working_hours: Hours = Field(default_factory=dict, examples=[{"mon": [["09:00", "17:00"]]}])


class PractitionerPatch(Patch):
    name: Text120 = None  # type: ignore[assignment]
    email: EmailStr | None = None
    active: bool = None  # type: ignore[assignment]
    working_hours: Hours = None  # type: ignore[assignment]


class PractitionerOut(Out):
    id: int
    name: str
    email: str | None
    active: bool
    working_hours: Hours


# --- patients -----------------------------------------------------------------------------


class PatientIn(In):
    first_name: Text80
    last_name: Text80
    email: EmailStr | None = None
    phone: Phone | None = None
    date_of_birth: Birthday | None = None
    #: every consent (true), or no re-treatment reminders (false); `consents` wins where both speak
    reminders_opt_in: bool = True
    consents: ConsentAnswers | None = None


class PatientPatch(Patch):
    first_name: Text80 = None  # type: ignore[assignment]
    last_name: Text80 = None  # type: ignore[assignment]
    email: EmailStr | None = None
    phone: Phone | None = None
    date_of_birth: Birthday | None = None
    reminders_opt_in: bool = None  # type: ignore[assignment]
    consents: ConsentAnswers = None  # type: ignore[assignment]


class PatientOut(Out):
    id: int
    first_name: str
    last_name: str
    email: str | None
    phone: str | None
    date_of_birth: date | None
    #: true only with every consent given and emails not stopped (the single flag of old)
    reminders_opt_in: bool
    consents: Annotated[ConsentsOut, BeforeValidator(consents_out)]
    erased_at: OutInstant | None = None


class PatientQuery(In):
    q: str | None = Field(default=None, max_length=200)
    limit: int = Field(default=50, ge=1, le=200)
    offset: int = Field(default=0, ge=0, le=1_000_000)
