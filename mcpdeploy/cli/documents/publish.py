"""The published JSON Schemas, generated from the models: docs/json/<kind>.schema.json per document kind, and
docs/json-output.schema.json for what every document starts with. A test keeps the files equal to these.

    python -m mcpdeploy.cli.documents.publish          # write them (run from the repository's root)
    python -m mcpdeploy.cli.documents.publish --check  # exit 1 when a file is stale or missing
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, get_args

from mcpdeploy.cli.documents.catalog import DOCUMENTS, LINES
from mcpdeploy.cli.documents.common import Document

DIALECT = "https://json-schema.org/draft/2020-12/schema"
FOLDER = Path("docs") / "json"
HEAD_FILE = Path("docs") / "json-output.schema.json"


def head_schema() -> dict[str, Any]:
    return {"$schema": DIALECT, **Document.model_json_schema()}


def document_schema(kind: str) -> dict[str, Any]:
    model = DOCUMENTS[kind]
    command = get_args(model.model_fields["command"].annotation)[0]
    schema = model.model_json_schema()
    schema["title"] = model.model_config.get("title") or f"mcpdeploy {command} --json"
    return {"$schema": DIALECT, **schema}


def lines_schema(kind: str) -> dict[str, Any]:
    """A line of stdout: an event, or the error document that ends a failed run."""
    event = LINES[kind].model_json_schema()
    defs = event.pop("$defs", {})
    error_document = {**Document.model_json_schema(ref_template="#/$defs/{model}")}
    defs.update(error_document.pop("$defs", {}))
    error_document["required"] = [*error_document["required"], "error"]
    error_document["properties"]["error"] = {"$ref": "#/$defs/ErrorInfo"}
    return {"$schema": DIALECT, "title": f"mcpdeploy {kind} --json line",
            "description": "One line of stdout: an event, or the error document that ends a failed run.",
            "anyOf": [event, error_document], **({"$defs": defs} if defs else {})}


def schema_text(schema: dict[str, Any]) -> str:
    """As committed: the models' key order, two-space indent, final newline."""
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def published() -> dict[Path, str]:
    """Every file, by its path from the repository's root, with the text it must hold."""
    files = {HEAD_FILE: schema_text(head_schema())}
    files.update({FOLDER / f"{kind}.schema.json": schema_text(document_schema(kind)) for kind in DOCUMENTS})
    files.update({FOLDER / f"{kind}.schema.json": schema_text(lines_schema(kind)) for kind in LINES})
    return files


def main(argv: list[str]) -> int:
    root = Path.cwd()
    stale = []
    for path, text in published().items():
        target = root / path
        current = target.read_text("utf-8") if target.is_file() else None
        if current == text:
            continue
        stale.append(path)
        if "--check" not in argv:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, "utf-8")
    if "--check" in argv and stale:
        sys.stderr.write("stale: " + ", ".join(map(str, stale)) + "\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
