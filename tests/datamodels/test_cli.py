"""`python -m broker validate` and `python -m broker models`: output lines and exit codes."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import pytest

from broker.datamodels import cli

VALID = {"id": "urn:ngsi-ld:Gate:1", "type": "Gate", "width": 3}
INVALID = {"id": "urn:ngsi-ld:Gate:2", "type": "Gate", "width": {"type": "Property", "value": 11}}


def write(folder: Path, name: str, content: Any) -> str:
    path = folder / name
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    return str(path)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, list[Any], str]:
    status = cli.main(list(argv))
    out, err = capsys.readouterr()
    return status, [json.loads(line) for line in out.splitlines()], err


def test_all_valid(capsys: pytest.CaptureFixture[str], tmp_path: Path, city_dir: Path) -> None:
    file = write(tmp_path, "gate.json", VALID)
    status, lines, err = run(capsys, "validate", "--schema-dir", str(city_dir), file)
    assert status == 0
    assert lines == [{"file": file, "type": "Gate", "valid": True, "errors": []}]
    assert err == ""


def test_one_invalid(capsys: pytest.CaptureFixture[str], tmp_path: Path, city_dir: Path) -> None:
    good = write(tmp_path, "good.json", VALID)
    bad = write(tmp_path, "bad.jsonld", INVALID)
    status, lines, _ = run(capsys, "validate", f"--schema-dir={city_dir}", good, bad)
    assert status == 1
    assert lines == [
        {"file": good, "type": "Gate", "valid": True, "errors": []},
        {
            "file": bad,
            "type": "Gate",
            "valid": False,
            "errors": [{"path": "/width/value", "message": "11 is greater than the maximum of 10"}],
        },
    ]


def test_unknown_type_is_invalid(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, city_dir: Path
) -> None:
    file = write(tmp_path, "door.json", {"id": "urn:x", "type": "Door"})
    status, lines, _ = run(capsys, "validate", "--schema-dir", str(city_dir), file)
    assert status == 1
    assert lines[0]["errors"] == [
        {"path": "/type", "message": "no data model is known for type 'Door'"}
    ]


def test_a_file_of_several_entities(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, city_dir: Path
) -> None:
    file = write(tmp_path, "batch.json", [VALID, INVALID])
    status, lines, _ = run(capsys, "validate", "--schema-dir", str(city_dir), file)
    assert status == 1
    assert lines == [
        {
            "file": file,
            "type": ["Gate", "Gate"],
            "valid": False,
            "errors": [
                {"path": "/1/width/value", "message": "11 is greater than the maximum of 10"}
            ],
        }
    ]


def test_file_problems_are_usage_errors(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, city_dir: Path
) -> None:
    good = write(tmp_path, "good.json", VALID)
    broken = write(tmp_path, "broken.json", '{"id": "urn:x" "type": "Gate"}')
    missing = str(tmp_path / "missing.json")
    args = ["validate", "--schema-dir", str(city_dir), broken, missing, good, str(tmp_path)]
    status, lines, err = run(capsys, *args)
    assert status == 2
    assert [line["file"] for line in lines] == [good]  # the readable files are still checked
    messages = err.splitlines()
    assert messages[0].startswith(f"kaido validate: {broken}: not JSON: ")
    assert messages[1] == f"kaido validate: {missing}: cannot read it: No such file or directory"
    assert messages[2].startswith(f"kaido validate: {tmp_path}: cannot read it: ")


@pytest.mark.parametrize(
    "argv",
    [
        ["validate"],
        ["validate", "--unknown", "x.json"],
        ["validate", "--schema-dir"],
        ["frobnicate"],
        [],
    ],
)
def test_usage_errors(capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    status, lines, err = run(capsys, *argv)
    assert status == 2
    assert lines == []
    assert "usage:" in err


def test_bad_schema_dir(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    file = write(tmp_path, "gate.json", VALID)
    status, lines, err = run(capsys, "validate", "--schema-dir", str(tmp_path / "nope"), file)
    assert status == 2
    assert lines == []
    assert err == f"kaido validate: {tmp_path / 'nope'}: not a folder of schemas\n"


def test_unresolvable_ref_is_reported(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    models = tmp_path / "models" / "D" / "Gate"
    models.mkdir(parents=True)
    write(models, "schema.json", {"$ref": "https://example.org/missing.json"})
    file = write(tmp_path, "gate.json", VALID)
    status, _, err = run(capsys, "validate", "--schema-dir", str(tmp_path / "models"), file)
    assert status == 2
    assert "cannot resolve $ref 'https://example.org/missing.json'" in err


def test_models(capsys: pytest.CaptureFixture[str], city_dir: Path) -> None:
    """The packaged models and those of --schema-dir, by name."""
    status, lines, _ = run(capsys, "models", "--schema-dir", str(city_dir))
    assert status == 0
    names = [line["name"] for line in lines]
    assert names == sorted(names) and "Gate" in names
    [gate] = [line for line in lines if line["name"] == "Gate"]
    assert gate["iri"] == "https://smartdatamodels.org/dataModel.City/Gate"
    assert set(gate) == {"name", "iri", "title", "description", "source", "schema"}


def test_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["validate", "--help"]) == 0
    assert "--schema-dir DIR" in capsys.readouterr().out


def test_wiring_into_the_broker_command_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, city_dir: Path
) -> None:
    """What broker/cli.py does: add the sub-commands to its parser, then dispatch to run."""
    parser = argparse.ArgumentParser(prog="kaido")
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("run")
    cli.add_subcommands(sub)
    file = write(tmp_path, "gate.json", INVALID)
    args = parser.parse_args(["validate", "--schema-dir", str(city_dir), file])
    assert args.command in cli.COMMANDS
    assert cli.run(args) == 1
    assert json.loads(capsys.readouterr().out)["valid"] is False
    assert parser.parse_args(["run"]).command not in cli.COMMANDS
