"""scripts/run serves on PORT and, unless BASE_URL is set (environment or .env), points email links there."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _address(tmp_path: Path, env: dict[str, str], dotenv: str | None = None) -> subprocess.CompletedProcess:
    """Sources scripts/run-address in a directory like the repository root; prints PORT and BASE_URL."""
    if dotenv is not None:
        (tmp_path / ".env").write_text(dotenv)
    clean = {k: v for k, v in os.environ.items() if k not in ("PORT", "BASE_URL")}
    return subprocess.run(
        ["bash", "-c", f'set -euo pipefail; source "{ROOT}/scripts/run-address"; echo "$PORT ${{BASE_URL:-}}"'],
        cwd=tmp_path,
        env=clean | env,
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.mark.parametrize(
    "env, dotenv, expected",
    [
        ({}, None, "5000 http://127.0.0.1:5000"),
        ({"PORT": "5050"}, None, "5050 http://127.0.0.1:5050"),
        ({"PORT": "08080"}, None, "8080 http://127.0.0.1:8080"),
        ({"PORT": "5050", "BASE_URL": "https://clinic.example"}, None, "5050 https://clinic.example"),
        ({"PORT": "5050"}, "BASE_URL=https://from.env\n", "5050 "),  # .env's BASE_URL is read by the app
    ],
)
def test_port_and_base_url(tmp_path, env, dotenv, expected):
    done = _address(tmp_path, env, dotenv)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == expected.strip()


@pytest.mark.parametrize("port", ["abc", "0", "70000", "50 50", "-1"])
def test_a_bad_port_is_refused_with_a_reason(tmp_path, port):
    done = _address(tmp_path, {"PORT": port})
    assert done.returncode == 2 and "PORT must be a number from 1 to 65535" in done.stderr


def test_the_run_script_uses_it_and_says_the_real_address():
    text = (ROOT / "scripts" / "run").read_text()
    assert "source scripts/run-address" in text and '--port "${PORT}"' in text
    assert "Open http://127.0.0.1:${PORT}" in text
