"""Planning reads Xano and Cloudflare (and each table's schema and indexes) several calls at a time; the plan, its
notes and the calls made are the same as one call at a time, whatever answered first."""

from __future__ import annotations

from pathlib import Path

import pytest

from mcpdeploy.project.settings import load_settings
from mcpdeploy.providers.http import HttpOptions
from mcpdeploy.provision.pipeline import open_pipeline
from mcpdeploy.provision.run import run_provision
from mcpdeploy.sandbox import credentials
from mcpdeploy.sandbox.core import Fault, Sandbox
from mcpdeploy.sandbox.transport import SandboxTransport

ENVIRON = credentials.environment()


def plan_at(project: Path, sandbox: Sandbox, concurrency: int) -> tuple[object, list[str]]:
    seen = len(sandbox.requests)
    settings = load_settings(project, environ=ENVIRON | {"MCPDEPLOY_HTTP_CONCURRENCY": str(concurrency)})
    pipeline = open_pipeline(settings, HttpOptions(transport=SandboxTransport(sandbox), sleep=lambda _: None))
    try:
        plan = pipeline.plan()
    finally:
        pipeline.close()
        pipeline.state.close()
    calls = sorted(f"{r.method} {r.path}" for r in sandbox.requests[seen:])
    return (plan.to_json(), pipeline.outputs), calls


@pytest.mark.parametrize("provisioned", [False, True])
def test_concurrent_reads_plan_what_serial_reads_plan(tmp_path: Path, provisioned: bool) -> None:
    sandbox = Sandbox(tmp_path / "sandbox")
    project = tmp_path / "project"
    project.mkdir()
    if provisioned:
        run_provision(load_settings(project, environ=ENVIRON),
                      HttpOptions(transport=SandboxTransport(sandbox), sleep=lambda _: None),
                      allow_destructive=False, argv=["provision"], show_plan=lambda _: None, confirm=lambda: None,
                      on_applied=lambda _: None, on_warning=lambda _: None)
    serial = plan_at(project, sandbox, 1)
    for _ in range(5):
        assert plan_at(project, sandbox, 4) == serial


def test_a_failed_read_fails_the_plan_the_same_way_at_once_or_in_turn(tmp_path: Path) -> None:
    """Two reads fail together; the one first in order is the failure reported, as when they ran in turn."""
    sandbox = Sandbox(tmp_path / "sandbox")
    project = tmp_path / "project"
    project.mkdir()
    messages = []
    for concurrency in (1, 4):
        sandbox.faults = [Fault(match=r"GET .*/table$", status=403, times=1),
                          Fault(match=r"GET .*/queues", status=403, times=1)]
        with pytest.raises(Exception) as failure:
            plan_at(project, sandbox, concurrency)
        messages.append(str(failure.value))
    assert messages[0] == messages[1] and "table" in messages[0]
