"""`logs --json`: JSON lines, one object per request, not one document; a run that fails ends with the error
document every command writes."""

from __future__ import annotations

from typing import Literal

from pydantic import ConfigDict, Field

from mcpdeploy.cli.documents.common import Part


class LogEvent(Part):
    """One request the Worker served, with its log lines; keys and tokens are masked."""

    model_config = ConfigDict(title="mcpdeploy logs --json event")

    schema_version: Literal["1"]
    time: str
    method: str
    path: str
    status: int | None
    outcome: str = Field(description='The Worker\'s outcome, e.g. "ok", "exception".')
    refused: bool = Field(description="The API key was refused (401/403).")
    error: bool = Field(description="The request failed: an exception, a 5xx, an error log.")
    logs: list[str]
    exceptions: list[str]
