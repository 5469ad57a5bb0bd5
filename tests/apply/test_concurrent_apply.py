"""Applying several changes at once ends where applying them in turn does: the same objects in Xano and Cloudflare,
the same journal (in the same order) and the same outputs; only the ids the services hand out may differ."""

from __future__ import annotations

import json
import random
import re
import time
from pathlib import Path
from typing import Any

import httpx

from mcpdeploy.project.settings import load_settings
from mcpdeploy.providers.http import HttpOptions
from mcpdeploy.provision.run import run_provision
from mcpdeploy.sandbox import credentials
from mcpdeploy.sandbox.core import Fault, Sandbox
from mcpdeploy.sandbox.transport import SandboxTransport

ENVIRON = credentials.environment()
# What the services or the clock hand out, different on every run whatever the order (and the plan's digest, which
# covers the project's folder).
VOLATILE = frozenset({"id", "table_id", "apigroup_id", "api_id", "queue_id", "canonical", "guid", "created_at",
                      "updated_at", "created_on", "modified_on", "run_id", "time", "started_ns", "seconds", "path",
                      "written_sha256", "xano_api_group_canonical", "xano_api_base_url", "next_id", "who", "clock",
                      "index_id", "plan_digest"})
ID_KEY = re.compile(r"^([0-9]+|[0-9a-f]{32})$")


class Jittery(httpx.BaseTransport):
    """The sandbox, each answer a little late by a random amount, so that concurrent requests finish in a
    different order from the one they were sent in."""

    def __init__(self, sandbox: Sandbox, seed: int) -> None:
        self.inner = SandboxTransport(sandbox)
        self.random = random.Random(seed)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        time.sleep(self.random.random() * 0.004)
        return self.inner.handle_request(request)


def normalised(value: Any, canonical: str = "") -> Any:
    if isinstance(value, dict):
        if value and all(isinstance(k, str) and ID_KEY.match(k) for k in value):
            items = [normalised(v, canonical) for v in value.values()]
            return sorted(items, key=lambda v: json.dumps(v, sort_keys=True))
        return {k: "<volatile>" if k in VOLATILE else normalised(v, canonical) for k, v in value.items()}
    if isinstance(value, list):
        return [normalised(v, canonical) for v in value]
    if isinstance(value, str) and canonical:
        return value.replace(canonical, "<canonical>")
    return value


def drift(sandbox: Sandbox) -> None:
    """What someone did in Xano's UI since the last provision: in both tables a column and an index gone, and one
    endpoint deleted; the next provision adds each back, two tables' changes and an endpoint at once."""
    xano = sandbox.state["xano"]
    for table in xano["tables"].values():
        if table["name"] in ("mcp_sessions", "usage_logs"):
            table["schema"] = [f for f in table["schema"] if f["name"] not in ("status", "cost")]
            table["index"] = [i for i in table["index"] if i["type"] != "btree"]
    last = max(xano["apis"], key=int)
    del xano["apis"][last]
    sandbox.save()


def provision(tmp: Path, concurrency: int, seed: int, drifted: bool = False) -> dict[str, Any]:
    sandbox = Sandbox(tmp / "sandbox")
    project = tmp / "project"
    project.mkdir(parents=True)
    if drifted:
        run_provision(load_settings(project, environ=ENVIRON | {"MCPDEPLOY_HTTP_CONCURRENCY": "1"}),
                      HttpOptions(transport=SandboxTransport(sandbox), sleep=lambda _: None),
                      allow_destructive=False, argv=["provision"], show_plan=lambda _: None, confirm=lambda: None,
                      on_applied=lambda _: None, on_warning=lambda _: None)
        drift(sandbox)
    progress: list[dict[str, Any]] = []
    outcome = run_provision(
        load_settings(project, environ=ENVIRON | {"MCPDEPLOY_HTTP_CONCURRENCY": str(concurrency)}),
        HttpOptions(transport=Jittery(sandbox, seed), sleep=lambda _: None),
        allow_destructive=False, argv=["provision"], show_plan=lambda _: None, confirm=lambda: None,
        on_applied=lambda done: progress.append(done.to_json()), on_warning=lambda _: None)
    assert outcome.result is not None and outcome.result.ok, outcome.result and outcome.result.error
    canonical = str(outcome.outputs["xano_api_group_canonical"])
    journal = [json.loads(line) for line in (project / ".mcpdeploy" / "journal" / "default.jsonl").read_text()
               .splitlines()]
    files = {name: (project / name).read_text().replace(canonical, "<canonical>") for name in ("wrangler.toml",
                                                                                            ".gitignore")}
    # Its values are encrypted under a key made for the run: the names say what it holds.
    files[".dev.vars"] = "\n".join(line.partition("=")[0] for line in (project / ".dev.vars").read_text().splitlines())
    return {
        "objects": normalised(sandbox.state, canonical),
        "journal": normalised(journal, canonical),
        "progress": normalised(progress, canonical),
        "outputs": normalised(outcome.outputs, canonical),
        "files": files,
    }


def test_a_fresh_provision_at_once_ends_as_one_in_turn(tmp_path: Path) -> None:
    serial = provision(tmp_path / "serial", 1, seed=0)
    for seed in range(3):
        concurrent = provision(tmp_path / f"concurrent-{seed}", 4, seed)
        for part in ("objects", "journal", "progress", "outputs", "files"):
            assert concurrent[part] == serial[part], part


def test_a_provision_after_drift_at_once_ends_as_one_in_turn(tmp_path: Path) -> None:
    serial = provision(tmp_path / "serial", 1, seed=0, drifted=True)
    kinds = [entry["kind"] for entry in serial["progress"]]
    assert {"add_field", "add_index", "create_endpoint"} <= set(kinds), kinds
    for seed in range(3):
        concurrent = provision(tmp_path / f"concurrent-{seed}", 4, seed, drifted=True)
        for part in ("objects", "journal", "progress", "outputs", "files"):
            assert concurrent[part] == serial[part], part


def test_a_failure_at_once_is_recorded_and_reported_as_in_turn(tmp_path: Path) -> None:
    """The API group is refused: the tables made beside it are journaled in serial order, the failure is the
    group's, and no endpoint is sent. Cloudflare's queue, made beside Xano's changes, is journaled after them
    (a serial run stops before it)."""
    results = []
    for concurrency in (1, 4):
        sandbox = Sandbox(tmp_path / f"sandbox-{concurrency}")
        sandbox.add_fault(Fault(match=r"^POST .*/apigroup$", status=400, times=1))
        project = tmp_path / f"project-{concurrency}"
        project.mkdir()
        progress: list[dict[str, Any]] = []
        outcome = run_provision(
            load_settings(project, environ=ENVIRON | {"MCPDEPLOY_HTTP_CONCURRENCY": str(concurrency)}),
            HttpOptions(transport=SandboxTransport(sandbox), sleep=lambda _: None),
            allow_destructive=False, argv=["provision"], show_plan=lambda _: None, confirm=lambda: None,
            on_applied=lambda done, into=progress: into.append(done.to_json()), on_warning=lambda _: None)
        assert outcome.result is not None and outcome.result.error is not None
        assert not [r for r in sandbox.requests if r.method == "POST" and r.path.endswith("/api")]
        results.append((normalised(progress), outcome.result.error.message))
    (serial, serial_error), (concurrent, concurrent_error) = results
    assert concurrent_error == serial_error and concurrent[:len(serial)] == serial
    assert serial[-1]["outcome"] == "failed"
    assert [entry["kind"] for entry in concurrent[len(serial):]] == ["create_queue"]
