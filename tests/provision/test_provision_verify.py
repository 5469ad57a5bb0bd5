"""After apply, provision reads back what it wrote: a service that stores something else is named, not re-sent.

The fake Xano here is the sandbox behind a transport that changes what is sent on its way in, the way a service
that normalises or drops part of a document would; nothing of mcpdeploy's own is replaced.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from mcpdeploy.errors import InconsistentResult
from mcpdeploy.exit_codes import ExitCode
from mcpdeploy.project.settings import load_settings
from mcpdeploy.providers.http import HttpOptions
from mcpdeploy.provision.run import ProvisionOutcome, run_provision
from mcpdeploy.sandbox import credentials
from mcpdeploy.sandbox.core import Sandbox
from mcpdeploy.sandbox.transport import SandboxTransport
from mcpdeploy.state.journal import Journal


class StoresSomethingElse(httpx.BaseTransport):
    """Passes every request to the sandbox, with `old` replaced by `new` in XanoScript bodies."""

    def __init__(self, sandbox: Sandbox, old: bytes, new: bytes) -> None:
        self.inner = SandboxTransport(sandbox)
        self.old, self.new = old, new

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        body = request.read()
        if "xanoscript" in request.headers.get("content-type", "") and self.old in body:
            headers = {k: v for k, v in request.headers.items() if k.lower() != "content-length"}
            request = httpx.Request(request.method, request.url, headers=headers,
                                    content=body.replace(self.old, self.new))
        return self.inner.handle_request(request)


def provision(project: Path, transport: httpx.BaseTransport) -> ProvisionOutcome:
    settings = load_settings(project, environ={
        "XANO_INSTANCE_URL": "http://sandbox.test", "XANO_WORKSPACE_ID": str(credentials.XANO_WORKSPACE_ID),
        "XANO_METADATA_TOKEN": credentials.XANO_METADATA_TOKEN})
    return run_provision(settings, HttpOptions(transport=transport, sleep=lambda _: None), allow_destructive=False,
                         argv=["provision"], show_plan=lambda _: None, confirm=lambda: None,
                         on_applied=lambda _: None, on_warning=lambda _: None)


@pytest.mark.parametrize(("old", "new", "named"), [
    # An endpoint input stored without its filter.
    (b"text session_id filters=trim\n    text user_id", b"text session_id\n    text user_id",
     "endpoint POST /mcp_sessions"),
    # A table column stored without its filter.
    (b'text status?="active" filters=trim\n    timestamp last_active',
     b'text status?="active"\n    timestamp last_active', "field mcp_sessions.status"),
])
def test_a_service_that_keeps_something_else_stops_the_run_with_its_own_exit_code(
        project: Path, tmp_path: Path, old: bytes, new: bytes, named: str) -> None:
    sandbox = Sandbox(tmp_path / "sandbox")
    outcome = provision(project, StoresSomethingElse(sandbox, old, new))

    error = outcome.result.error if outcome.result else None
    assert isinstance(error, InconsistentResult)
    assert error.exit_code == ExitCode.INCONSISTENT_RESULT == 11
    assert named in error.message and "filters" in error.message
    assert "not a mistake in your schemas" in (error.hint or "")
    runs = Journal(project / ".mcpdeploy", None).runs()
    assert runs[0].outcome == "inconsistent"


def test_a_service_that_keeps_what_was_sent_passes_the_check(project: Path, tmp_path: Path) -> None:
    sandbox = Sandbox(tmp_path / "sandbox")
    outcome = provision(project, SandboxTransport(sandbox))

    assert outcome.result is not None and outcome.result.ok
    assert Journal(project / ".mcpdeploy", None).runs()[0].outcome == "succeeded"
