"""Two runners provisioning one environment from two checkouts at the same moment end with exactly one of
everything: one api group, its four endpoints, two tables and one queue. Each run has its own lock (its own
`.mcpdeploy/`), so nothing serialises them but the way creates settle: whoever comes second adopts the first."""

from __future__ import annotations

import threading
from pathlib import Path

import httpx

from mcpdeploy.project.settings import load_settings
from mcpdeploy.providers.http import HttpOptions
from mcpdeploy.provision.run import ProvisionOutcome, run_provision
from mcpdeploy.sandbox import credentials
from mcpdeploy.sandbox.core import Sandbox
from mcpdeploy.sandbox.transport import SandboxTransport

ENVIRON = credentials.environment(worker_name=None)


class PlanTogether(httpx.BaseTransport):
    """The sandbox, with each run held at its first read of the API groups until the other run gets there too:
    both have then planned every create before either makes one."""

    def __init__(self, sandbox: Sandbox, barrier: threading.Barrier) -> None:
        self.inner = SandboxTransport(sandbox)
        self.barrier = barrier
        self.held = False

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "GET" and request.url.path.endswith("/apigroup") and not self.held:
            self.held = True
            self.barrier.wait(timeout=20)
        return self.inner.handle_request(request)


def provision(folder: Path, transport: httpx.BaseTransport, outcomes: dict[str, ProvisionOutcome]) -> None:
    folder.mkdir()
    outcomes[folder.name] = run_provision(
        load_settings(folder, environ=ENVIRON), HttpOptions(transport=transport, sleep=lambda _: None),
        allow_destructive=False, argv=["provision"], show_plan=lambda _: None, confirm=lambda: None,
        on_applied=lambda _: None, on_warning=lambda _: None)


def test_two_provisions_at_once_make_one_group_four_endpoints_and_one_queue(tmp_path: Path) -> None:
    sandbox = Sandbox(tmp_path / "sandbox")
    barrier = threading.Barrier(2)
    outcomes: dict[str, ProvisionOutcome] = {}
    runs = [threading.Thread(target=provision, args=(tmp_path / name, PlanTogether(sandbox, barrier), outcomes))
            for name in ("checkout-a", "checkout-b")]
    for run in runs:
        run.start()
    for run in runs:
        run.join(timeout=60)

    assert sorted(outcomes) == ["checkout-a", "checkout-b"]
    for outcome in outcomes.values():
        assert outcome.result is not None and outcome.result.ok, outcome.result and outcome.result.error
    # Both planned and applied every create: one of them adopted what the other made.
    applied = [a for o in outcomes.values() if o.result for a in o.result.applied]
    group_steps = [a for a in applied if a.change.kind == "create_api_group"]
    assert sorted(step.ids["created"] for step in group_steps) == [False, True]
    xano = SandboxTransport(sandbox)  # reads straight from the sandbox, as a third party would
    groups = [g for g in get(xano, "/api:meta/workspace/1/apigroup")["items"] if g["name"] == "mcp"]
    assert len(groups) == 1
    assert len(get(xano, f"/api:meta/workspace/1/apigroup/{groups[0]['id']}/api")["items"]) == 4
    tables = [t["name"] for t in get(xano, "/api:meta/workspace/1/table")["items"]]
    assert sorted(name for name in tables if name in ("mcp_sessions", "usage_logs")) == ["mcp_sessions", "usage_logs"]
    queues = get(xano, f"/client/v4/accounts/{credentials.CLOUDFLARE_ACCOUNT_ID}/queues",
                 credentials.CLOUDFLARE_API_TOKEN)
    assert [q["queue_name"] for q in queues["result"]].count("usage-queue") == 1
    # Both checkouts point their Worker at the same group.
    assert len({o.outputs["xano_api_base_url"] for o in outcomes.values()}) == 1


def get(transport: SandboxTransport, path: str, token: str = credentials.XANO_METADATA_TOKEN) -> dict[str, object]:
    with httpx.Client(transport=transport, base_url="http://sandbox.test") as client:
        answer: dict[str, object] = client.get(path, headers={"authorization": f"Bearer {token}"}).json()
    return answer
