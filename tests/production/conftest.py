"""Fixtures of the production deployment test: a scratch PostgreSQL database, an SMTP sink, processes.

Nothing here touches the suite's own test databases (`scheduler_test`, `scheduler_test_gw0`, ...):
the deployment gets a database of its own, `scheduler_deploy_<random>`, created on the server that
TEST_DATABASE_URL names and dropped again at the end, so it can run beside the rest of the suite
under pytest-xdist.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import policy
from email.parser import BytesParser
from pathlib import Path
from typing import IO

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy.engine import URL, make_url

from tests.reminders.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]
FLASK = [sys.executable, "-m", "flask", "--app", "wsgi"]
#: environment variables of the app (and of gunicorn) that must come from the test, never from the caller
APP_VARIABLES = (
    "APP_ENV",
    "SECRET_KEY",
    "DATABASE_URL",
    "TEST_DATABASE_URL",
    "CLINIC_",
    "BASE_URL",
    "MAIL_",
    "SCHEDULER_",
    "REMINDER_",
    "PRE_VISIT_",
    "SLOT_STEP_",
    "OUTBOX_DIR",
    "LOGIN_",
    "SESSION_COOKIE_",
    "UNSUBSCRIBE_",
    "GUNICORN",
    "WEB_CONCURRENCY",
    "FORWARDED_ALLOW_IPS",
    "FLASK_",
    "WERKZEUG_",
    "SERVER_SOFTWARE",
    "PYTEST_",
)


def postgres_test_url() -> str | None:
    """TEST_DATABASE_URL when it names a PostgreSQL server, else None."""
    url = os.environ.get("TEST_DATABASE_URL", "").strip()
    return url if url.startswith(("postgresql", "postgres://")) else None


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    """Keeps each phase's report on the item, so teardowns can tell whether the test failed."""
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


def _failed(request) -> bool:
    return any(
        getattr(request.node, f"rep_{when}", None) is not None and getattr(request.node, f"rep_{when}").failed
        for when in ("setup", "call")
    )


# --- the scratch database ---------------------------------------------------------------------


@dataclass
class ScratchDatabase:
    """A PostgreSQL database of the deployment's own."""

    name: str
    url: str  # SQLAlchemy URL for the app's DATABASE_URL
    conninfo: str  # libpq URL for psycopg in the test

    def connect(self):
        """An autocommit psycopg connection to it."""
        import psycopg

        return psycopg.connect(self.conninfo, autocommit=True)


