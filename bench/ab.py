"""Side-by-side HTTP rates of two versions of the app: `python bench/ab.py --db sqlite|postgresql
--size N --before PATH_TO_OLD_WORKTREE [--rounds 5 --seconds 5 --workers 4]`.

"after" is this work tree (as it is on disk: uncommitted edits included; the commit printed is
its HEAD), "before" is the work tree at --before (a `git worktree` of the older commit, with
its own .venv or a symlink to one). How the comparison is made:

1. Two scratch databases of the same kind (bench/scratch.py; dropped at the end, Ctrl-C too).
   Each is built by its OWN tree in a subprocess (bench/ab_side.py, run with cwd = that tree
   and that tree first on sys.path): that tree's migrations, its bench/load.py (N appointments,
   the same busy day - the Monday after today -, seed 1), its bench admin with an API token and
   1,000 patients to book; the schemas may differ, the data is the same. A sweep heartbeat of
   each tree's own is written just before the servers start and every 5 minutes after.
2. One gunicorn per version, each started by its own tree's bench/web_load.Gunicorn (its own
   deploy/gunicorn.conf.py, production settings), the same --workers, its own port and database.
3. R rounds. In each, for each workload, wrk drives one server then the other, never both at
   once, and the order alternates from one round to the next (before first in even rounds):
   - day view: GET /calendar?date=<busy day>, signed in through the login form as the admin;
   - booking: POST /api/v1/appointments with the bearer token, distinct free slots from a wrk
     script (round r books from week 1 + 10r after the busy day on, as bench/run.py does).
   Each window is one unmeasured second of the same requests, then --seconds measured; after
   each wrk run the next waits until the server has no connection open (settle()), so the
   requests wrk abandons at the end of a run never eat into the next window.
   The two databases are separate, so both servers book the same slots.
4. A workload's ratio is the median over rounds of (after req/s / before req/s) of that round:
   the two figures of a round are taken moments apart, so a slow minute of a shared machine
   weighs on both. The last line is JSON: db, size, before/after commits, day_view_ratio,
   booking_ratio and every round's req/s.

wrk, the sign-in and the booking scripts are this tree's (bench/web_load.py) for both sides.
"""

from __future__ import annotations

import argparse
import collections
import importlib.util
import json
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
from contextlib import ExitStack
from datetime import date, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import scratch  # noqa: E402
from bench import web_load as http  # noqa: E402

WARM_UP = 1
#: a sweep heartbeat older than 10 minutes puts a banner and a query on every staff page (the day
#: view): the heartbeats are written just before the servers start and again before a round once
#: this old, so that neither side's day view runs with the banner (the first build can take long)
HEARTBEAT_EVERY = 300
WORKLOADS = ("day_view", "booking")
ADMIN = ("bench-admin@example.com", "bench password 123")  # as bench/run.py's signed_in_client makes it


def head_commit(tree: Path) -> str:
    """The commit checked out in a work tree, read from its git files (no git command runs there)."""
    dot_git = tree / ".git"
    gitdir = dot_git if dot_git.is_dir() else tree / dot_git.read_text().split("gitdir:", 1)[1].strip()
    head = (gitdir / "HEAD").read_text().strip()
    if not head.startswith("ref: "):
        return head
    ref = head[5:]
    common = gitdir / (gitdir / "commondir").read_text().strip() if (gitdir / "commondir").exists() else gitdir
    for base in (gitdir, common):
        if (base / ref).is_file():
            return (base / ref).read_text().strip()
    for line in (common / "packed-refs").read_text().splitlines():
        if line.endswith(" " + ref):
            return line.split()[0]
    return "unknown"


