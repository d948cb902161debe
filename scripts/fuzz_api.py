#!/usr/bin/env python3
"""API fuzz pass: Schemathesis generates requests from /api/v1/openapi.json, valid and invalid,
against the app in-process (WSGI) on a scratch database loaded with the demo clinic.

Not part of the test suite (`tests/api/test_fuzz.py` is the bounded, always-run version).
Schemathesis is kept out of requirements.txt: it installs a pytest plugin that would load into
every test run. `scripts/fuzz` (run by CI) builds a virtual environment that has it
(`.venv-fuzz`, from requirements-fuzz.txt), layered on the app's by a .pth file, and runs this on
SQLite and on a scratch PostgreSQL database. By hand:

    .venv-fuzz/bin/python scripts/fuzz_api.py [--examples 100] [--seed N]
        [--database URL-of-a-scratch-database | --postgres postgresql+psycopg://postgres@127.0.0.1:5432/postgres]

`--postgres` names a server: a database `fuzz_<random>` is created there and dropped afterwards.
Exits non-zero when any request got a 5xx, or a 2xx answer did not match its response schema
(jsonschema checks the responses whose schema schemathesis cannot read, e.g. 3.1 `prefixItems`);
other findings (e.g. a schema-valid request refused by a clinic rule) are listed for reading.
The last line is a one-line summary starting with `fuzz <database>:`.
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import signal
import sys
import tempfile
import zlib
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("APP_ENV", "testing")

#: checks whose failures fail the run; the others are expected where a clinic rule refuses valid input
FATAL = {"Server error", "Response violates schema", "Undocumented Content-Type", "Missing Content-Type header"}
SCHEMA_VIOLATION = "Response violates schema"
#: what a run made outside itself, undone at the end or on SIGTERM/SIGINT
CLEANUPS: list[Callable[[], None]] = []


def on_signal(signum, _frame) -> None:
    """Cleans up and leaves at once. Raising SystemExit instead is not enough: the code it would
    interrupt may swallow it (Hypothesis) or turn it into a 500 (the app's error handler)."""
    for cleanup in reversed(CLEANUPS):
        try:
            cleanup()
        except Exception as exc:  # leave anyway
            print(f"cleanup failed: {exc}", file=sys.stderr)
    os._exit(128 + signum)


@contextmanager
def scratch_postgres(server: str) -> Iterator[str]:
    """Yields the URL of a new empty database `fuzz_<random>` on `server`, and drops it afterwards."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url
    from sqlalchemy.pool import NullPool

    server_url = make_url(server)
    name = f"fuzz_{secrets.token_hex(4)}"

    def drop() -> None:  # a fresh engine each time: a signal may come while another one is in use
        admin = create_engine(server_url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    CLEANUPS.append(drop)
    try:
        admin = create_engine(server_url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        yield server_url.set(database=name).render_as_string(hide_password=False)
    finally:
        drop()
        CLEANUPS.remove(drop)


def prepare(url: str):
    """A migrated scratch database with the demo clinic; returns (app, admin token)."""
    from flask_migrate import upgrade

    from scheduler import create_app, seed
    from scheduler.extensions import db
    from scheduler.staff import tokens, users

    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        upgrade()
        if seed.is_empty():
            seed.seed_demo()
            db.session.commit()
        admin = users.find_by_email("admin@example.com")
        token = tokens.issue_token(admin, actor_label="fuzz")
        db.session.commit()
        db.session.remove()
    return app, token


def json_schema_checker(doc: dict):
    """A fallback for the responses schemathesis cannot validate: OpenAPI 3.1 schemas are JSON Schema
    2020-12, so jsonschema checks a response body against its operation's schema (components included).
    Returns check(method, path, response) -> the violations found (empty when the body matches)."""
    from jsonschema import Draft202012Validator

    def check(method: str, path: str, response) -> list[str]:
        responses = doc["paths"][path][method.lower()]["responses"]
        declared = responses.get(str(response.status_code)) or responses.get("default")
        schema = ((declared or {}).get("content") or {}).get("application/json", {}).get("schema")
        if schema is None:  # undocumented status or body: schemathesis' own checks report those
            return []
        validator = Draft202012Validator({**schema, "components": doc.get("components", {})})
        try:
            body = response.json()
        except ValueError:
            return ["the body is not JSON"]
        errors = validator.iter_errors(body)
        return [f"{'/'.join(map(str, e.absolute_path)) or '(body)'}: {e.message}"[:300] for e in errors]

    return check


def fuzz(app, token: str, examples: int, seed: int | None, database: str) -> int:
    """Runs every operation in positive and negative mode; prints a summary; returns the exit status."""
    import schemathesis
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as fixed_seed
    from schemathesis.core.errors import InvalidSchema
    from schemathesis.generation import GenerationMode

    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    check_response = json_schema_checker(app.test_client().get("/api/v1/openapi.json").get_json())
    auth = {"Authorization": f"Bearer {token}"}
    statuses: dict[str, Counter] = defaultdict(Counter)
    findings: dict[tuple[str, str], list[str]] = defaultdict(list)
    calls = 0

    def runner(operation, mode):
        @settings(
            max_examples=examples,
            deadline=None,
            database=None,
            phases=[Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy(generation_mode=mode))
        def run(case):
            nonlocal calls
            calls += 1
            response = case.call(headers=auth)
            statuses[operation.label][response.status_code] += 1
            sample = f"{mode.value} {response.status_code}: {case.as_curl_command(headers=auth)}"[:400]
            if response.status_code >= 500:
                findings[("Server error", operation.label)].append(sample)
            try:
                case.validate_response(response, headers=auth)
            except BaseExceptionGroup as exc:  # schemathesis' FailureGroup: one failure per check that tripped
                for failure in exc.exceptions:
                    title = getattr(failure, "title", type(failure).__name__)
                    if title != "Server error":
                        findings[(title, operation.label)].append(sample)
            except InvalidSchema as exc:  # schemathesis reads 3.1 `prefixItems` (tuples) as draft-4 `items`
                errors = check_response(operation.method, operation.path, response)
                if errors:
                    findings[(SCHEMA_VIOLATION, operation.label)].append(f"{sample}\n      {errors[0]}"[:600])
                else:
                    reason = str(exc).splitlines()[0]
                    findings[(f"validated by jsonschema, as schemathesis could not: {reason}", operation.label)].append(
                        sample
                    )

        if seed is not None:  # one derived seed per operation and mode, so a run can be replayed
            run = fixed_seed(seed ^ zlib.crc32(f"{operation.label} {mode.value}".encode()))(run)
        return run

    for result in schema.get_all_operations():
        operation = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            runner(operation, mode)()

    print(f"{calls} requests")
    for label, counter in sorted(statuses.items()):
        print(f"  {label:55} {dict(sorted(counter.items()))}")
    fatal = 0
    for (title, label), samples in sorted(findings.items()):
        is_fatal = title in FATAL
        fatal += is_fatal
        print(f"{'FAIL' if is_fatal else 'note'}  {title}: {label} ({len(samples)}x)\n      e.g. {samples[0]}")
    print("no server errors, every 2xx matched its schema" if not fatal else f"{fatal} fatal finding(s)")
    server_errors = sum(n for counter in statuses.values() for code, n in counter.items() if code >= 500)
    violations = sum(len(samples) for (title, _), samples in findings.items() if title == SCHEMA_VIOLATION)
    other = sum(
        len(samples)
        for (title, _), samples in findings.items()
        if title in FATAL and title not in ("Server error", SCHEMA_VIOLATION)
    )
    print(
        f"fuzz {database}: {calls} requests, {server_errors} 5xx, {violations} schema violations"
        + (f", {other} other fatal" if other else "")
        + f" ({examples} examples per operation and mode{f', seed {seed}' if seed is not None else ''})"
        + (" FAILED" if fatal else " ok")
    )
    return 1 if fatal else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=100, help="examples per operation and mode")
    parser.add_argument("--seed", type=int, help="fixes the generated requests (default: random)")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--database", help="SQLAlchemy URL of a scratch database (default: a temp SQLite file)")
    where.add_argument(
        "--postgres",
        metavar="SERVER_URL",
        help="PostgreSQL server URL: fuzz a new database fuzz_<random> there, dropped afterwards",
    )
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    with tempfile.TemporaryDirectory() as tmp:
        CLEANUPS.append(lambda: shutil.rmtree(tmp, ignore_errors=True))
        if args.postgres:
            with scratch_postgres(args.postgres) as url:
                return run_on(url, args)
        return run_on(args.database or f"sqlite:///{Path(tmp) / 'fuzz.db'}", args)


def run_on(url: str, args) -> int:
    from sqlalchemy.engine import make_url

    from scheduler.extensions import db

    app, token = prepare(url)
    try:
        return fuzz(app, token, args.examples, args.seed, make_url(url).get_backend_name())
    finally:
        with app.app_context():
            db.engine.dispose()


if __name__ == "__main__":
    sys.exit(main())
