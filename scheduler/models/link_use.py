"""How often a patient's email link was used in one minute: the rate limit shared by every worker."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from scheduler.models.base import Base, UTCDateTime


class LinkUse(Base):
    """Requests made with one signed link in one minute (a fixed window).

    The count lives in the database so that it holds across gunicorn workers and restarts; rows
    older than a few minutes are deleted as new ones come in (scheduler.selfservice.ratelimit).
    """

    __tablename__ = "link_uses"
    __table_args__ = (Index("ix_link_uses_window_start", "window_start"),)

    #: SHA-256 of the token (hex): the link itself is never stored
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    #: the minute the count is for (UTC, seconds zero)
    window_start: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    hits: Mapped[int] = mapped_column(Integer, default=1)
