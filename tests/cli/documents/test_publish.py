"""The published schemas (docs/json/, docs/json-output.schema.json) are exactly what the models generate: change a
model, then run `python -m mcpdeploy.cli.documents.publish` from the repository's root."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from mcpdeploy.cli.documents.publish import FOLDER, main, published

ROOT = Path(__file__).resolve().parents[3]
STALE = "stale: run `python -m mcpdeploy.cli.documents.publish` from the repository's root"


@pytest.mark.parametrize("path", sorted(published()), ids=str)
def test_the_published_schema_is_what_the_models_generate(path: Path) -> None:
    text = published()[path]
    assert (ROOT / path).is_file() and (ROOT / path).read_text("utf-8") == text, f"{path} is {STALE}"
    jsonschema.Draft202012Validator.check_schema(json.loads(text))


def test_no_schema_is_published_for_a_kind_that_is_gone() -> None:
    assert {p.name for p in (ROOT / FOLDER).iterdir()} == {p.name for p in published() if p.parent == FOLDER}


def test_the_generator_writes_the_files_and_check_says_when_one_is_stale(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["--check"]) == 1 and not (tmp_path / "docs").exists()
    assert main([]) == 0 and main(["--check"]) == 0
    (tmp_path / FOLDER / "plan.schema.json").write_text("{}\n")
    assert main(["--check"]) == 1