def tree_module(label: str, tree: Path, name: str):
    """bench/<name>.py of a given tree, loaded as a module of its own (its ROOT is that tree)."""
    spec = importlib.util.spec_from_file_location(f"ab_{label}_{name}", tree / "bench" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def side_call(tree: Path, *args: str) -> dict:
    """Runs bench/ab_side.py with the tree's own python, code and cwd; returns what it printed."""
    proc = subprocess.run(
        [str(tree / ".venv" / "bin" / "python"), str(ROOT / "bench" / "ab_side.py"), str(tree), *args],
        cwd=tree,
        capture_output=True,
        text=True,
    )
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("AB_SIDE ")]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"bench/ab_side.py {args[0]} in {tree} failed:\n{proc.stderr[-3000:]}")
    return json.loads(lines[-1][len("AB_SIDE ") :])


def build_side(tree: Path, kind: str, size: int, url: str) -> dict:
    """Builds the database at `url` with the tree's own code; returns its fixtures."""
    began = time.perf_counter()
    side = side_call(tree, "build", kind, str(size), url)
    side["wall_seconds"] = round(time.perf_counter() - began, 1)
    return side


def settle(port: int, limit: float = 60.0) -> float:
    """Waits until no connection to the server is open; returns the seconds waited.

    wrk stops at the end of its window with requests still in flight, and the server goes on
    working on them: on a slow version, seconds of CPU that would fall into the next window
    (its own measured one after the warm-up, or the other server's). A served or abandoned
    connection leaves ESTABLISHED / CLOSE_WAIT (/proc/net/tcp states 01 and 08) once the worker
    is done with it.
    """
    began = time.monotonic()
    local = f"0100007F:{port:04X}"
    while time.monotonic() - began < limit:
        rows = [ln.split() for ln in Path("/proc/net/tcp").read_text().splitlines()[1:]]
        if not any(r[1] == local and r[3] in ("01", "08") for r in rows):
            return time.monotonic() - began
        time.sleep(0.1)
    print(f"warning: port {port} still had open connections after {limit:.0f} s", flush=True)
    return limit


def drain(proc) -> collections.deque:
    """Keeps reading a server's stderr (its error log), so that a full pipe never blocks it."""
    tail: collections.deque = collections.deque(maxlen=50)
    lines = (line.decode(errors="replace").rstrip() for line in proc.stderr)
    threading.Thread(target=tail.extend, args=(lines,), daemon=True).start()
    return tail


class Side:
    """One version: its tree, database fixtures, gunicorn and signed-in session."""

    def __init__(self, label: str, tree: Path, info: dict, server):
        self.label, self.tree, self.info, self.server = label, tree, info, server
        self.log = drain(server.proc)
        self.busy = date.fromisoformat(info["busy_day"])
        self.cookie = http.session_cookie(server.base, *ADMIN)
        self.settled: list[float] = []  # seconds settle() waited after each wrk run

    def booking_scripts(self, round_no: int) -> tuple[str, str]:
        """The round's wrk scripts: 10,000 free slots (ten weeks) from week 1 + 10r on, and 2,000 for the warm-up."""
        first = self.busy + timedelta(weeks=1 + 10 * round_no)
        info = self.info

        def script(start: date, count: int) -> str:
            tz = ZoneInfo(info["tz"])
            return http.booking_script(
                info["token"], start, info["practitioners"], info["patients"], tz, threads=2, count=count
            )

        return script(first, 10000), script(first + timedelta(weeks=8), 2000)

    def window(self, url: str, seconds: int, headers=None, script=None, warm=None) -> float:
        """wrk's req/s over `seconds` after a second of warm-up, each followed by settle()."""
        http.wrk(url, WARM_UP, headers=headers, script=warm or script)
        self.settled.append(settle(self.server.port))
        rate = http.wrk(url, seconds, headers=headers, script=script)
        self.settled.append(settle(self.server.port))
        return rate

    def rate(self, workload: str, round_no: int, seconds: int) -> float:
        """One window of a workload on this side's server: a second of warm-up, then req/s over `seconds`."""
        if workload == "day_view":
            url = f"{self.server.base}/calendar?date={self.busy.isoformat()}"
            headers = {"Cookie": self.cookie}
            return self.window(url, seconds, headers=headers)
        script, warm = self.booking_scripts(round_no)
        try:
            return self.window(self.server.base + "/api/v1/appointments", seconds, script=script, warm=warm)
        finally:
            os.unlink(script)
            os.unlink(warm)


