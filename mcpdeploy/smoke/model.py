"""What a smoke test is asked to do and what it found: plain data, rendered by `report.py`."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from mcpdeploy.exit_codes import ExitCode
from mcpdeploy.providers.mcp_http import HttpCall

ERAS = ("auto", "legacy", "modern")


class Status(str, Enum):
    PASS = "pass"
    FAIL = "fail"
    WARN = "warn"
    SKIP = "skip"


@dataclass(frozen=True)
class SmokeOptions:
    mcp_url: str
    xano_url: str | None = None
    expect_tools: tuple[str, ...] = ()
    min_tools: int | None = None
    call_tool: str | None = None
    tool_args: dict[str, Any] = field(default_factory=dict)
    wait_for: float = 0.0
    era: str = "auto"


@dataclass(frozen=True)
class HttpSummary:
    method: str
    url: str
    status: int | None  # None: no answer
    content_type: str = ""


@dataclass
class CheckResult:
    id: str
    title: str
    status: Status
    reason: str
    seconds: float = 0.0
    http: HttpSummary | None = None
    reproducer: HttpCall | None = None  # the request that shows the problem; rendered as curl for failures
    unreachable: bool = False  # failed because nothing answered at all


@dataclass
class SmokeReport:
    mcp_url: str
    xano_url: str | None
    started_at: str
    seconds: float = 0.0
    era: str = ""
    protocol_version: str = ""
    session: bool = False
    response_formats: list[str] = field(default_factory=list)
    server_info: dict[str, Any] = field(default_factory=dict)
    tools: list[str] = field(default_factory=list)
    checks: list[CheckResult] = field(default_factory=list)

    def count(self, status: Status) -> int:
        return sum(1 for c in self.checks if c.status is status)

    @property
    def unreachable(self) -> bool:
        return any(c.unreachable and c.status is Status.FAIL for c in self.checks)

    @property
    def exit_code(self) -> ExitCode:
        if self.unreachable:
            return ExitCode.UNREACHABLE
        if self.count(Status.FAIL):
            return ExitCode.CHECKS_FAILED
        return ExitCode.OK

    def summary_line(self) -> str:
        line = f"{self.count(Status.PASS)} passed, {self.count(Status.FAIL)} failed"
        if self.count(Status.WARN):
            line += f", {self.count(Status.WARN)} warned"
        if self.count(Status.SKIP):
            line += f", {self.count(Status.SKIP)} skipped"
        return line
