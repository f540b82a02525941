"""The project's own models/ folder, loaded by default: its examples get their verdicts.

valid-*.json must validate (keyValues and normalized alike, and both project to the same
keyValues); invalid-<what>.json must fail, with every error on one attribute.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from broker.datamodels import ModelRegistry, default_schema_dirs

MODELS = Path(__file__).resolve().parents[2] / "models"
EXAMPLES = sorted(MODELS.glob("*/*/examples/*.json"))
NONE = "the packaged models/ folder has no examples yet"


@pytest.fixture(scope="module")
def packaged() -> ModelRegistry:
    return ModelRegistry.default()


def test_packaged_folder_is_the_default() -> None:
    # broker/models links to the top-level models/ folder (shipped inside the package).
    assert [d.resolve() for d in default_schema_dirs()] == [MODELS.resolve()]


@pytest.mark.skipif(not EXAMPLES, reason=NONE)
@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: str(p.relative_to(MODELS)))
def test_example(packaged: ModelRegistry, path: Path) -> None:
    result = packaged.validate(json.loads(path.read_text(encoding="utf-8")))
    if path.name.startswith("invalid-"):
        assert not result["valid"]
        # "" (the whole entity) for a missing attribute, else "/<attribute>"
        attributes = {"/".join(e["path"].split("/")[:2]) for e in result["errors"]}
        assert len(attributes) == 1, result["errors"]
    else:
        assert result["valid"], result["errors"]


@pytest.mark.skipif(not EXAMPLES, reason=NONE)
@pytest.mark.parametrize(
    "folder",
    sorted({p.parent for p in EXAMPLES if p.name == "valid-normalized.json"}),
    ids=lambda p: str(p.relative_to(MODELS)),
)
def test_normalized_projects_to_key_values(packaged: ModelRegistry, folder: Path) -> None:
    key_values = folder / "valid-keyvalues.json"
    if not key_values.is_file():
        pytest.skip("no valid-keyvalues.json beside it")
    normalized = json.loads((folder / "valid-normalized.json").read_text(encoding="utf-8"))
    expected = json.loads(key_values.read_text(encoding="utf-8"))
    assert packaged.project(normalized) == packaged.project(expected)
