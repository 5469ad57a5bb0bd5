"""Every `--json` document a command writes, of a success and of each error exit code the command has, is allowed
by the command's published schema (docs/json/<kind>.schema.json), checked as a CI step would check it.

Each case runs in a project made by `mcpdeploy init`, whose sandbox is served for the whole test (as `mcpdeploy
sandbox serve` does), so that faults added to it reach the `--sandbox` runs: a 403 for "a service refused" (6), a
dropped connection for "unreachable" (7)."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from mcpdeploy.project.settings import load_settings
from mcpdeploy.sandbox import credentials
from mcpdeploy.sandbox.core import Fault, Sandbox
from mcpdeploy.sandbox.server import SandboxServer
from mcpdeploy.sandbox.session import record_served, sandbox_dir
from mcpdeploy.state.lock import Lock
from tests.support.documents import conforming, errors


@dataclass
class Project:
    cli: Any
    folder: Path
    box: Sandbox
    monkeypatch: pytest.MonkeyPatch

    def run(self, *words: str) -> Any:
        result = self.cli(*words)
        assert result.exit_code == 0, f"{' '.join(words)}: {result.stderr}"
        return result


@pytest.fixture
def made(cli, project: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Project]:  # type: ignore[no-untyped-def]
    assert cli("init", ".").exit_code == 0
    settings = load_settings(project)
    box = Sandbox(sandbox_dir(settings))
    with SandboxServer(box) as server:
        record_served(settings, server.url)
        yield Project(cli, project, box, monkeypatch)


# What a case needs before its command runs; a context manager it returns is held while the command runs.
Given = Callable[[Project], Any]


def nothing(_: Project) -> None:
    return None


def provisioned(p: Project) -> None:
    p.run("provision", "--sandbox", "--yes")


def deployed(p: Project) -> None:
    """Provisioned, the Worker deployed, and provisioned again for the queue's consumer and the secrets."""
    provisioned(p)
    p.run("sandbox", "deploy-worker")
    provisioned(p)


def deployed_twice(p: Project) -> None:
    deployed(p)
    p.run("sandbox", "deploy-worker", "-m", "second")


def refused(match: str) -> Given:
    def given(p: Project) -> None:
        p.box.add_fault(Fault(match=match, status=403, times=1000))
    return given


def deployed_and(then: Given) -> Given:
    """A project that has everything, then `then`: a check that fails is the only problem there is."""
    def given(p: Project) -> None:
        deployed(p)
        then(p)
    return given


def dropped(match: str) -> Given:
    def given(p: Project) -> None:
        p.box.add_fault(Fault(match=match, drop=True, times=1000))
    return given


def busy(match: str) -> Given:
    """503 with Retry-After: 0 on every try, so the retries run out at once."""
    def given(p: Project) -> None:
        p.box.add_fault(Fault(match=match, status=503, retry_after=0, times=1000))
    return given


def then(*steps: Given) -> Given:
    def given(p: Project) -> Any:
        held = None
        for step in steps:
            held = step(p) or held
        return held
    return given


def locked(p: Project) -> contextlib.AbstractContextManager[Any]:
    return Lock(p.folder / ".mcpdeploy", None, command="provision")


def broken_schema(p: Project) -> None:
    (p.folder / "schemas" / "mcp_sessions.toml").write_text('[table]\nname = "mcp_sessions"\n[[fields]]\nname = 1\n')


def field_retyped(p: Project) -> None:
    """A field provision made, of another type in the schema now: changing it is destructive."""
    path = p.folder / "schemas" / "mcp_sessions.toml"
    text = path.read_text().replace('name = "client_info"\ntype = "json"', 'name = "client_info"\ntype = "text"')
    path.write_text(text)


def broken_wrangler_toml(p: Project) -> None:
    """A wrangler.toml that init would merge into, and cannot read."""
    (p.folder / "elsewhere").mkdir()
    (p.folder / "elsewhere" / "wrangler.toml").write_text('name = "elsewhere\n')


