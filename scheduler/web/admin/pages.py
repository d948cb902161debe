"""Admin landing page."""

from __future__ import annotations

from flask import render_template

from scheduler.web.admin import bp


@bp.get("/")
def index():
    """The admin home: links to the admin tools."""
    return render_template("admin/index.html")
