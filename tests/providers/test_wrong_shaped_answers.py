"""Any 2xx answer of the wrong shape, to any call planning or provisioning makes, is a clear error (exit 6 naming
the call), never a crash (exit 1). The services are the sandbox; one of its answers is replaced on its way back."""

from __future__ import annotations

import json
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
from mcpdeploy.provision.pipeline import open_pipeline
from mcpdeploy.sandbox import credentials
from mcpdeploy.sandbox.core import Sandbox
from mcpdeploy.sandbox.transport import SandboxTransport

ENVIRON = credentials.environment(worker_name="usage-mcp")

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 3) | st.sampled_from(["", "x", "1", "abc"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
        st.sampled_from(["id", "name", "items", "nextPage", "curPage", "type", "fields", "verb", "canonical",
                         "queue_id", "queue_name", "deployments", "versions", "result_info", "xanoscript",
                         "value", "schema", "consumers", "success", "result"]), inner, max_size=4),
    max_leaves=8)
# What a Cloudflare answer looks like on the outside: a successful envelope around anything.
envelopes = json_values.map(lambda result: {"success": True, "errors": [], "messages": [], "result": result})
hostile = st.one_of(json_values, envelopes, st.sampled_from([
    {"items": [{"id": "7", "name": "mcp_sessions"}], "nextPage": None},
    {"items": [{"name": "mcp"}], "nextPage": None},
    {"items": [], "nextPage": "two"},
    {"success": True, "result": [], "result_info": []},
    {"success": True, "result": [{"queue_name": "usage-queue"}]},
    {"success": True, "result": {"deployments": 5}},
    {"success": True, "result": None},
]))


class OneAnswerReplaced(httpx.BaseTransport):
    def __init__(self, sandbox: Sandbox, which: int, answer: Any) -> None:
        self.inner = SandboxTransport(sandbox)
        self.which, self.answer, self.seen = which, answer, 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        self.seen += 1
        if self.seen - 1 == self.which and response.is_success:
            return httpx.Response(200, content=json.dumps(self.answer).encode(),
                                  headers={"content-type": "application/json"}, request=request)
        return response


@pytest.fixture(scope="module")
def provisioned(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A sandbox where everything exists: planning reads every kind of object."""
    folder = tmp_path_factory.mktemp("provisioned")
    sandbox = Sandbox(folder / "sandbox")
    pipeline = open_pipeline(load_settings(folder, environ=ENVIRON), HttpOptions(transport=SandboxTransport(sandbox)))
    pipeline.apply(pipeline.plan())
    pipeline.close()
    return folder


@settings(max_examples=120)
@given(which=st.integers(0, 12), answer=hostile)
def test_a_wrong_shaped_answer_to_any_read_is_a_named_error_never_a_crash(
        provisioned: Path, which: int, answer: Any) -> None:
    sandbox = Sandbox(provisioned / "sandbox")  # the provisioned state, read again from disk each time
    options = HttpOptions(transport=OneAnswerReplaced(sandbox, which, answer), sleep=lambda _: None)
    pipeline = open_pipeline(load_settings(provisioned, environ=ENVIRON), options)
    try:
        pipeline.plan()
    except McpdeployError as exc:
        assert exc.exit_code != ExitCode.ERROR, exc
    finally:
        pipeline.close()


@settings(max_examples=120)
@given(which=st.integers(0, 24), answer=hostile)
def test_a_wrong_shaped_answer_while_provisioning_stops_the_run_with_a_named_error(
        tmp_path_factory: pytest.TempPathFactory, which: int, answer: Any) -> None:
    folder = tmp_path_factory.mktemp("fresh")
    sandbox = Sandbox(folder / "sandbox")
    options = HttpOptions(transport=OneAnswerReplaced(sandbox, which, answer), sleep=lambda _: None)
    pipeline = open_pipeline(load_settings(folder, environ=ENVIRON), options)
    try:
        result = pipeline.apply(pipeline.plan())
        error = result.error
    except McpdeployError as exc:
        error = exc
    finally:
        pipeline.close()
    if error is not None:
        assert error.exit_code != ExitCode.ERROR, error
