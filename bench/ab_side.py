"""One side of bench/ab.py: work on a scratch database with the code of ONE work tree.

Run as `TREE/.venv/bin/python bench/ab_side.py TREE build KIND SIZE URL` or `... TREE heartbeat
URL`, with cwd = TREE. Everything it imports is TREE's own:
- build: bench.run.build (that tree's migrations, bulk loader, busy day, seed 1, sequences,
  ANALYZE/VACUUM and checkpoint) and bench.run.booking_fixtures (the bench admin, its API token
  and 1,000 patients to book);
- heartbeat: bench.run.scheduler_running (a sweep heartbeat of now: staff pages show no
  "scheduler is down" banner, and skip its query, for the 10 minutes that follow).
The database at URL is made and dropped by the caller. The last line of stdout is AB_SIDE + JSON.
"""

from __future__ import annotations

import json
import sys

TREE, COMMAND, *ARGS = sys.argv[1:]
sys.path[0] = TREE  # this tree's `bench` and `scheduler`, not those of the tree holding this file

from bench import run  # noqa: E402


class GivenDatabase:
    """Stands in for run.build's ExitStack: its scratch database is the one the caller made."""

    def __init__(self, url: str):
        self.url = url

    def enter_context(self, _unused_scratch_cm):
        return self.url


if COMMAND == "build":
    kind, size, url = ARGS
    env = run.build(kind, int(size), "ab", GivenDatabase(url))
    token, patients = run.booking_fixtures(env)
    out = {
        "busy_day": env["busy_day"].isoformat(),
        "token": token,
        "patients": patients,
        "practitioners": run.load.PRACTITIONERS,
        "tz": str(run.TZ),
        "counts": env["counts"],
    }
elif COMMAND == "heartbeat":
    (url,) = ARGS
    run.scheduler_running({"app": run.create_app("testing", {"SQLALCHEMY_DATABASE_URI": url})})
    out = {}
else:
    raise SystemExit(f"unknown command {COMMAND!r}")
print("AB_SIDE " + json.dumps(out), flush=True)
