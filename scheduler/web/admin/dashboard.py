"""Admin: the dashboard (re-treatments falling due per week, conversion, no-show rate)."""

from __future__ import annotations

from flask import render_template

from scheduler.services import dashboard
from scheduler.web.admin import bp

CHART_W, CHART_H, PAD_L, PAD_B, PAD_T = 760, 220, 36, 36, 12


def _bars(weeks: list[dashboard.Week]) -> dict:
    """Geometry of the server-rendered SVG bar chart."""
    top = max([w.count for w in weeks] + [1])
    step = (CHART_W - PAD_L) / len(weeks)
    plot_h = CHART_H - PAD_B - PAD_T
    bars = []
    for i, w in enumerate(weeks):
        h = round(plot_h * w.count / top, 1)
        bars.append(
            {
                "x": round(PAD_L + i * step + 2, 1),
                "y": round(PAD_T + plot_h - h, 1),
                "w": round(step - 4, 1),
                "h": h,
                "count": w.count,
                "label": w.monday.strftime("%-d %b"),
                "monday": w.monday,
                "show_label": i % 4 == 0,
            }
        )
    ticks = sorted({0, top // 2, top})
    return {
        "bars": bars,
        "width": CHART_W,
        "height": CHART_H,
        "pad_l": PAD_L,
        "base": PAD_T + plot_h,
        "ticks": [{"value": t, "y": round(PAD_T + plot_h - plot_h * t / top, 1)} for t in ticks],
    }


@bp.get("/dashboard")
def dashboard_page():
    """The dashboard."""
    weeks = dashboard.due_per_week()
    reminded, converted = dashboard.conversion()
    missed, attended = dashboard.no_show_rate()
    return render_template(
        "admin/dashboard.html",
        chart=_bars(weeks),
        total_due=sum(w.count for w in weeks),
        reminded=reminded,
        converted=converted,
        conversion_days=dashboard.CONVERSION_DAYS,
        missed=missed,
        attended=attended,
    )
