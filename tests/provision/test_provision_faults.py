"""Provisions under injected faults (429, 500-504, connections dropped before or after the server acted) end, once
run again without faults, with exactly one of everything and nothing left to change. The services are the
sandbox; the faults are added on the way to it and back."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mcpdeploy.errors import McpdeployError
from mcpdeploy.exit_codes import ExitCode
from mcpdeploy.project.settings import load_settings
from mcpdeploy.providers.http import HttpOptions
from mcpdeploy.provision.run import ProvisionOutcome, run_provision
from mcpdeploy.sandbox import credentials
from mcpdeploy.sandbox.core import Sandbox
from mcpdeploy.sandbox.transport import SandboxTransport
from tests.provision.test_concurrent_provisions import ENVIRON, get

FAULTS = ("429", "500", "502", "503", "504", "drop", "drop_after")


class Faulty(httpx.BaseTransport):
    """The sandbox behind a network that fails a share of requests, chosen by a seeded random generator."""

    def __init__(self, sandbox: Sandbox, seed: int, rate: float) -> None:
        self.inner = SandboxTransport(sandbox)
        self.random = random.Random(seed)
        self.rate = rate
        self.injected = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if self.random.random() >= self.rate:
            return self.inner.handle_request(request)
        self.injected += 1
        fault = self.random.choice(FAULTS)
        if fault == "drop":
            raise httpx.RemoteProtocolError("dropped before the server saw it", request=request)
        if fault == "drop_after":
            self.inner.handle_request(request)
            raise httpx.RemoteProtocolError("dropped after the server acted", request=request)
        return httpx.Response(int(fault), json={"message": f"injected {fault}"}, headers={"retry-after": "0"},
                              request=request)


def provision(folder: Path, transport: httpx.BaseTransport) -> ProvisionOutcome | McpdeployError:
    try:
        return run_provision(
            load_settings(folder, environ=ENVIRON), HttpOptions(transport=transport, sleep=lambda _: None),
            allow_destructive=False, argv=["provision"], show_plan=lambda _: None, confirm=lambda: None,
            on_applied=lambda _: None, on_warning=lambda _: None)
    except McpdeployError as exc:
        return exc


def listed(transport: SandboxTransport, path: str, key: str = "items",
           token: str = credentials.XANO_METADATA_TOKEN) -> list[dict[str, Any]]:
    found = get(transport, path, token)[key]
    assert isinstance(found, list)
    return found


@settings(max_examples=100)
@given(seed=st.integers(0, 2**32), rate=st.sampled_from([0.1, 0.3, 0.5]), partial=st.booleans())
def test_provisions_under_faults_converge_to_exactly_one_of_everything(
        tmp_path_factory: pytest.TempPathFactory, seed: int, rate: float, partial: bool) -> None:
    folder = tmp_path_factory.mktemp("project")
    sandbox = Sandbox(folder / "sandbox")
    if partial:  # a random partial state: an earlier run got part of the way
        provision(folder, Faulty(sandbox, seed + 1, 0.5))

    faulty = provision(folder, Faulty(sandbox, seed, rate))
    if isinstance(faulty, McpdeployError):
        assert faulty.exit_code != ExitCode.ERROR, faulty
    elif faulty.result is not None and faulty.result.error is not None:
        assert faulty.result.error.exit_code != ExitCode.ERROR, faulty.result.error
    for _ in range(3):  # what the hints say: run it again
        again = provision(folder, SandboxTransport(sandbox))
        if isinstance(again, ProvisionOutcome) and (again.result is None or again.result.ok):
            break
    else:
        pytest.fail(f"did not converge: {again}")

    transport = SandboxTransport(sandbox)
    groups = [g for g in listed(transport, "/api:meta/workspace/1/apigroup") if g["name"] == "mcp"]
    assert len(groups) == 1
    assert len(listed(transport, f"/api:meta/workspace/1/apigroup/{groups[0]['id']}/api")) == 4
    tables = [t["name"] for t in listed(transport, "/api:meta/workspace/1/table")]
    assert tables.count("mcp_sessions") == 1 and tables.count("usage_logs") == 1
    queues = listed(transport, f"/client/v4/accounts/{credentials.CLOUDFLARE_ACCOUNT_ID}/queues", "result",
                    credentials.CLOUDFLARE_API_TOKEN)
    assert [q["queue_name"] for q in queues].count("usage-queue") == 1
    last = provision(folder, SandboxTransport(sandbox))
    assert isinstance(last, ProvisionOutcome) and last.result is None, "a further run still had changes"
