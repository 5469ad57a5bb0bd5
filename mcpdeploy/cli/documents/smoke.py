"""`smoke-test`: each check of the deployed MCP Worker and its Xano auth."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from mcpdeploy.cli.documents.common import CommandDocument, Part


class SmokeTarget(Part):
    mcp_url: str
    xano_url: str | None


class Protocol(Part):
    era: str | None = Field(description='"legacy" or "modern"; null when the handshake did not happen.')
    version: str | None
    session: bool
    response_formats: list[str]


class CheckHttp(Part):
    method: str
    url: str
    status: int | None
    content_type: str | None


class Check(Part):
    id: str = Field(description='Stable, e.g. "mcp.tools_list".')
    title: str
    status: Literal["pass", "fail", "warn", "skip"]
    duration_ms: int
    reason: str
    http: CheckHttp | None
    reproducer: str | None = Field(description="A curl command repeating a failed or warned check.")


class SmokeSummary(Part):
    passed: int
    failed: int
    warned: int
    skipped: int
    exit_code: int


class SmokeTestDocument(CommandDocument):
    """`mcpdeploy smoke-test --json`: every check, passed or not. Keys are only ever added, never renamed."""

    command: Literal["smoke-test"]
    target: SmokeTarget
    started_at: str
    duration_ms: int
    protocol: Protocol
    server: dict[str, Any] = Field(description="The server's serverInfo, as it sent it.")
    tools: list[str]
    checks: list[Check]
    summary: SmokeSummary
