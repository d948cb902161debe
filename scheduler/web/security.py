"""Security headers on every answer, and values every template needs."""

from __future__ import annotations

from flask import Flask, current_app

from scheduler.services import clock

CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'self'; object-src 'none'"
)
#: sent when the session cookie is Secure (served over HTTPS): browsers then refuse plain HTTP
HSTS = "max-age=31536000; includeSubDomains"


def register(app: Flask) -> None:
    """Adds the headers and the template context."""

    @app.after_request
    def headers(resp):
        resp.headers.setdefault("Content-Security-Policy", CSP)
        resp.headers["X-Content-Type-Options"] = "nosniff"
        resp.headers["X-Frame-Options"] = "DENY"
        resp.headers["Referrer-Policy"] = "same-origin"
        resp.headers.setdefault("Cache-Control", "no-store")
        if current_app.config["SESSION_COOKIE_SECURE"]:
            resp.headers["Strict-Transport-Security"] = HSTS
        return resp

    @app.context_processor
    def clinic():
        return {"clinic_name": current_app.config["CLINIC_NAME"], "to_local": clock.local, "now_utc": clock.now()}
