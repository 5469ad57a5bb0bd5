"""What every `--json` document shares: the head (`schema_version`, `command`, `ok`, `exit_code`, `outputs`), the
`error` object of a failed run, and the base of each command's own document."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

# The head's keys: a document that stopped early (an error before the command wrote anything) holds only these.
HEAD = ("schema_version", "command", "ok", "exit_code", "outputs", "error")


class Part(BaseModel):
    """An object inside a document whose keys mcpdeploy chooses: a key it does not declare is a mistake."""

    model_config = ConfigDict(extra="forbid")


class ErrorInfo(Part):
    """Why the run failed: the message and hint printed on stderr, and the exit code."""

    message: str
    hint: str | None
    exit_code: int
    option: str | None = Field(None, description="A usage error's option, e.g. --limit.")


class HttpCounts(BaseModel):
    """The HTTP requests the run made, and how many of them were writes."""

    model_config = ConfigDict(extra="allow")

    requests: int
    writes: int


class Head(BaseModel):
    schema_version: Literal["1"]
    command: str = Field(description='The command that ran, e.g. "history show"; "" when none was named.')
    ok: bool = Field(description="The command did what it was asked (exit code 0, or 2 for plan --detailed-exitcode).")
    exit_code: int = Field(description="The process's exit code.")


class Document(Head):
    """What every `mcpdeploy ... --json` document starts with; the command's own fields follow."""

    model_config = ConfigDict(extra="allow", title="mcpdeploy --json document")

    outputs: dict[str, Any] = Field(description="The values a next step reads; {} when the command has none.")
    error: ErrorInfo | None = None


def _may_stop_early(schema: dict[str, Any]) -> None:
    """A run that fails before its command writes the document prints the head and `error` alone: the command's
    own required fields are then required only of a document without an error."""
    own = [name for name in schema.get("required", []) if name not in HEAD]
    if not own:
        return
    schema["required"] = [name for name in schema["required"] if name in HEAD]
    schema["anyOf"] = [
        {"required": own},
        {"required": ["error"], "properties": {"ok": {"const": False}, "error": {"type": "object"}}},
    ]


class Outputs(Part):
    """The values a next step reads: none for this command ({})."""


class CommandDocument(Head):
    """One command's document: the head, then the command's own fields, and nothing else."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=_may_stop_early)

    outputs: Outputs
    error: ErrorInfo | None = Field(None, description="Why the run failed; absent (or null) when it did not.")