def _libpq(url: URL) -> str:
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture
def scratch_db() -> Iterator[ScratchDatabase]:
    """Creates `scheduler_deploy_<random>` on the TEST_DATABASE_URL server; drops it afterwards."""
    import psycopg

    base = postgres_test_url()
    if base is None:  # pragma: no cover - the module is skipped before
        pytest.skip("needs TEST_DATABASE_URL=postgresql+psycopg://...")
    if base.startswith("postgres://"):
        base = "postgresql+psycopg://" + base[len("postgres://") :]
    target = make_url(base)
    name = f"scheduler_deploy_{secrets.token_hex(5)}"
    admin_info = _libpq(target.set(database="postgres"))
    with psycopg.connect(admin_info, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    db = ScratchDatabase(
        name,
        target.set(drivername="postgresql+psycopg", database=name).render_as_string(hide_password=False),
        _libpq(target.set(database=name)),
    )
    try:
        yield db
    finally:
        with psycopg.connect(admin_info, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# --- the SMTP sink ------------------------------------------------------------------------------


@dataclass
class Received:
    """One message the SMTP server accepted."""

    message_id: str
    rcpt_tos: list[str]
    to: str
    subject: str
    list_unsubscribe: str
    list_unsubscribe_post: str


@dataclass
class SmtpSink:
    """An aiosmtpd handler that records every accepted message."""

    port: int = 0
    messages: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        msg = BytesParser(policy=policy.default).parsebytes(envelope.content, headersonly=True)
        received = Received(
            message_id=str(msg.get("Message-ID", "")).strip(),
            rcpt_tos=list(envelope.rcpt_tos),
            to=str(msg.get("To", "")),
            subject=str(msg.get("Subject", "")),
            list_unsubscribe=str(msg.get("List-Unsubscribe", "")),
            list_unsubscribe_post=str(msg.get("List-Unsubscribe-Post", "")),
        )
        with self.lock:
            self.messages.append(received)
        return "250 Message accepted for delivery"

    def snapshot(self) -> list[Received]:
        """The messages accepted so far."""
        with self.lock:
            return list(self.messages)


@pytest.fixture
def smtp_sink() -> Iterator[SmtpSink]:
    """A real SMTP server on 127.0.0.1 (free port) that keeps every message it accepts."""
    sink = SmtpSink(port=free_port())
    controller = Controller(sink, hostname="127.0.0.1", port=sink.port)
    controller.start()
    try:
        yield sink
    finally:
        controller.stop()


# --- processes ----------------------------------------------------------------------------------


@dataclass
class Proc:
    """A started process with its output in files."""

    name: str
    popen: subprocess.Popen
    stdout_path: Path
    stderr_path: Path
    files: list[IO] = field(default_factory=list)

    def output(self) -> tuple[str, str]:
        """Its stdout and stderr so far."""
        return (
            self.stdout_path.read_text(errors="replace") if self.stdout_path.exists() else "",
            self.stderr_path.read_text(errors="replace") if self.stderr_path.exists() else "",
        )


class Processes:
    """Starts long-running processes in their own process groups and always stops them."""

    def __init__(self, logdir: Path):
        self.logdir = logdir
        self.procs: list[Proc] = []

    def start(self, name: str, argv: list[str], env: dict[str, str]) -> Proc:
        out = open(self.logdir / f"{name}.out", "wb")  # noqa: SIM115 - closed in stop()
        err = open(self.logdir / f"{name}.err", "wb")  # noqa: SIM115 - closed in stop()
        popen = subprocess.Popen(
            argv, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=err, start_new_session=True
        )
        proc = Proc(name, popen, self.logdir / f"{name}.out", self.logdir / f"{name}.err", [out, err])
        self.procs.append(proc)
        return proc

    def stop(self, proc: Proc, timeout: float = 30.0) -> int:
        """SIGTERM, wait, then SIGKILL the process group (gunicorn's workers included); its exit status."""
        popen = proc.popen
        if popen.poll() is None:
            popen.send_signal(signal.SIGTERM)
            try:
                popen.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                popen.kill()
                popen.wait(timeout=10)
        # whatever the process left in its own group (gunicorn workers after a killed master)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(popen.pid, signal.SIGKILL)
        for fh in proc.files:
            fh.close()
        proc.files = []
        return popen.returncode

    def stop_all(self) -> None:
        for proc in reversed(self.procs):
            self.stop(proc)

    def dump(self, tail: int = 6000) -> str:
        """The end of every process's output, for a failure report."""
        parts = []
        for proc in self.procs:
            out, err = proc.output()
            parts.append(
                f"===== {proc.name} (pid {proc.popen.pid}, exit {proc.popen.returncode}) stderr =====\n{err[-tail:]}\n"
                f"===== {proc.name} stdout =====\n{out[-tail:]}"
            )
        return "\n".join(parts)


@pytest.fixture
def processes(request, tmp_path) -> Iterator[Processes]:
    """Processes started by the test: stopped at the end, their output printed when the test failed."""
    logdir = tmp_path / "logs"
    logdir.mkdir()
    procs = Processes(logdir)
    try:
        yield procs
    finally:
        procs.stop_all()
        if _failed(request):
            print(procs.dump())


def wait_until(predicate, timeout: float, interval: float = 0.25) -> bool:
    """Polls until predicate() is truthy or the timeout passes."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return bool(predicate())


def clean_environment() -> dict[str, str]:
    """The caller's environment without anything that configures the app, gunicorn or pytest."""
    return {k: v for k, v in os.environ.items() if not k.startswith(APP_VARIABLES)}
