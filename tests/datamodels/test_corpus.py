"""The shared Smart Data Models corpus: every example gets its expected verdict.

expected-validation.tsv holds the verdict of each example against its own schema, computed
offline with formats checked (column result_with_format_checker). The NGSI-LD examples
(*.jsonld) and the keyValues ones (example.json) are in scope; the NGSI-v2 normalized
examples (example-normalized.json) are not. The corpus is read from ../shared, never copied.
"""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path
from typing import Any

import pytest

from broker.datamodels import ModelRegistry
from broker.datamodels.cli import main
from broker.ngsild.context import DEFAULT_VOCAB, build_context

SHARED = Path(__file__).resolve().parents[2].parent / "shared"
SDM = SHARED / "smart-data-models"
EXPECTED = SDM / "expected-validation.tsv"
ABSENT = f"the shared Smart Data Models corpus is absent ({SDM} not found)"
V2 = "NGSI-v2 normalized example: out of scope"
#: jsonschema's message for a oneOf of format-only branches when formats are not checked.
FORMAT_ONLY_ONEOF = "is valid under each of"


def _rows() -> list[Any]:
    if not EXPECTED.is_file():
        return [pytest.param(None, marks=pytest.mark.skip(reason=ABSENT), id="corpus-absent")]
    with EXPECTED.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    return [
        pytest.param(
            row,
            id=row["file"],
            marks=[pytest.mark.skip(reason=V2)] if row["file"].endswith("-normalized.json") else [],
        )
        for row in rows
    ]


ROWS = _rows()


@pytest.fixture(scope="module")
def sdm() -> ModelRegistry:
    if not SDM.is_dir():
        pytest.skip(ABSENT)
    return ModelRegistry([SDM])


def _expected_errors(row: dict[str, str]) -> set[tuple[str, str]]:
    """(attribute, message) pairs of the reference errors that hold with formats checked."""
    listed = [row["errors_default"], row["errors_only_with_format_checker"]]
    pairs: set[tuple[str, str]] = set()
    for column in listed:
        for item in filter(None, (part.strip() for part in column.split(" | "))):
            path, _keyword, message = item.split(": ", 2)
            if FORMAT_ONLY_ONEOF not in message:
                pairs.add((path.split("/")[0], message))
    return pairs


@pytest.mark.parametrize("row", ROWS)
def test_example_gets_expected_verdict(sdm: ModelRegistry, row: dict[str, str]) -> None:
    expected = row["result_with_format_checker"]
    raw = (SDM / row["file"]).read_text(encoding="utf-8")
    if expected == "BAD_JSON":
        with pytest.raises(json.JSONDecodeError):
            json.loads(raw)
        return
    result = sdm.validate(json.loads(raw))
    assert ("OK" if result["valid"] else "INVALID") == expected, result["errors"]
    found = {(e["path"].split("/")[1], e["message"]) for e in result["errors"]}
    assert found == (_expected_errors(row) if expected == "INVALID" else set())


def test_corpus_models_are_all_listed(sdm: ModelRegistry) -> None:
    names = [m.name for m in sdm.models()]
    folders = sorted(p.parent.name for p in SDM.glob("dataModel.*/*/schema.json"))
    assert names == folders
    device = sdm.get("Device")
    assert device is not None
    assert device.iri == "https://smartdatamodels.org/dataModel.Device/Device"
    assert device.title == "Smart Data Models - Device schema"
    assert (
        device.schema_id
        == "https://smart-data-models.github.io/dataModel.Device/Device/schema.json"
    )


def test_cli_over_the_corpus(capsys: pytest.CaptureFixture[str]) -> None:
    if not SDM.is_dir():
        pytest.skip(ABSENT)
    in_scope = sorted(
        str(p)
        for p in SDM.glob("*/*/examples/*")
        if not p.name.endswith("-normalized.json") and p.suffix in (".json", ".jsonld")
    )
    status = main(["validate", "--schema-dir", str(SDM), *in_scope])
    out, err = capsys.readouterr()
    assert status == 2  # PointOfInterest/examples/example.jsonld is not JSON (kept upstream)
    assert "PointOfInterest/examples/example.jsonld: not JSON" in err
    lines = [json.loads(line) for line in out.splitlines()]
    assert len(lines) == len(in_scope) - 1
    invalid = {
        Path(line["file"]).relative_to(SDM).as_posix() for line in lines if not line["valid"]
    }
    assert invalid == {
        "dataModel.Environment/AirQualityObserved/examples/example.json",
        "dataModel.Environment/AirQualityObserved/examples/example.jsonld",
        "dataModel.Environment/AirQualityObserved/examples/example-normalized.jsonld",
        "dataModel.Transportation/Vehicle/examples/example-normalized.jsonld",
    }


def _context_file(url: str) -> dict[str, Any]:
    """The corpus copy of a Smart Data Models context URL (raw.githubusercontent.com/
    smart-data-models/<subject>/master/context.jsonld or <pages>/<subject>/context.jsonld)."""
    subject = re.search(r"/(dataModel\.[^/]+)/", url)
    assert subject is not None, url
    document: dict[str, Any] = json.loads(
        (SDM / subject.group(1) / "context.jsonld").read_text(encoding="utf-8")
    )
    return document


def _expanded(document: dict[str, Any]) -> dict[str, Any]:
    """document with its type and attribute names expanded with its own @context, as a
    JSON-LD processor would send them, and no @context left."""
    urls = [url for url in document["@context"] if "smart-data-models" in url]
    context = build_context(document["@context"], {url: _context_file(url) for url in urls})
    out = {"id": document["id"], "type": context.expand(document["type"])}
    for name, value in document.items():
        if name not in ("id", "type", "@context"):
            out[context.expand(name)] = value
    return out


NORMALIZED_OK = sorted(
    row["file"]
    for row in (r.values[0] for r in ROWS if r.values[0] is not None)
    if row["file"].endswith("-normalized.jsonld") and row["result_with_format_checker"] == "OK"
)


@pytest.mark.skipif(not SDM.is_dir(), reason=ABSENT)
@pytest.mark.parametrize("name", NORMALIZED_OK)
def test_expanded_names_and_type_validate(sdm: ModelRegistry, name: str) -> None:
    """The same entities with expanded names (as a JSON-LD processor would send them)."""
    expanded = _expanded(json.loads((SDM / name).read_text(encoding="utf-8")))
    assert expanded["type"].startswith("https://smartdatamodels.org/dataModel.")
    assert sdm.validate(expanded)["errors"] == []


@pytest.mark.skipif(not SDM.is_dir(), reason=ABSENT)
def test_core_context_only(sdm: ModelRegistry) -> None:
    """keyValues data sent with the core context alone: types in the default vocabulary."""
    entity = json.loads((SDM / "dataModel.Device/Device/examples/example.json").read_text())
    entity["type"] = f"{DEFAULT_VOCAB}Device"
    entity[f"{DEFAULT_VOCAB}rssi"] = entity.pop("rssi")
    assert sdm.validate(entity) == {"type": entity["type"], "valid": True, "errors": []}
    entity[f"{DEFAULT_VOCAB}rssi"] = "strong"
    assert [e["path"] for e in sdm.validate(entity)["errors"]] == [
        "/https:~1~1uri.etsi.org~1ngsi-ld~1default-context~1rssi"
    ]
