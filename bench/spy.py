"""Where a gunicorn worker's time goes under load: `python bench/spy.py --db sqlite day_view|booking`.

Serves a scratch database of 10,000 appointments with gunicorn (deploy/gunicorn.conf.py, 4 workers),
drives the day calendar or bookings with wrk as bench/run.py does, samples every worker with
py-spy meanwhile, and prints the share of busy samples in which each function was on the stack
(inclusive) and at its top (self). py-spy samples from outside the processes: the workers run
at full speed, unlike under cProfile (bench/hotspots.py).
"""

from __future__ import annotations

import argparse
import collections
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import load, run  # noqa: E402
from bench import web_load as http  # noqa: E402

#: stacks whose top is one of these are a thread waiting for work, not serving a request
IDLE = ("select (selectors.py", "wait (threading.py", "accept (socket.py", "sleep (gunicorn", "run (gunicorn/arbiter")


def frame_name(frame: str) -> str:
    """`function (module/file.py:line)` without the line."""
    return frame.rsplit(":", 1)[0] + ")" if frame.endswith(")") and ":" in frame else frame


def summarise(raw: Path, top: int) -> None:
    """Prints inclusive and self shares of busy samples from py-spy's raw (collapsed) output."""
    inclusive: collections.Counter[str] = collections.Counter()
    own: collections.Counter[str] = collections.Counter()
    busy = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = [frame_name(f) for f in stack.split(";") if not f.startswith(("process ", "thread "))]
        if not frames or frames[-1].startswith(IDLE) or "handle_request" not in stack:
            continue
        n = int(count)
        busy += n
        for name in set(frames):
            inclusive[name] += n
        own[frames[-1]] += n
    print(f"{busy} busy samples")
    print("\ninclusive (on the stack)")
    for name, n in inclusive.most_common(top):
        print(f"{100 * n / busy:5.1f}%  {name}")
    print("\nself (at the top of the stack)")
    for name, n in own.most_common(top):
        print(f"{100 * n / busy:5.1f}%  {name}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workload", choices=["day_view", "booking"])
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--top", type=int, default=40, help="functions to list")
    args = parser.parse_args()
    spy = shutil.which("py-spy") or str(http.VENV / "py-spy")
    if not Path(spy).exists():
        parser.error("py-spy is not installed: pip install py-spy")
    with ExitStack() as stack:
        env = run.build(args.db, run.SMALL, "spy", stack)
        token, ids = run.booking_fixtures(env)
        run.scheduler_running(env)
        server = http.Gunicorn(env["url"])
        stack.callback(server.stop)
        if args.workload == "day_view":
            cookie = http.session_cookie(server.base, "bench-admin@example.com", "bench password 123")
            url, headers, script = f"{server.base}/calendar?date={env['busy_day']}", {"Cookie": cookie}, None
        else:
            url, headers = server.base + "/api/v1/appointments", {}
            day = env["busy_day"] + timedelta(days=7)
            script = http.booking_script(token, day, load.PRACTITIONERS, ids, run.TZ, threads=2)
        raw = Path(tempfile.mkdtemp(prefix="spy-")) / "stacks.txt"
        cmd = ["wrk", "-t2", "-c16", f"-d{args.seconds + 2}s", "--timeout", "10s"]
        for k, v in ({"User-Agent": http.USER_AGENT} | headers).items():
            cmd += ["-H", f"{k}: {v}"]
        wrk = subprocess.Popen(cmd + (["-s", script] if script else []) + [url], stdout=subprocess.PIPE, text=True)
        time.sleep(1)
        subprocess.run(
            [spy, "record", "--pid", str(server.proc.pid), "--subprocesses", "--nonblocking"]
            + ["-d", str(args.seconds), "-r", "250", "-f", "raw", "-o", str(raw)],
            check=True,
            capture_output=True,
        )
        out = wrk.communicate()[0]
        print(next((line for line in out.splitlines() if "Requests/sec" in line), out))
        summarise(raw, args.top)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
