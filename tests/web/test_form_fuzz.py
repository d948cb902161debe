"""Hostile values everywhere a person can type into the pages, signed in as an admin: no answer is a 500.

The site is discovered, not listed (tests/web/fuzz_site.py): every GET route of the url_map is
rendered with the ids of a clinic that has one of everything (tests/web/fuzz_world.py), then every
same-site link and GET form in the HTML is followed. Each GET endpoint then gets every hostile
value (NUL, CR/LF, 100,000 characters, years 1 and 9999, huge and negative ids) in every query
argument seen in its links and forms or read by its module; each POST form gets them in every
field, with a valid CSRF token. A request that was accepted (below 400) may have changed the clinic,
so the database goes back to its snapshot before the next one. Path segments get hostile ids and
texts too, and the sign-in form its fields and its `next`.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from scheduler.extensions import db
from scheduler.models import User
from scheduler.staff import users
from tests.conftest import PASSWORD, csrf_from
from tests.web import fuzz_site, fuzz_world
from tests.web.fuzz_world import HOSTILE, hostile_values

#: most pages a crawl renders (the clinic has about 60 distinct ones)
CRAWL_LIMIT = 250


@dataclass(frozen=True)
class Finding:
    """An answer of 500 or more: to what, with which hostile value where."""

    method: str
    target: str
    name: str
    label: str
    status: int

    def __str__(self) -> str:
        return f"{self.method} {self.target[:120]} {self.name}={self.label} -> {self.status}"


class FuzzedClinic:
    """The clinic under test, the admin signed in on a client, and the snapshot to go back to after a write."""

    def __init__(self, app, factories):
        self.app = app
        users.create(fuzz_world.ADMIN_EMAIL, "admin", PASSWORD, name="Fuzz", actor_label="fuzz")
        db.session.commit()
        self.world = fuzz_world.build_world(*factories)
        self.client = app.test_client()
        token = csrf_from(self.client.get("/login").get_data(as_text=True))
        form = {"email": fuzz_world.ADMIN_EMAIL, "password": PASSWORD, "csrf_token": token}
        assert self.client.post("/login", data=form).status_code == 302, "the admin could not sign in"
        self.token = csrf_from(self.client.get("/admin/").get_data(as_text=True))
        self.rows = fuzz_world.snapshot()

    def crawl(self) -> fuzz_site.Site:
        """The site as the admin sees it; a page that fails while crawling fails the test."""
        site = fuzz_site.crawl(self.app, self.client, self.world, limit=CRAWL_LIMIT)
        assert site.visited < CRAWL_LIMIT, "the crawl stopped before it had seen every page"
        assert not site.errors, "\n".join(site.errors)
        return site

    def reset(self) -> None:
        """Back to the clinic as built (the admin's row, and so their session, included)."""
        fuzz_world.restore(self.rows)

    def still_signed_in(self) -> bool:
        """Whether the admin's session survived (else every answer would have been a redirect to /login)."""
        return self.client.get("/admin/").status_code == 200


@pytest.fixture
def fuzzed(app, frozen, make_patient, make_practitioner, make_treatment) -> FuzzedClinic:
    return FuzzedClinic(app, (make_patient, make_practitioner, make_treatment))


def fuzz_queries(clinic: FuzzedClinic, site: fuzz_site.Site, only: set[str] | None = None) -> tuple[list, int]:
    """Every hostile value in every query argument of every GET endpoint: (findings, requests sent)."""
    findings, sent = [], 0
    for endpoint in sorted(only or site.pages):
        url = site.pages[endpoint]
        for name in sorted(site.args[endpoint] | fuzz_site.names_read_by(clinic.app, endpoint)):
            for label, value in HOSTILE.items():
                resp = clinic.client.get(fuzz_site.with_arg(url, name, value))
                sent += 1
                if resp.status_code >= 500:
                    findings.append(Finding("GET", url, name, label, resp.status_code))
    return findings, sent


def fuzz_forms(clinic: FuzzedClinic, site: fuzz_site.Site, only: set[str] | None = None) -> tuple[list, int]:
    """Every hostile value in every control of every POST form, with a valid CSRF token: (findings, requests)."""
    findings, sent = [], 0
    for key in sorted(k for k in site.forms if only is None or k[0] in only):
        form, names = site.forms[key], [n for n in site.forms[key].names if n != "csrf_token"]
        typed = _baseline(clinic, form, findings) if names else {}
        for name in names:
            for label, value in hostile_values(form.kinds[name]).items():
                resp = clinic.client.post(form.action, data=typed | {name: value, "csrf_token": clinic.token})
                sent += 1
                if resp.status_code >= 500:
                    findings.append(Finding("POST", form.action, name, label, resp.status_code))
                if resp.status_code < 400:
                    clinic.reset()
    return findings, sent


def _baseline(clinic: FuzzedClinic, form: fuzz_site.Form, findings: list) -> dict[str, str]:
    """The form with its empty boxes typed in when the page accepts that, else as rendered, so that the
    hostile value is the only thing wrong with what is sent."""
    typed = form.filled()
    resp = clinic.client.post(form.action, data=typed | {"csrf_token": clinic.token})
    clinic.reset()
    if resp.status_code >= 500:
        findings.append(Finding("POST", form.action, "every empty box", "typed in", resp.status_code))
    return typed if resp.status_code < 400 else form.fields


def _page_endpoints(app, method: str) -> set[str]:
    """The endpoints of the pages answering `method` (not the API's, not static files)."""
    rules = app.url_map.iter_rules()
    return {r.endpoint for r in rules if method in r.methods and not r.endpoint.startswith(("api.", "static"))}


def test_every_query_argument_of_every_page(fuzzed):
    site = fuzzed.crawl()
    assert _page_endpoints(fuzzed.app, "GET") <= set(site.pages), "the crawl missed a page"
    findings, sent = fuzz_queries(fuzzed, site)
    assert sent > 200 and fuzzed.still_signed_in()
    assert not findings, "\n".join(map(str, findings))


def test_every_field_of_every_form(fuzzed):
    site = fuzzed.crawl()
    found = {key[0] for key in site.forms}
    assert found == _page_endpoints(fuzzed.app, "POST") - {"auth.login"}, "a POST endpoint has no form on any page"
    findings, sent = fuzz_forms(fuzzed, site)
    assert sent > 400 and fuzzed.still_signed_in()
    assert not findings, "\n".join(map(str, findings))


def test_hostile_path_segments(fuzzed):
    findings = []
    for method in ("GET", "POST"):
        for path in fuzz_site.hostile_paths(fuzzed.app, fuzzed.world, method):
            resp = fuzzed.client.open(path, method=method, data={"csrf_token": fuzzed.token})
            if resp.status_code >= 500:
                findings.append(Finding(method, path, "path", "hostile", resp.status_code))
            if method == "POST" and resp.status_code < 400:
                fuzzed.reset()
    assert fuzzed.still_signed_in()
    assert not findings, "\n".join(map(str, findings))


def test_the_sign_in_form_and_its_next(app, fuzzed):
    findings = []
    for name in ("email", "password", "next"):
        for label, value in HOSTILE.items():
            db.session.query(User).update({"failed_logins": 0, "locked_until": None})  # no lock-out between tries
            anonymous = app.test_client()
            login = anonymous.get("/").headers["Location"]  # /login?next=%2F
            data = {"email": fuzz_world.ADMIN_EMAIL, "password": PASSWORD}
            data["csrf_token"] = csrf_from(anonymous.get(login).get_data(as_text=True))
            if name == "next":
                resp = anonymous.post(fuzz_site.with_arg(login, "next", value), data=data)
            else:
                resp = anonymous.post(login, data=data | {name: value})
            if resp.status_code >= 500:
                findings.append(Finding("POST", "/login", name, label, resp.status_code))
    assert not findings, "\n".join(map(str, findings))


def test_the_fuzz_finds_a_500_it_is_given(fuzzed, monkeypatch):
    """Two bugs put back (a date filter without a range check, a redirect to an unchecked `next`): both found."""
    from datetime import date

    from scheduler.web.admin import records
    from scheduler.web.reception import appointments

    def unchecked_date(name: str) -> date:
        return date.fromisoformat(records.request.args.get(name) or "2027-01-01")

    monkeypatch.setattr(records, "_date_arg", unchecked_date)
    monkeypatch.setattr(appointments, "safe_next", lambda candidate, default: candidate or default)
    site = fuzzed.crawl()
    gets, _ = fuzz_queries(fuzzed, site, only={"admin.audit_log"})
    posts, _ = fuzz_forms(fuzzed, site, only={"reception.appointment_action"})
    assert {(f.name, f.label) for f in gets} >= {("to", "year 9999")}
    assert {(f.name, f.label) for f in posts} == {("next", "CR/LF")}
