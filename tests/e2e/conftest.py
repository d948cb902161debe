"""Browser tests: the app served by a real WSGI server in a thread, driven by Debian's Chromium.

The clock is moved to a busy Tuesday of the demo clinic (all four demo practitioners work) and
keeps ticking, so the pages and the server agree on "now". Screenshots go to tests/screenshots/.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from playwright.sync_api import expect
from werkzeug.serving import make_server

from scheduler.extensions import db

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SHOTS = Path(__file__).resolve().parent.parent / "screenshots"
#: a Tuesday late morning: morning visits done or checked in, the afternoon still booked
NOW = datetime(2027, 3, 2, 11, 40, tzinfo=ZoneInfo("Europe/London"))
REFUSED_FORM = re.compile(r"Failed to load resource: the server responded with a status of (400|403|404|409|422)")
DESKTOP = {"width": 1366, "height": 900}
TABLET = {"width": 768, "height": 1024}


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for the run; the tests are skipped when it is not installed."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def clinic_now(app) -> Iterator[datetime]:
    """Moves the clock (server and test alike) to NOW, still ticking."""
    with time_machine.travel(NOW, tick=True):
        yield NOW


@pytest.fixture
def demo(app, clinic_now) -> dict[str, str]:
    """The demo clinic (catalogue, practitioners, 200 patients, four weeks of appointments)."""
    from scheduler.models.reminder import SweepRun
    from scheduler.seed import seed_demo

    passwords = seed_demo()
    # The run command's scheduler sweeps every minute; a fresh heartbeat keeps the pages as staff see them.
    db.session.add(SweepRun(started_at=clinic_now, finished_at=clinic_now, worker="e2e"))
    db.session.commit()
    return passwords


@pytest.fixture
def live_server(app, demo) -> Iterator[str]:
    """The app on 127.0.0.1 at a free port, in a thread; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


@pytest.fixture
def page(browser, live_server):
    """A fresh browser page (desktop size) that fails the test on a page error or a CSP violation."""
    context = browser.new_context(viewport=DESKTOP, base_url=live_server)
    context.set_default_timeout(15_000)
    pg = context.new_page()
    problems: list[str] = []
    pg.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))

    def on_console(msg) -> None:
        # A refused form (400/409/422) or an error page the test opens on purpose is logged by Chromium.
        if msg.type == "error" and not REFUSED_FORM.match(msg.text):
            problems.append(f"console {msg.type}: {msg.text}")

    pg.on("console", on_console)
    yield pg
    context.close()
    assert not problems, problems


def sign_in(page, email: str, password: str) -> None:
    """Signs in through the login form and waits for the calendar."""
    page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/(calendar)?$"))


def shot(page, name: str, *, full_page: bool = True) -> Path:
    """Saves a screenshot under tests/screenshots/."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


def refresh() -> None:
    """Ends the test thread's transaction so it sees what the server committed."""
    db.session.rollback()


def enhanced(page) -> None:
    """Waits until app.js has wired the page's enhancements (auto-refreshing selects and the like).

    A test acts faster than a person: right after a navigation it could change a select before the
    deferred script has attached its listener, and the change would then do nothing.
    """
    expect(page.locator("html[data-enhanced=yes]")).to_have_count(1)
