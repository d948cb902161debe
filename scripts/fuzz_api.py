#!/usr/bin/env python3
"""API fuzz pass: Schemathesis generates requests from /api/v1/openapi.json, valid and invalid,
against the app in-process (WSGI) on a scratch database loaded with the demo clinic.

Not part of the test suite (`tests/api/test_fuzz.py` is the bounded, always-run version).
Schemathesis is kept out of requirements.txt: it installs a pytest plugin that would load into
every test run. Run it from a virtual environment that has it, layered on the app's:

    python3 -m venv /tmp/fuzz-venv
    echo "$PWD/.venv/lib/python3.11/site-packages" > /tmp/fuzz-venv/lib/python3.11/site-packages/app.pth
    /tmp/fuzz-venv/bin/pip install schemathesis==4.32.5
    /tmp/fuzz-venv/bin/python scripts/fuzz_api.py [--examples 100] [--database postgresql+psycopg://...]

Exits non-zero when any request got a 5xx, or a 2xx answer did not match its response schema;
other findings (e.g. a schema-valid request refused by a clinic rule) are listed for reading.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("APP_ENV", "testing")

#: checks whose failures fail the run; the others are expected where a clinic rule refuses valid input
FATAL = {"Server error", "Response violates schema", "Undocumented Content-Type", "Missing Content-Type header"}


def prepare(url: str):
    """A migrated scratch database with the demo clinic; returns (app, admin token)."""
    from flask_migrate import upgrade

    from scheduler import create_app, seed
    from scheduler.extensions import db
    from scheduler.services import users

    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        upgrade()
        if seed.is_empty():
            seed.seed_demo()
            db.session.commit()
        admin = users.find_by_email("admin@example.com")
        token = users.issue_token(admin, actor_label="fuzz")
        db.session.commit()
        db.session.remove()
    return app, token


def fuzz(app, token: str, examples: int) -> int:
    """Runs every operation in positive and negative mode; prints a summary; returns the exit status."""
    import schemathesis
    from hypothesis import HealthCheck, Phase, given, settings
    from schemathesis.core.errors import InvalidSchema
    from schemathesis.generation import GenerationMode

    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    auth = {"Authorization": f"Bearer {token}"}
    statuses: dict[str, Counter] = defaultdict(Counter)
    findings: dict[tuple[str, str], list[str]] = defaultdict(list)
    calls = 0

    def runner(operation, mode):
        @settings(max_examples=examples, deadline=None, database=None, phases=[Phase.generate],
                  suppress_health_check=list(HealthCheck))
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
                findings[(f"schemathesis could not validate: {str(exc).splitlines()[0]}", operation.label)].append(
                    sample)

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
    return 1 if fatal else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=100, help="examples per operation and mode")
    parser.add_argument("--database", help="SQLAlchemy URL of a scratch database (default: a temp SQLite file)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database or f"sqlite:///{Path(tmp) / 'fuzz.db'}"
        app, token = prepare(url)
        return fuzz(app, token, args.examples)


if __name__ == "__main__":
    sys.exit(main())
