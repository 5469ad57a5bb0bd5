"""The contract every `--json` document keeps, as models: docs/json-output.schema.json is generated from them
(`python -m mcpdeploy.json_output > docs/json-output.schema.json`) and a test keeps the two equal."""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

SCHEMA_ID = "https://json-schema.org/draft/2020-12/schema"


class JsonError(BaseModel):
    """Why the run failed: the message and hint printed on stderr, and the exit code."""

    model_config = ConfigDict(extra="allow")

    message: str
    hint: str | None
    exit_code: int
    option: str | None = Field(None, description="A usage error's option, e.g. --limit.")


class JsonDocument(BaseModel):
    """What every `mcpdeploy ... --json` document starts with; the command's own fields follow."""

    model_config = ConfigDict(extra="allow", title="mcpdeploy --json document")

    schema_version: Literal["1"]
    command: str = Field(description='The command that ran, e.g. "history show"; "" when none was named.')
    ok: bool = Field(description="The command did what it was asked (exit code 0, or 2 for plan --detailed-exitcode).")
    exit_code: int = Field(description="The process's exit code.")
    outputs: dict[str, Any] = Field(description="The values a next step reads; {} when the command has none.")
    error: JsonError | None = None


def json_output_schema() -> dict[str, Any]:
    return {"$schema": SCHEMA_ID, **JsonDocument.model_json_schema()}


def json_output_schema_text() -> str:
    """The document as committed: stable key order, two-space indent, final newline."""
    return json.dumps(json_output_schema(), indent=2, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    print(json_output_schema_text(), end="")
