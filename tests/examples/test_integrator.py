"""The integrator example (examples/integrator): its data files, checked with the command
line and over HTTP, and its script."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from subprocess import PIPE
from typing import Any

import orjson
from aiohttp import ClientSession
from aiohttp.test_utils import TestServer

from broker.api import create_app
from broker.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
FOLDER = ROOT / "examples" / "integrator"
FILES = sorted((FOLDER / "data").glob("*.json"))
SCRIPT = FOLDER / "validate.py"

#: The invalid files and their errors: JSON pointers into the file, and what each says.
EXPECTED_ERRORS = {
    "air-quality-bad-values.json": [
        ("/dateObserved/value", "'2026-11-27T10:00:00' does not match"),  # no time zone
        ("/dateObserved/value", "'2026-11-27T10:00:00' is not a 'date-time'"),
        ("/pm25/value", "-3.2 is less than the minimum of 0"),
    ],
    "parking-spot-bad-status.json": [
        ("/status/value", "'vacant' is not one of ['closed', 'free', 'occupied', 'unknown']"),
    ],
}


def _check(name: str, errors: list[dict[str, str]]) -> None:
    expected = EXPECTED_ERRORS.get(name, [])
    assert len(errors) == len(expected), (name, errors)
    for error, (path, message) in zip(errors, expected, strict=True):
        assert error["path"] == path, (name, errors)
        assert error["message"].startswith(message), (name, errors)


async def _run(*args: str | Path) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, *map(str, args), stdout=PIPE, stderr=PIPE, cwd=ROOT
    )
    out, err = await process.communicate()
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


def test_the_folder_has_valid_and_invalid_files() -> None:
    names = {path.name for path in FILES}
    assert EXPECTED_ERRORS.keys() < names and len(names - EXPECTED_ERRORS.keys()) >= 3


async def test_cli_reports_the_invalid_files() -> None:
    """`python -m broker validate examples/integrator/data/*.json`: exit status 1, one line
    per file, the invalid ones with pointers into the file."""
    status, out, err = await _run("-m", "broker", "validate", *FILES)
    assert status == 1, err
    lines = [orjson.loads(line) for line in out.splitlines()]
    assert [Path(line["file"]).name for line in lines] == [path.name for path in FILES]
    for line in lines:
        name = Path(line["file"]).name
        assert line["valid"] is (name not in EXPECTED_ERRORS)
        _check(name, line["errors"])
    arrays = [line for line in lines if isinstance(line["type"], list)]
    assert [line["type"] for line in arrays] == [["ParkingSpot", "ParkingSpot"]]
    # The valid files alone pass.
    valid = [path for path in FILES if path.name not in EXPECTED_ERRORS]
    assert (await _run("-m", "broker", "validate", *valid))[0] == 0


async def test_http_validation(settings: Settings, mongo_uri: str) -> None:
    """POST /models/validate answers the same for each file, and the broker accepts the
    valid files as NGSI-LD entities."""
    async with TestServer(create_app(settings, mongo_uri)) as server:
        url = str(server.make_url("/")).rstrip("/")
        async with ClientSession() as http:
            for path in FILES:
                body = path.read_bytes()
                headers = {"Content-Type": "application/ld+json"}
                response = await http.post(f"{url}/models/validate", data=body, headers=headers)
                assert response.status == 200
                answer: Any = await response.json()
                reports = answer if isinstance(answer, list) else [answer]
                errors = [
                    {**e, "path": (f"/{i}" if isinstance(answer, list) else "") + e["path"]}
                    for i, report in enumerate(reports)
                    for e in report["errors"]
                ]
                _check(path.name, errors)
                if path.name in EXPECTED_ERRORS:
                    continue
                many = isinstance(answer, list)
                target = "entityOperations/create" if many else "entities"
                response = await http.post(f"{url}/ngsi-ld/v1/{target}", data=body, headers=headers)
                assert response.status == 201, await response.text()


async def test_the_script(settings: Settings, mongo_uri: str) -> None:
    """validate.py prints both checks with the pointers and exits 1 (some files invalid)."""
    async with TestServer(create_app(settings, mongo_uri)) as server:
        url = str(server.make_url("/")).rstrip("/")
        status, out, err = await _run(SCRIPT, "--url", url)
    assert status == 1, out + err
    cli, http = out.split("2. Over HTTP: POST ")
    assert cli.startswith("-" * 78 + "\n1. Command line: python -m broker validate")
    assert http.startswith(f"{url}/models/validate")
    for section in (cli, http):
        assert "INVALID  examples/integrator/data/parking-spot-bad-status.json" in section
        assert "/status/value: 'vacant' is not one of" in section
        assert "/pm25/value: -3.2 is less than the minimum of 0" in section
        assert "OK       examples/integrator/data/vehicle-bus-2201.json (Vehicle)" in section
        assert section.count("INVALID  ") == 2 and section.count("OK       ") == 3


async def test_the_script_without_a_broker() -> None:
    valid = [p for p in FILES if p.name not in EXPECTED_ERRORS]
    assert (await _run(SCRIPT, "--no-http", *valid))[0] == 0
    assert (await _run(SCRIPT, "--no-http"))[0] == 1
    status, _, err = await _run(SCRIPT, "--url", "http://127.0.0.1:9", *valid)
    assert status == 2 and "cannot reach the broker at http://127.0.0.1:9" in err
