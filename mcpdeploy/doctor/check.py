"""One check's verdict, and what every check needs to know about the run."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from mcpdeploy.exit_codes import ExitCode

if TYPE_CHECKING:
    from mcpdeploy.errors import McpdeployError
    from mcpdeploy.project.settings import Settings

Status = Literal["ok", "warning", "problem"]
# Something doctor looked for is not there (a queue, a Worker, an API group): the project cannot run yet.
MISSING = ExitCode.CHECKS_FAILED


@dataclass(frozen=True)
class Check:
    name: str
    status: Status
    detail: str
    fix: str | None = None
    exit_code: int = 0

    def to_json(self) -> dict[str, Any]:
        return {"check": self.name, "status": self.status, "detail": self.detail, "fix": self.fix,
                "exit_code": self.exit_code}


def ok(name: str, detail: str) -> Check:
    return Check(name, "ok", detail)


def warning(name: str, detail: str, fix: str | None = None) -> Check:
    return Check(name, "warning", detail, fix)


def problem(name: str, detail: str, fix: str | None, exit_code: int) -> Check:
    return Check(name, "problem", detail, fix, int(exit_code))


def from_error(name: str, exc: McpdeployError) -> Check:
    """A problem from one of our errors: its message, its hint as the fix, its exit code."""
    return problem(name, exc.message, exc.hint, exc.exit_code)


@dataclass(frozen=True)
class Target:
    """The project and environment under examination, and whether the services are the sandbox's."""

    settings: Settings
    project_dir: Path
    env: str | None
    sandbox: bool

    def command(self, words: str) -> str:
        """`mcpdeploy WORDS` as this run would need it typed (its --env, its --sandbox)."""
        flags = (f" --env {self.env}" if self.env else "") + (" --sandbox" if self.sandbox else "")
        return f"`mcpdeploy {words}{flags}`"

    @property
    def deploy_command(self) -> str:
        if self.sandbox:
            return "`mcpdeploy sandbox deploy-worker` (or `mcpdeploy deploy --sandbox`, with real wrangler)"
        return self.command("deploy") + " (it runs `wrangler deploy`)"

    @property
    def worker_name(self) -> str | None:
        """The Worker mcpdeploy manages: the configured name, else the one wrangler derives from its config (None
        when neither says, or the config cannot be read: the wrangler check names that)."""
        from mcpdeploy.errors import McpdeployError
        from mcpdeploy.files.wrangler import read_worker_name

        configured = self.settings.cloudflare.worker_name
        if configured:
            return configured
        try:
            return read_worker_name(self.project_dir, self.env)
        except McpdeployError:
            return None