def plan_saved_then_applied(p: Project) -> None:
    p.run("plan", "--sandbox", "--out", "plan.json")
    provisioned(p)


def fake_wrangler(exit_code: int) -> Given:
    """`[deploy] command` run in process: what `wrangler deploy` does to the sandbox's Cloudflare API (a new version
    at 100%) and the deploy entry it writes to its output file; or only a failure."""
    def given(p: Project) -> None:
        from mcpdeploy.providers.cloudflare import CloudflareClient
        from mcpdeploy.providers.http import HttpOptions

        with (p.folder / "mcpdeploy.toml").open("a") as config:
            config.write('\n[deploy]\ncommand = "wrangler deploy"\n')

        def run_command(command: list[str], cwd: Path, env: dict[str, str]) -> int:
            if exit_code:
                return exit_code
            with CloudflareClient(env["CLOUDFLARE_API_BASE_URL"], env["CLOUDFLARE_API_TOKEN"],
                                  env["CLOUDFLARE_ACCOUNT_ID"], HttpOptions()) as client:
                version, _ = client.upload_worker("worker", "export default {};\n", "fake wrangler")
            entry = {"type": "deploy", "version_id": version.id, "worker_name": "worker",
                     "targets": ["https://worker.example.workers.dev"]}
            Path(env["WRANGLER_OUTPUT_FILE_PATH"]).write_text(json.dumps(entry) + "\n")
            return 0

        p.monkeypatch.setattr("mcpdeploy.worker.deploy.run_subprocess", run_command)
    return given


def unreachable_mcp(p: Project) -> None:
    p.monkeypatch.setenv("MCP_API_KEY", credentials.MCP_API_KEY)


def bad_dev_vars(p: Project) -> None:
    (p.folder / ".dev.vars").write_text('SERVICE_CREDENTIALS={"xano": {"auth_type": "api_key", "credentials": '
                                        '"not-encrypted"}}\n')


def latin1_script(p: Project) -> None:
    (p.folder / "latin1.js").write_bytes(b"// caf\xe9\n")


XANO = r"^GET /api:meta/"
CLOUDFLARE = r" /client/v4/"


@dataclass(frozen=True)
class Case:
    kind: str
    words: tuple[str, ...]
    exit_code: int
    given: Given = field(default=nothing)

    def __str__(self) -> str:
        return f"{self.kind}-{self.exit_code}-{'-'.join(w.lstrip('-') for w in self.words[:4])}"


