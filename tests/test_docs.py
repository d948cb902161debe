"""docs/interfaces.md is kept true: every endpoint, setting and command it names exists, and the
API has no endpoint it leaves out."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
INTERFACES = (ROOT / "docs" / "interfaces.md").read_text()


def _table_rows(heading: str) -> list[str]:
    """The first cells of the table under a heading."""
    section = INTERFACES.split(f"## {heading}", 1)[1].split("\n## ", 1)[0]
    return [line.split("|")[1] for line in section.splitlines() if line.startswith("| `")]


def _documented_endpoints() -> set[tuple[str, str]]:
    """(method, path) of the endpoints table: "`POST /a/{id}/cancel`, `/check-in`" names two."""
    found = set()
    for cell in _table_rows("JSON API"):
        method = path = None
        for part in re.findall(r"`([^`]+)`", cell):
            if " " in part:
                method, path = part.split(" ", 1)
            elif part.startswith("/") and path:  # a sibling of the path before it
                path = path.rsplit("/", 1)[0] + part
            else:
                continue
            found.add((method, path.split("?")[0]))
    return found


def test_every_api_endpoint_is_documented_and_every_documented_one_exists(client):
    documented = _documented_endpoints()
    spec = client.get("/api/v1/openapi.json").get_json()
    actual = {
        (method.upper(), re.sub(r"\{[a-z_]+_id\}", "{id}", path))
        for path, ops in spec["paths"].items()
        for method in ops
        if path != "/openapi.json"
    }
    assert documented == actual, (documented - actual, actual - documented)


def test_every_documented_setting_is_read_by_the_configuration():
    config = (ROOT / "config.py").read_text()
    names = {name for cell in _table_rows("Configuration") for name in re.findall(r"`([A-Z_]+)`", cell)}
    assert len(names) > 20
    assert {n for n in names if f'"{n}"' not in config} == set()


def test_every_documented_command_exists(app):
    commands = {cell for cell in _table_rows("Command line")}
    for cell in commands:
        for usage in re.findall(r"`flask ([a-z-]+) ([a-z-]+)", cell):
            group = app.cli.get_command(None, usage[0])
            assert group is not None and group.get_command(None, usage[1]) is not None, usage
