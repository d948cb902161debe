"""HTTP throughput under gunicorn with the production settings, driven by wrk on 127.0.0.1."""

from __future__ import annotations

import http.cookiejar
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.parse
import urllib.request
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
#: one User-Agent for the sign-in and for wrk: the session is bound to it (session_protection)
USER_AGENT = "clinic-bench/1"
VENV = ROOT / ".venv" / "bin"


def free_port() -> int:
    """An unused TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Gunicorn:
    """gunicorn serving the app on a scratch database, as deploy/gunicorn.conf.py configures it."""

    def __init__(self, url: str, workers: int = 4):
        self.port = free_port()
        env = dict(
            os.environ,
            APP_ENV="production",
            SECRET_KEY="bench-secret",
            DATABASE_URL=url,
            SESSION_COOKIE_SECURE="off",
            WEB_CONCURRENCY=str(workers),
            PYTHONPATH=str(ROOT),
        )
        self.proc = subprocess.Popen(
            [
                str(VENV / "gunicorn"),
                "-c",
                str(ROOT / "deploy" / "gunicorn.conf.py"),
                "--bind",
                f"127.0.0.1:{self.port}",
                "--access-logfile",
                "/dev/null",
                "wsgi:app",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        self.base = f"http://127.0.0.1:{self.port}"
        for _ in range(200):
            try:
                urllib.request.urlopen(self.base + "/healthz", timeout=1).read()
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("gunicorn did not start: " + self.proc.stderr.read().decode()[-2000:])

    def worker_pids(self) -> list[int]:
        """The worker processes' pids."""
        out = subprocess.run(["pgrep", "-P", str(self.proc.pid)], capture_output=True, text=True).stdout
        return [int(p) for p in out.split()]

    def peak_rss_mb(self) -> float:
        """The largest peak resident set (VmHWM) among the workers, in MiB."""
        peaks = []
        for pid in self.worker_pids():
            status = Path(f"/proc/{pid}/status").read_text()
            peaks.append(int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1)) / 1024)
        return max(peaks)

    def stop(self) -> None:
        """Stops gunicorn and waits for it."""
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def session_cookie(base: str, email: str, password: str) -> str:
    """Signs in through the real form (CSRF included) and returns the Cookie header value."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    opener.addheaders = [("User-Agent", USER_AGENT)]
    page = opener.open(base + "/login").read().decode()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    data = urllib.parse.urlencode({"email": email, "password": password, "csrf_token": token}).encode()
    opener.open(base + "/login", data=data).read()
    return "; ".join(f"{c.name}={c.value}" for c in jar)


def wrk(
    url: str,
    seconds: int,
    *,
    headers: dict[str, str] | None = None,
    script: str | None = None,
    threads: int = 2,
    connections: int = 16,
) -> float:
    """Requests per second that wrk measures (non-2xx answers are an error)."""
    if shutil.which("wrk") is None:
        raise RuntimeError("wrk is not installed: apt-get install wrk")
    # A 10 s timeout: on SQLite a booking can queue for the write lock behind 15 others.
    cmd = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s", "--latency"]
    for k, v in ({"User-Agent": USER_AGENT} | (headers or {})).items():
        cmd += ["-H", f"{k}: {v}"]
    if script:
        cmd += ["-s", script]
    out = subprocess.run(cmd + [url], capture_output=True, text=True, check=True).stdout
    if "Non-2xx" in out or "Socket errors" in out:
        raise RuntimeError("wrk saw error answers:\n" + out)
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))


#: bookable slots per practitioner and weekday in booking_script (08:00 to 17:00, on the hour)
SLOTS_PER_DAY = 10

BOOKING_LUA = """
local bodies = {BODIES}
local n = #bodies
local counter = 0
local threads_seen = 0
function setup(thread)
  thread:set("offset", threads_seen)
  threads_seen = threads_seen + 1
end
function init(args)
  counter = tonumber(wrk.thread:get("offset")) or 0
end
function request()
  counter = counter + {THREADS}
  local body = bodies[(counter % n) + 1]
  return wrk.format("POST", "/api/v1/appointments", {["Content-Type"]="application/json",
    ["Authorization"]="Bearer {TOKEN}"}, body)
end
"""


def booking_script(
    token: str, first_day: date, practitioners: int, patients: list[int], tz: ZoneInfo, threads: int, count: int = 30000
) -> str:
    """A wrk Lua script that books `count` distinct free slots (empty future weekdays).

    The slots are on the hour from 08:00 to 17:00 (SLOTS_PER_DAY per practitioner and weekday):
    treatment 1 takes 30 minutes and holds the practitioner 10 more (its buffer), so slots half
    an hour apart would collide.
    """
    bodies = []
    day = first_day
    while len(bodies) < count:
        if day.weekday() < 5:
            for slot in range(SLOTS_PER_DAY):
                start = datetime.combine(day, dtime(8), tzinfo=tz).astimezone(UTC) + timedelta(hours=slot)
                for prac in range(1, practitioners + 1):
                    patient = patients[len(bodies) % len(patients)]
                    bodies.append(
                        json.dumps(
                            {
                                "patient_id": patient,
                                "practitioner_id": prac,
                                "treatment_id": 1,
                                "starts_at": start.isoformat(),
                            }
                        )
                    )
        day += timedelta(days=1)
    lua = "{" + ",".join("[[" + b + "]]" for b in bodies[:count]) + "}"
    script = BOOKING_LUA.replace("{BODIES}", lua).replace("{THREADS}", str(threads)).replace("{TOKEN}", token)
    path = Path(tempfile.mkstemp(suffix=".lua")[1])
    path.write_text(script)
    return str(path)
