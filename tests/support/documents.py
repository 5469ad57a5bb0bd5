"""Checking a `--json` document against its published schema (docs/json/<kind>.schema.json), as a CI step would
with any JSON Schema validator."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema

PUBLISHED = Path(__file__).resolve().parents[2] / "docs" / "json"


@cache
def validator(kind: str) -> jsonschema.Draft202012Validator:
    schema = json.loads((PUBLISHED / f"{kind}.schema.json").read_text("utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def errors(kind: str, document: Any) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path)) or '(document)'}: {e.message}"
            for e in validator(kind).iter_errors(document)]


def conforming(kind: str, stdout: str, exit_code: int) -> dict[str, Any]:
    """The one document on stdout, which its schema allows and no wrong variant of it would: the same document
    with a key the schema does not name, or with a field of the wrong type, is refused."""
    document: dict[str, Any] = json.loads(stdout)
    assert errors(kind, document) == [], json.dumps(document, indent=2)[:3000]
    assert document["exit_code"] == exit_code
    assert document["ok"] is (exit_code in (0, 2) and document.get("error") is None)
    if document.get("error") is not None:
        assert document["error"]["exit_code"] == exit_code
    assert errors(kind, {**document, "unexpected": 1}), f"{kind}: a key the schema does not name was accepted"
    for key, value in document.items():
        wrong: Any = "not a list" if isinstance(value, list) else ["a list"]
        assert errors(kind, {**document, key: wrong}), f"{kind}: {key} = {wrong} was accepted"
    return document