def main(argv: list[str] | None = None) -> int:
    """Builds both databases, runs the rounds, prints the figures and the JSON line."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=["sqlite", "postgresql"], required=True)
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--before", type=Path, required=True, help="work tree of the older commit")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=int, default=5, help="measured seconds of each window")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers of each server")
    args = parser.parse_args(argv)
    trees = {"before": args.before.resolve(), "after": ROOT}
    for tree in trees.values():
        for need in (".venv/bin/python", "bench/run.py", "bench/web_load.py", "deploy/gunicorn.conf.py"):
            if not (tree / need).exists():
                parser.error(f"{tree / need} is missing")
    commits = {label: head_commit(tree) for label, tree in trees.items()}
    print(f"before {commits['before'][:10]} ({trees['before']}), after {commits['after'][:10]} ({ROOT})")
    # A SIGTERM unwinds like Ctrl-C: servers stopped, scratch databases dropped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    rates = {label: {w: [] for w in WORKLOADS} for label in trees}
    with ExitStack() as stack:
        infos = {}
        for label, tree in trees.items():
            url = stack.enter_context(scratch.scratch_database(args.db, f"ab_{label}"))
            infos[label] = build_side(tree, args.db, args.size, url)
            infos[label]["url"] = url
            c = infos[label]["counts"]
            print(
                f"built {label}: {c['appointments']} appointments, {c['reminders']} reminders; "
                f"build {c['seconds']} s ({infos[label]['wall_seconds']} s with imports and fixtures)",
                flush=True,
            )
        if infos["before"]["busy_day"] != infos["after"]["busy_day"]:
            raise RuntimeError("the two builds chose different busy days (a run across midnight?): run it again")
        for label, tree in trees.items():
            side_call(tree, "heartbeat", infos[label]["url"])
        beat = time.monotonic()
        sides = []
        for label, tree in trees.items():
            server = tree_module(label, tree, "web_load").Gunicorn(infos[label]["url"], workers=args.workers)
            stack.callback(server.stop)
            sides.append(Side(label, tree, infos[label], server))
        for r in range(args.rounds):
            if time.monotonic() - beat > HEARTBEAT_EVERY:
                for side in sides:
                    side_call(side.tree, "heartbeat", side.info["url"])
                beat = time.monotonic()
            order = sides if r % 2 == 0 else sides[::-1]
            for workload in WORKLOADS:
                for side in order:
                    try:
                        rates[side.label][workload].append(side.rate(workload, r, args.seconds))
                    except RuntimeError:
                        print(f"{side.label} server, last lines of its log:", *side.log, sep="\n", file=sys.stderr)
                        raise
            print(
                f"round {r + 1} ({order[0].label} first): "
                + "; ".join(
                    f"{w} before {rates['before'][w][-1]:.0f}, after {rates['after'][w][-1]:.0f} req/s"
                    for w in WORKLOADS
                ),
                flush=True,
            )

        for side in sides:
            print(f"{side.label}: settling after a wrk run took up to {max(side.settled):.1f} s")

    ratios = {}
    for w in WORKLOADS:
        per_round = [a / b for a, b in zip(rates["after"][w], rates["before"][w], strict=True)]
        ratios[w] = round(statistics.median(per_round), 3)
        print(
            f"{w}: median req/s before {statistics.median(rates['before'][w]):.0f}, "
            f"after {statistics.median(rates['after'][w]):.0f}; "
            f"per-round after/before {', '.join(f'{x:.2f}' for x in per_round)}; median {ratios[w]:.3f}"
        )
    rounds = {label: {w: [round(v, 1) for v in values] for w, values in by_w.items()} for label, by_w in rates.items()}
    print(
        json.dumps(
            {
                "db": args.db,
                "size": args.size,
                "before": commits["before"],
                "after": commits["after"],
                "day_view_ratio": ratios["day_view"],
                "booking_ratio": ratios["booking"],
                "rounds": rounds,
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
