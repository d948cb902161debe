"""The recall list: patients due for re-treatment who have not booked."""

from __future__ import annotations

from flask import render_template, request

from scheduler.catalog import operations as catalog
from scheduler.patients import recall
from scheduler.services import clock
from scheduler.web.reception import bp
from scheduler.web.reception.common import id_arg

LIMIT = 500


@bp.get("/recall")
def recall_list():
    """Who is due (window open or overdue) with no booking of that treatment, soonest due first."""
    treatment_id = id_arg("treatment_id")
    items = recall.due_list(clock.today(), treatment_id=treatment_id, limit=LIMIT + 1)
    return render_template(
        "reception/recall.html",
        items=items[:LIMIT],
        truncated=len(items) > LIMIT,
        treatments=catalog.list_treatments(include_inactive=False),
        treatment_id=treatment_id,
        today=clock.today(),
        show_bad_filter=bool(request.args.get("treatment_id")) and treatment_id is None,
    )
