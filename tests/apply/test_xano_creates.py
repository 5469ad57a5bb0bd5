"""A create whose answer is lost, or that loses a race, never leaves a duplicate and never fails for nothing."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from mcpdeploy.apply.xano import XanoExecutor
from mcpdeploy.errors import ServiceUnreachable
from mcpdeploy.plan.models import Change
from mcpdeploy.providers.http import HttpOptions
from mcpdeploy.providers.xano import XanoClient
from mcpdeploy.sandbox import credentials
from mcpdeploy.sandbox.core import Fault, Sandbox
from mcpdeploy.sandbox.transport import SandboxTransport


class AnswerLostAfterWrite(httpx.BaseTransport):
    """The sandbox carries out the first POST matching `path_end`, then the connection drops before the answer."""

    def __init__(self, sandbox: Sandbox, path_end: str) -> None:
        self.inner = SandboxTransport(sandbox)
        self.path_end = path_end
        self.lost = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        if request.method == "POST" and request.url.path.endswith(self.path_end) and not self.lost:
            self.lost += 1
            raise httpx.RemoteProtocolError("connection dropped before the answer", request=request)
        return response


def executor(transport: httpx.BaseTransport, tmp_path: Path) -> XanoExecutor:
    client = XanoClient("http://sandbox.test", credentials.XANO_METADATA_TOKEN, credentials.XANO_WORKSPACE_ID,
                        options=HttpOptions(transport=transport, sleep=lambda _: None))
    return XanoExecutor(client, tmp_path / "backups")


def mcp_groups(sandbox: Sandbox, tmp_path: Path) -> list[dict[str, object]]:
    groups = executor(SandboxTransport(sandbox), tmp_path).client.list_api_groups()
    return [g for g in groups if g["name"] == "mcp"]


GROUP = Change(provider="xano", kind="create_api_group", action="create", resource="api group mcp",
               reason="not in the workspace", params={"name": "mcp"})


def test_a_group_whose_create_answer_was_lost_is_found_and_used_not_made_twice(tmp_path: Path) -> None:
    sandbox = Sandbox(tmp_path / "sandbox")
    transport = AnswerLostAfterWrite(sandbox, "/apigroup")
    outputs: dict[str, object] = {}
    applied: list[object] = []

    executor(transport, tmp_path).execute([GROUP], applied.append, outputs)

    assert transport.lost == 1
    groups = mcp_groups(sandbox, tmp_path)
    assert len(groups) == 1
    assert outputs["xano_api_group_canonical"] == groups[0]["canonical"]


def test_a_create_that_never_reached_xano_is_reported_and_makes_nothing(tmp_path: Path) -> None:
    sandbox = Sandbox(tmp_path / "sandbox")
    sandbox.add_fault(Fault(match="POST .*/apigroup$", drop=True))

    with pytest.raises(ServiceUnreachable):
        executor(SandboxTransport(sandbox), tmp_path).execute([GROUP], lambda _: None, {})
    assert mcp_groups(sandbox, tmp_path) == []


def test_the_second_of_two_creates_of_one_group_adopts_the_first(tmp_path: Path) -> None:
    sandbox = Sandbox(tmp_path / "sandbox")
    first: list[object] = []
    second: list[object] = []
    executor(SandboxTransport(sandbox), tmp_path).execute([GROUP], first.append, {})
    executor(SandboxTransport(sandbox), tmp_path).execute([GROUP], second.append, {})

    assert [d.ids["created"] for d in first + second] == [True, False]  # type: ignore[attr-defined]
    assert first[0].ids["apigroup_id"] == second[0].ids["apigroup_id"]  # type: ignore[attr-defined]
