"""URL converters: `<int:...>` in every route means a row id, so it only matches 1..2^31-1."""

from __future__ import annotations

from flask import Flask
from werkzeug.routing import IntegerConverter, Map

from scheduler.web.api.schemas import MAX_ID


class IdConverter(IntegerConverter):
    """An integer path segment in the range of the id columns; any other number is a 404, not a 500."""

    def __init__(self, map: Map, fixed_digits: int = 0, min: int = 1, max: int = MAX_ID, signed: bool = False):
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def register(app: Flask) -> None:
    """Makes `<int:...>` the id converter; call before any route is added."""
    app.url_map.converters["int"] = IdConverter