CASES = [
    Case("init", ("init", "elsewhere"), 0),
    Case("init", ("init", "elsewhere", "--bogus"), 64),
    Case("init", ("init", "."), 64),  # the files are already there
    Case("init", ("init", "elsewhere"), 8, broken_wrangler_toml),
    Case("plan", ("plan", "--sandbox"), 0),
    Case("plan", ("plan", "--sandbox", "--detailed-exitcode"), 2),
    Case("plan", ("plan", "--sandbox"), 6, refused(XANO)),
    Case("plan", ("plan", "--sandbox", "--deadline", "1"), 7, dropped(XANO)),
    Case("plan", ("plan", "--sandbox"), 8, broken_schema),
    Case("plan", ("plan", "--sandbox"), 75, busy(XANO)),
    Case("plan", ("plan", "--bogus"), 64),
    Case("provision", ("provision", "--sandbox", "--yes"), 0),
    Case("provision", ("provision", "--sandbox", "--yes"), 0, provisioned),  # nothing to change
    Case("provision", ("provision", "--sandbox", "--yes"), 3, then(provisioned, field_retyped)),
    Case("provision", ("provision", "--sandbox", "--yes"), 4, locked),
    Case("provision", ("provision", "--sandbox", "--yes"), 6, refused(r"^POST /api:meta/workspace/1/apigroup$")),
    Case("provision", ("provision", "--sandbox", "--yes"), 7, dropped(r"^POST /api:meta/workspace/1/apigroup$")),
    Case("provision", ("provision", "--sandbox", "--yes"), 8, broken_schema),
    Case("provision", ("provision", "--sandbox", "--yes", "--plan", "plan.json"), 10, plan_saved_then_applied),
    Case("provision", ("provision", "--sandbox"), 64),  # no terminal, no --yes
    Case("provision", ("provision", "--sandbox", "--yes"), 75, busy(r"^POST /api:meta/workspace/1/apigroup$")),
    Case("deploy", ("deploy", "--sandbox"), 0, then(provisioned, fake_wrangler(0))),
    Case("deploy", ("deploy", "--sandbox"), 4, then(provisioned, fake_wrangler(0), locked)),
    Case("deploy", ("deploy", "--sandbox"), 6, then(provisioned, fake_wrangler(1))),
    Case("deploy", ("deploy", "--sandbox"), 7, then(fake_wrangler(0), dropped(CLOUDFLARE))),
    Case("deploy", ("deploy", "--bogus"), 64),
    Case("smoke-test", ("smoke-test", "--sandbox"), 0, deployed),
    Case("smoke-test", ("smoke-test", "--sandbox", "--expect-tool", "missing"), 5, deployed),
    Case("smoke-test", ("smoke-test", "--url", "http://127.0.0.1:9/mcp", "--deadline", "2"), 7, unreachable_mcp),
    Case("smoke-test", ("smoke-test", "--sandbox", "--protocol-era", "future"), 64),
    Case("status", ("status", "--sandbox"), 0, deployed),
    Case("status", ("status", "--sandbox"), 12, provisioned),
    Case("status", ("status", "--sandbox"), 7, then(provisioned, dropped(CLOUDFLARE))),
    Case("status", ("status", "--sandbox", "--since", "2d"), 64),
    Case("rollback", ("rollback", "--sandbox", "--dry-run"), 0, deployed_twice),
    Case("rollback", ("rollback", "--sandbox", "--yes"), 0, deployed_twice),
    Case("rollback", ("rollback", "--sandbox", "--yes"), 4, then(deployed_twice, locked)),
    Case("rollback", ("rollback", "--sandbox", "--yes"), 6, then(deployed_twice, refused(r"^POST .*/deployments"))),
    Case("rollback", ("rollback", "--sandbox", "--allow-data-loss"), 64),
    Case("rollback-run", ("rollback", "--sandbox", "--run", "last", "--dry-run"), 0, provisioned),
    Case("rollback-run", ("rollback", "--sandbox", "--run", "last", "--yes", "--allow-data-loss"), 0, provisioned),
    Case("rollback-run", ("rollback", "--sandbox", "--run", "last", "--yes"), 3, provisioned),
    Case("rollback-run", ("rollback", "--sandbox", "--run", "last", "--yes"), 4, then(provisioned, locked)),
    Case("rollback-run", ("rollback", "--sandbox", "--run", "last", "--yes", "--allow-data-loss"), 6,
         then(provisioned, refused(r"^DELETE /api:meta/"))),
    Case("rollback-run", ("rollback", "--sandbox", "--run", "last", "--to", "abc"), 64),
    Case("auth-status", ("auth", "status", "--sandbox"), 0, deployed),
    Case("auth-status", ("auth", "status", "--sandbox"), 6, provisioned),  # the Worker does not exist
    Case("auth-status", ("auth", "status", "--bogus"), 64),
    Case("auth-disable", ("auth", "disable", "--for", "5m", "--sandbox", "--yes"), 0, deployed),
    Case("auth-disable", ("auth", "disable", "--for", "5m", "--sandbox", "--yes"), 4, then(deployed, locked)),
    Case("auth-disable", ("auth", "disable", "--for", "5m", "--sandbox", "--yes"), 6, provisioned),
    Case("auth-disable", ("auth", "disable", "--for", "5m", "--sandbox"), 64, deployed),  # no --yes
    Case("auth-enable", ("auth", "enable", "--sandbox"), 0, deployed),
    Case("auth-enable", ("auth", "enable", "--sandbox"), 6, provisioned),
    Case("auth-enable", ("auth", "enable", "--bogus"), 64),
    Case("history", ("history",), 0, provisioned),
    Case("history", ("history", "--limit", "many"), 64),
    Case("history-show", ("history", "show", "last"), 0, provisioned),
    Case("history-show", ("history", "show", "nosuchrun"), 64, provisioned),
    Case("doctor", ("doctor", "--sandbox"), 0, deployed),
    Case("doctor", ("doctor", "--sandbox"), 0, provisioned),  # the Worker never deployed is a warning
    Case("doctor", ("doctor", "--sandbox"), 6, deployed_and(refused(XANO))),
    Case("doctor", ("doctor", "--sandbox"), 8, broken_schema),
    Case("doctor", ("doctor", "--bogus"), 64),
    Case("xanoscript", ("xanoscript",), 0),
    Case("xanoscript", ("xanoscript",), 8, broken_schema),
    Case("xanoscript", ("xanoscript", "--bogus"), 64),
    Case("schema-validate", ("schema", "validate"), 0),
    Case("schema-validate", ("schema", "validate"), 8, broken_schema),
    Case("schema-validate", ("schema", "validate", "--bogus"), 64),
    Case("secrets-keygen", ("secrets", "keygen", "--env", "staging"), 0),
    Case("secrets-keygen", ("secrets", "keygen", "--force"), 0, provisioned),
    Case("secrets-keygen", ("secrets", "keygen"), 64, provisioned),  # a key is there
    Case("secrets-decrypt", ("secrets", "decrypt"), 0, provisioned),
    Case("secrets-decrypt", ("secrets", "decrypt"), 8, then(provisioned, bad_dev_vars)),
    Case("secrets-decrypt", ("secrets", "decrypt"), 64),  # no .dev.vars
    Case("state-push", ("state", "push"), 64),  # no shared backend (tests/state has the successes)
    Case("state-pull", ("state", "pull"), 64),
    Case("sandbox-deploy-worker", ("sandbox", "deploy-worker"), 0),
    Case("sandbox-deploy-worker", ("sandbox", "deploy-worker", "--script", "latin1.js"), 8, latin1_script),
    Case("sandbox-deploy-worker", ("sandbox", "deploy-worker", "--script", "missing.js"), 64),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_the_document_is_allowed_by_its_published_schema(made: Project, case: Case) -> None:
    held = case.given(made)
    with held or contextlib.nullcontext():
        result = made.cli(*case.words, "--json")
    assert result.exit_code == case.exit_code, result.stderr
    conforming(case.kind, result.stdout, case.exit_code)


def test_every_kind_is_covered() -> None:
    from mcpdeploy.cli.documents.catalog import DOCUMENTS

    assert {case.kind for case in CASES} == set(DOCUMENTS)


def test_each_line_of_logs_is_allowed_by_its_published_schema(made: Project) -> None:
    deployed(made)
    made.run("smoke-test", "--sandbox")
    result = made.cli("logs", "--sandbox", "--json")
    assert result.exit_code == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert lines and all(errors("logs", line) == [] for line in lines), lines
    assert errors("logs", {**lines[0], "status": "200"}) and errors("logs", {**lines[0], "unexpected": 1})


def test_a_failed_logs_run_ends_with_an_error_document_its_schema_allows(made: Project) -> None:
    result = made.cli("logs", "--input", "missing.json", "--json")
    assert result.exit_code == 64
    document = json.loads(result.stdout)
    assert errors("logs", document) == [] and document["error"]["exit_code"] == 64
    assert errors("logs", {**document, "error": None})
