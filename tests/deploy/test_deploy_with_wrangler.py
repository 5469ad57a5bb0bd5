"""Real wrangler (4.164.0, on the Node of tests/support/node.py) as a client of the sandbox's Cloudflare API:
`mcpdeploy deploy --sandbox` runs `npx wrangler deploy` against it, and `mcpdeploy rollback --sandbox` rolls back
the version wrangler uploaded; `wrangler versions list`, `secret bulk` and `rollback` get the answers they need.

The Worker is worker_project/ (a queue producer and consumer and a variable), copied to a temporary folder per
test. Its wrangler is the one installed for tests/workerd/agents_worker (same pinned version), linked in as
node_modules, so one `npm ci` serves both. Nothing here skips: without Node or wrangler these tests fail.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mcpdeploy.cli.app import run
from mcpdeploy.sandbox import credentials
from mcpdeploy.sandbox.core import Sandbox
from mcpdeploy.sandbox.server import SandboxServer
from mcpdeploy.state.journal import Journal
from mcpdeploy.worker.node_tools import Node
from tests.support.node import find_node, install_packages, node_env

PROJECT = Path(__file__).parent / "worker_project"
WRANGLER_PACKAGES = Path(__file__).parent.parent / "workerd" / "agents_worker"
WORKER = "mcpdeploy-deploy-fixture"


@pytest.fixture(scope="session")
def node() -> Node:
    found = find_node()
    install_packages(found, WRANGLER_PACKAGES)
    return found


@pytest.fixture
def project(tmp_path: Path, node: Node, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "worker"
    shutil.copytree(PROJECT, folder)
    (folder / "node_modules").symlink_to(WRANGLER_PACKAGES / "node_modules", target_is_directory=True)
    # wrangler writes its logs under $HOME; the machine's own Cloudflare account must never be used.
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    for name in [n for n in __import__("os").environ if n.startswith(("CLOUDFLARE_", "MCPDEPLOY_", "WRANGLER_"))]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("NO_COLOR", "1")
    return folder


def release(project: Path, number: int) -> None:
    source = project / "src" / "index.js"
    source.write_text(source.read_text().replace('const RELEASE = "1";', f'const RELEASE = "{number}";'))


def mcpdeploy_json(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any]]:
    capsys.readouterr()
    code = run([*args, "--json"])
    out = capsys.readouterr().out
    return code, json.loads(out) if out.strip() else {}


def sandbox_worker(project: Path) -> dict[str, Any]:
    state = json.loads((project / ".mcpdeploy" / "sandbox" / "state.json").read_text())
    worker: dict[str, Any] = state["cloudflare"]["scripts"][WORKER]
    return worker


def live_version(worker: dict[str, Any]) -> str:
    versions = worker["deployments"][-1]["versions"]
    assert len(versions) == 1 and versions[0]["percentage"] == 100
    return str(versions[0]["version_id"])


def test_deploy_sandbox_with_real_wrangler_then_rollback_rolls_back_what_wrangler_uploaded(
        project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, first = mcpdeploy_json(capsys, "deploy", "--sandbox", "-C", str(project))
    assert code == 0, first
    release(project, 2)
    code, second = mcpdeploy_json(capsys, "deploy", "--sandbox", "-C", str(project))
    assert code == 0, second

    worker = sandbox_worker(project)
    assert first["worker"] == WORKER and first["replaced"] is None
    assert second["replaced"]["versions"] == [{"version_id": first["version_id"], "percentage": 100}]
    assert live_version(worker) == second["version_id"] != first["version_id"]
    assert second["targets"] == [f"https://{WORKER}.sandbox.workers.dev", "Producer for usage-queue",
                                 "Consumer for usage-queue"]
    consumers = [c for q in json.loads((project / ".mcpdeploy" / "sandbox" / "state.json").read_text())
                 ["cloudflare"]["queues"] for c in q["consumers"]]
    assert [c["script_name"] for c in consumers] == [WORKER]  # created by the first deploy, updated by the second

    code, rolled = mcpdeploy_json(capsys, "rollback", "--sandbox", "--yes", "-C", str(project))

    assert code == 0, rolled
    assert rolled["outcome"] == "rolled_back" and rolled["target"]["version_id"] == first["version_id"]
    assert live_version(sandbox_worker(project)) == first["version_id"]
    runs = Journal(project / ".mcpdeploy", None).read().details
    deploys = [c for r in runs if r.command == "deploy" for c in r.changes]
    assert [(c.action, c.ids["version_id"], (c.before or {}).get("version_id")) for c in deploys] == [
        ("deploy", first["version_id"], None), ("deploy", second["version_id"], first["version_id"])]
    assert [r.outcome for r in runs] == ["succeeded", "succeeded", "succeeded"]


def test_a_failed_deploy_is_exit_6_and_journaled_as_failed(project: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    (project / "src" / "index.js").write_text("export default {\n")  # a syntax error: wrangler cannot bundle it

    code, failed = mcpdeploy_json(capsys, "deploy", "--sandbox", "-C", str(project))

    assert code == 6 and failed["ok"] is False
    assert "exited with 1" in failed["error"]["message"]
    runs = Journal(project / ".mcpdeploy", None).read().details
    assert [(r.command, r.outcome, [c.outcome for c in r.changes]) for r in runs] == [
        ("deploy", "failed", ["failed"])]


@pytest.fixture
def served(project: Path) -> Iterator[tuple[str, Path]]:
    with SandboxServer(Sandbox(project / ".mcpdeploy" / "sandbox")) as server:
        yield server.url, project


def wrangler(node: Node, project: Path, url: str, *args: str, stdin: str | None = None) -> str:
    env = node_env(node) | {"CLOUDFLARE_API_BASE_URL": f"{url}/client/v4",
                            "CLOUDFLARE_API_TOKEN": credentials.CLOUDFLARE_API_TOKEN,
                            "CLOUDFLARE_ACCOUNT_ID": credentials.CLOUDFLARE_ACCOUNT_ID, "CI": "true"}
    script = project / "node_modules" / "wrangler" / "bin" / "wrangler.js"
    done = subprocess.run([str(node.node), str(script), *args], cwd=project, env=env, input=stdin,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"wrangler {' '.join(args)}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout


def test_wrangler_versions_list_secret_bulk_and_rollback_against_the_sandbox(
        node: Node, served: tuple[str, Path]) -> None:
    url, project = served
    wrangler(node, project, url, "deploy")
    release(project, 2)
    wrangler(node, project, url, "deploy")

    listed = json.loads(wrangler(node, project, url, "versions", "list", "--json"))
    wrangler(node, project, url, "secret", "bulk", stdin=json.dumps({"API_KEY": "value-PLANTED-bulk"}))
    # Oldest first; the secrets changed since it (10220), which wrangler in CI forces past.
    rolled = wrangler(node, project, url, "rollback", listed[0]["id"], "--message", "back", "--yes")

    assert [v["annotations"]["workers/triggered_by"] for v in listed] == ["upload", "version_upload"]
    assert "has been deployed to 100% of traffic" in rolled
    worker = sandbox_worker(project)
    assert live_version(worker) == listed[0]["id"]
    assert worker["deployments"][-1]["annotations"] == {"workers/triggered_by": "deployment",
                                                        "workers/message": "back"}
    assert [v["annotations"]["workers/triggered_by"] for v in worker["versions"]] == [
        "upload", "version_upload", "secret"]


def test_provision_deploy_makes_the_resources_then_deploys_then_pushes_the_secrets(
        project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    creds = tmp_path / "service-credentials.toml"
    creds.write_text('[xano]\nauth_type = "api_key"\n\n[xano.credentials]\napi_key = "value-PLANTED-provision"\n')
    monkeypatch.setenv("MCPDEPLOY_SERVICE_CREDENTIALS_FILE", str(creds))
    code, first = mcpdeploy_json(capsys, "deploy", "--sandbox", "-C", str(project))
    assert code == 0, first
    release(project, 2)

    code, report = mcpdeploy_json(capsys, "provision", "--sandbox", "--deploy", "--yes", "-C", str(project))

    assert code == 0, report
    before = {a["resource"] for a in report["before_deploy"]["applied"]}
    after = [a["resource"] for a in report["applied"]]
    assert "api group mcp" in before and not any("secret" in r.lower() for r in before), before
    assert after and all("secret" in r.lower() for r in after), after
    worker = sandbox_worker(project)
    # The deploy made the version the secrets were pushed onto; the push made the one serving now.
    assert [v["annotations"]["workers/triggered_by"] for v in worker["versions"]] == [
        "upload", "version_upload", "secret"]
    assert worker["versions"][1]["id"] == report["deploy"]["version_id"]
    assert live_version(worker) == worker["versions"][2]["id"]
    assert sorted(worker["versions"][2]["secrets"]) == ["SERVICE_CREDENTIALS", "SERVICE_CREDENTIALS_KEY"]
