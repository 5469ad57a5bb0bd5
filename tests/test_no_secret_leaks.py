"""The promise "secrets never leak", checked end to end: plant recognisable secret values, run every command the
way a person or a CI job would (with `--json` and `--trace` wherever a command has them, successes and failures),
then search everything the run printed and wrote for each value, raw and in its JSON-escaped forms.

Where a value may legitimately rest: the credentials key in `.dev.vars*`, `.mcpdeploy/keys/*` and the private
(0600) backups of `.dev.vars` that provision keeps. The plaintext service credentials (the planted api_key) are only
ever stored encrypted, so they may appear nowhere at all. The sandbox only opens with its own fixed tokens, so the
successful runs use those (and they are hunted like any secret), and the planted tokens are the ones it refuses.
"""

from __future__ import annotations

import json
import re
import stat
import string
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree import ElementTree

import httpx
import pytest
import respx
from hypothesis import HealthCheck, Phase, assume, given, settings
from hypothesis import strategies as st

from mcpdeploy.project.secrets import generate_key
from mcpdeploy.project.settings import load_settings
from mcpdeploy.sandbox import credentials
from mcpdeploy.sandbox.core import Fault, Sandbox
from mcpdeploy.sandbox.mcp_endpoint import AUTH_API_GROUP
from mcpdeploy.sandbox.server import SandboxServer
from mcpdeploy.sandbox.session import record_served
from mcpdeploy.sandbox.transport import SandboxTransport
from mcpdeploy.sandbox.xano_runtime import add_api_key
from tests.conftest import CliResult
from tests.test_redaction import ENCODINGS, SECRET_HEAD, leaked_prefixes

Cli = Callable[..., CliResult]

PLANTED_XANO_TOKEN = "PLANTED-xano-meta-7f3a1c9e"
PLANTED_CF_TOKEN = "PLANTED-cf-token-2b8e41d0"
PLANTED_MCP_KEY = "PLANTED-mcp-key-5d0c77e1"
PLANTED_UNKNOWN_MCP_KEY = "PLANTED-mcp-key-unknown-0a9b"
# Quotes and a slash, so the JSON-escaped form differs from the raw one and both are searched for.
PLANTED_API_KEY = 'PLANTED-api-key-"9e1f/c0de"'
PLANTED_ROTATED_API_KEY = 'PLANTED-api-key-rotated-"41aa/77b0"'


def searched_forms(value: str) -> set[str]:
    """The value as written, inside a JSON string, and inside a JSON string that is itself inside JSON
    (SERVICE_CREDENTIALS in a request body)."""
    once = json.dumps(value)[1:-1]
    return {value, once, json.dumps(value, ensure_ascii=False)[1:-1], json.dumps(once)[1:-1]}


def holds(text: str, value: str) -> bool:
    # Also without whitespace: a console that wraps a long line would split a value across two lines.
    squeezed = re.sub(r"\s+", "", text)
    return any(form in text or re.sub(r"\s+", "", form) in squeezed for form in searched_forms(value))


@dataclass
class Evidence:
    """Everything a run printed, by command, and where its files went."""

    cli: Cli
    project: Path
    reports: Path  # traces, JUnit, step summary, xanoscript --out: outside the project, searched too
    printed: dict[str, str] = field(default_factory=dict)
    traces: list[Path] = field(default_factory=list)

    def run(self, expected_exit: int, *args: str) -> CliResult:
        result = self.cli(*args)
        label = "mcpdeploy " + " ".join(args)
        self.printed[f"stdout of `{label}`"] = result.stdout
        self.printed[f"stderr of `{label}`"] = result.stderr
        assert result.exit_code == expected_exit, f"`{label}` exited {result.exit_code}:\n{result.stderr}"
        return result

    def trace(self, name: str) -> str:
        self.traces.append(self.reports / f"{name}.jsonl")
        return str(self.traces[-1])

    def written_files(self) -> Iterator[tuple[Path, str]]:
        for root in (self.project, self.reports):
            for path in sorted(root.rglob("*")):
                if path.is_file():
                    yield path, path.read_bytes().decode("utf-8", errors="replace")

    def may_hold_the_credentials_key(self, path: Path) -> bool:
        if not path.is_relative_to(self.project):
            return False
        relative = path.relative_to(self.project)
        return (
            (relative.parent == Path(".") and relative.name.startswith(".dev.vars"))
            or relative.parent == Path(".mcpdeploy", "keys")
            or (relative.parts[:2] == (".mcpdeploy", "backups") and relative.name.startswith(".dev.vars."))
        )

    def assert_no_leaks(self, secrets: dict[str, str], credentials_key: str | None = None) -> None:
        """`secrets` (description -> value) appear nowhere; `credentials_key` only where it is kept."""
        found: list[str] = []
        everywhere = dict(secrets)
        if credentials_key is not None:
            everywhere["the credentials key"] = credentials_key
        for where, text in self.printed.items():
            found += [f"{what} found in the {where}" for what, value in everywhere.items() if holds(text, value)]
        for path, text in self.written_files():
            for what, value in everywhere.items():
                if holds(text, value) and not (value == credentials_key and self.may_hold_the_credentials_key(path)):
                    found.append(f"{what} found in the file {path}")
        assert not found, "secrets leaked:\n" + "\n".join(found)

    def assert_dev_vars_backups_are_private(self) -> None:
        backups = sorted((self.project / ".mcpdeploy" / "backups").rglob(".dev.vars.*"))
        assert backups, "provision should have backed up .dev.vars before changing it"
        modes = {str(p): oct(stat.S_IMODE(p.stat().st_mode)) for p in backups}
        assert all(mode == "0o600" for mode in modes.values()), f"backups of .dev.vars readable by others: {modes}"


@pytest.fixture
def sandbox(project: Path) -> Iterator[Sandbox]:
    """The project's sandbox, served so that every `--sandbox` command uses it (as with `mcpdeploy sandbox serve`),
    with the planted MCP key registered as a user's key."""
    box = Sandbox(project / ".mcpdeploy" / "sandbox")
    add_api_key(box, PLANTED_MCP_KEY, {"id": 7, "name": "Leak Hunter", "email": "hunter@example.com"})
    with SandboxServer(box) as server:
        record_served(load_settings(project), server.url)
        yield box


@pytest.fixture
def evidence(cli: Cli, project: Path, tmp_path: Path) -> Evidence:
    reports = tmp_path / "reports"
    reports.mkdir()
    return Evidence(cli, project, reports)


@pytest.fixture
def credentials_key(monkeypatch: pytest.MonkeyPatch) -> str:
    key = generate_key()
    monkeypatch.setenv("MCPDEPLOY_CREDENTIALS_KEY", key)
    return key


@pytest.fixture
def plaintext_credentials(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The service credentials a user keeps outside the project (this file is the one place the plaintext is)."""
    private = tmp_path / "private"
    private.mkdir()
    path = private / "service-credentials.json"
    write_credentials(path, PLANTED_API_KEY)
    monkeypatch.setenv("MCPDEPLOY_SERVICE_CREDENTIALS_FILE", str(path))
    return path


def write_credentials(path: Path, api_key: str) -> None:
    path.write_text(json.dumps({"xano": {"auth_type": "api_key", "credentials": {"api_key": api_key}}}))


def smoke_test_target(box: Sandbox) -> list[str]:
    assert box.url is not None
    return ["--url", f"{box.url}/mcp", "--xano-url", f"{box.url}/{AUTH_API_GROUP}"]


def test_a_whole_deployment_lifecycle_leaks_no_secret(
    evidence: Evidence, sandbox: Sandbox, credentials_key: str, plaintext_credentials: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    run, trace = evidence.run, evidence.trace
    (evidence.project / "wrangler.toml").write_text('name = "usage-mcp"\nmain = "src/index.ts"\n')
    (evidence.project / ".dev.vars").write_text('LOG_LEVEL="debug"\n')
    first = run(0, "provision", "--sandbox", "--yes", "--json", "--trace", trace("provision-1"))
    run(0, "provision", "--sandbox", "--yes", "--json", "--trace", trace("provision-2"))
    run(0, "plan", "--sandbox", "--json", "--trace", trace("plan"))
    run(0, "xanoscript", "--json")
    run(0, "xanoscript", "--out", str(evidence.reports / "xanoscript"))
    run(0, "schema", "validate", "--json")
    run(0, "sandbox", "deploy-worker", "--json")
    pushed = run(0, "provision", "--sandbox", "--yes", "--json", "--trace", trace("provision-3"))
    assert "SERVICE_CREDENTIALS_KEY" in pushed.stdout, "the third provision should push the Worker's secrets"
    write_credentials(plaintext_credentials, PLANTED_ROTATED_API_KEY)  # rotated: .dev.vars (and its backup) change
    run(0, "provision", "--sandbox", "--yes", "--json", "--trace", trace("provision-rotated"))
    new_code = evidence.reports / "worker-v2.mjs"
    new_code.write_text('export default { async fetch() { return new Response("v2"); } };\n')
    run(0, "sandbox", "deploy-worker", "--script", str(new_code), "--json")

    with monkeypatch.context() as ci:
        ci.setenv("MCP_API_KEY", PLANTED_MCP_KEY)
        ci.setenv("GITHUB_ACTIONS", "true")
        ci.setenv("GITHUB_STEP_SUMMARY", str(evidence.reports / "step-summary.md"))
        run(0, "smoke-test", *smoke_test_target(sandbox), "--json", "--junit-xml", str(evidence.reports / "smoke.xml"),
            "--trace", trace("smoke-test"))

    run(0, "auth", "disable", "--for", "1m", "--yes", "--sandbox", "--json", "--trace", trace("auth-disable"))
    run(0, "auth", "status", "--sandbox", "--json", "--trace", trace("auth-status"))
    run(0, "auth", "enable", "--yes", "--sandbox", "--json", "--trace", trace("auth-enable"))
    run(0, "rollback", "--sandbox", "--dry-run", "--json", "--trace", trace("rollback-dry-run"))
    rolled_back = run(0, "rollback", "--sandbox", "--yes", "--force", "--json", "--trace", trace("rollback"))
    assert json.loads(rolled_back.stdout)["outcome"] == "rolled_back"
    # After a rollback Cloudflare refuses secret edits: an error path with the tokens in play.
    refused = run(6, "auth", "disable", "--for", "1m", "--yes", "--sandbox", "--json", "--trace", trace("auth-refused"))
    assert "10215" in refused.stderr
    run(0, "history", "--json")
    run(0, "history", "show", "last", "--json")
    run(0, "rollback", "--run", "last", "--dry-run", "--sandbox", "--json", "--trace", trace("rollback-run-last"))
    first_run = json.loads(first.stdout)["run_id"]
    run(0, "rollback", "--run", first_run, "--dry-run", "--sandbox", "--json", "--trace", trace("rollback-run-1"))
    encrypted = run(0, "secrets", "encrypt", "--in", str(plaintext_credentials))
    assert json.loads(encrypted.stdout)["xano"]["credentials_encrypted"].startswith("v1:")
    run(0, "secrets", "decrypt", "--json")
    run(0, "secrets", "decrypt")

    assert (evidence.reports / "step-summary.md").read_text() and (evidence.reports / "smoke.xml").read_text()
    assert holds((evidence.project / ".dev.vars").read_text(), credentials_key), "the key in use is in .dev.vars"
    assert all(t.exists() for t in evidence.traces), "every --trace file should have been written"
    evidence.assert_no_leaks(
        {
            "the service api_key (plaintext credentials)": PLANTED_API_KEY,
            "the rotated service api_key": PLANTED_ROTATED_API_KEY,
            "the MCP API key": PLANTED_MCP_KEY,
            "the sandbox's Xano metadata token": credentials.XANO_METADATA_TOKEN,
            "the sandbox's Cloudflare API token": credentials.CLOUDFLARE_API_TOKEN,
        },
        credentials_key=credentials_key,
    )
    evidence.assert_dev_vars_backups_are_private()


def test_refusals_and_server_failures_leak_no_secret(
    evidence: Evidence, sandbox: Sandbox, credentials_key: str, plaintext_credentials: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    run, trace = evidence.run, evidence.trace
    assert sandbox.url is not None
    monkeypatch.setenv("XANO_INSTANCE_URL", sandbox.url)
    monkeypatch.setenv("XANO_WORKSPACE_ID", str(credentials.XANO_WORKSPACE_ID))
    monkeypatch.setenv("CLOUDFLARE_API_BASE_URL", f"{sandbox.url}/client/v4")
    monkeypatch.setenv("CLOUDFLARE_ACCOUNT_ID", credentials.CLOUDFLARE_ACCOUNT_ID)

    # A metadata token Xano refuses, then a Cloudflare token Cloudflare refuses.
    monkeypatch.setenv("XANO_METADATA_TOKEN", PLANTED_XANO_TOKEN)
    refused = run(6, "plan", "--json", "--trace", trace("plan-refused"))
    assert "answered 401" in refused.stderr and "XANO_METADATA_TOKEN" in refused.stderr
    run(6, "provision", "--yes", "--json", "--trace", trace("provision-refused-by-xano"))
    monkeypatch.setenv("XANO_METADATA_TOKEN", credentials.XANO_METADATA_TOKEN)
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", PLANTED_CF_TOKEN)
    refused = run(6, "provision", "--yes", "--json", "--trace", trace("provision-refused-by-cloudflare"))
    assert "answered 401 10000" in refused.stderr and "CLOUDFLARE_API_TOKEN" in refused.stderr

    # A server failure on the one request that carries the credentials key and SERVICE_CREDENTIALS.
    run(0, "sandbox", "deploy-worker", "--json")
    sandbox.add_fault(Fault(match=r"^PATCH /client/v4/.*/secrets-bulk$", status=500))
    failed = run(75, "provision", "--sandbox", "--yes", "--json", "--trace", trace("provision-fault"))
    assert "secrets-bulk answered 500" in failed.stderr
    assert sandbox.faults[-1].times == 0, "the secrets push should have met the fault"

    # A smoke test with a key nobody registered, as a failing CI job.
    with monkeypatch.context() as ci:
        ci.setenv("MCP_API_KEY", PLANTED_UNKNOWN_MCP_KEY)
        ci.setenv("GITHUB_ACTIONS", "true")
        ci.setenv("GITHUB_STEP_SUMMARY", str(evidence.reports / "step-summary.md"))
        run(5, "smoke-test", *smoke_test_target(sandbox), "--json", "--junit-xml", str(evidence.reports / "smoke.xml"),
            "--trace", trace("smoke-test-fails"))

    # SERVICE_CREDENTIALS opened with another key.
    other_key = generate_key()
    encrypted = run(0, "secrets", "encrypt", "--in", str(plaintext_credentials)).stdout
    (evidence.reports / "service-credentials.json").write_text(encrypted)
    monkeypatch.setenv("MCPDEPLOY_CREDENTIALS_KEY", other_key)
    wrong_key = run(8, "secrets", "decrypt", "--in", str(evidence.reports / "service-credentials.json"), "--json")
    assert "encrypted with key" in wrong_key.stderr

    evidence.assert_no_leaks(
        {
            "the refused Xano metadata token": PLANTED_XANO_TOKEN,
            "the refused Cloudflare API token": PLANTED_CF_TOKEN,
            "the unknown MCP API key": PLANTED_UNKNOWN_MCP_KEY,
            "the service api_key (plaintext credentials)": PLANTED_API_KEY,
            "the other credentials key": other_key,
            "the sandbox's Xano metadata token": credentials.XANO_METADATA_TOKEN,
            "the sandbox's Cloudflare API token": credentials.CLOUDFLARE_API_TOKEN,
        },
        credentials_key=credentials_key,
    )


# --- hostile answers: a token echoed back by a server, at every cut point ------------------------------------------
#
# Each example gives the run freshly generated tokens, serves Xano, Cloudflare and the MCP endpoint from an in-process
# sandbox behind respx (the real clients, retries, parsers and reports run unchanged), and has one request answered by
# a hostile server that echoes the request's Authorization header: in the body, placed so the token straddles one of
# the limits messages are cut at, in one of the encodings servers use, and in the response headers. Then every output
# is searched for the token and for each of its prefixes of 4 characters or more.

# No shrinking: a run takes a fifth of a second, and the first failing example already names the leak.
HOSTILE = settings(max_examples=40, phases=[Phase.explicit, Phase.generate],
                   suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
HOSTILE_SECRETS = st.text(alphabet=string.ascii_letters + string.digits + "-._~/+=", min_size=12, max_size=40).map(
    lambda s: SECRET_HEAD + s)
SANDBOX_URL = "http://sandbox.test"
ECHOED_BEFORE = "Authorization: Bearer "
# Every limit a message cuts network text at (codes, headers, bodies, messages), and a little past the longest.
CUT_POINTS = (40, 60, 80, 120, 160, 300)
FILLER_WORDS = "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor "


@dataclass(frozen=True)
class HostileAnswer:
    status: int
    shape: str  # html | plain | xano | cloudflare | echo-json
    encoding: str  # a key of ENCODINGS
    offset: int  # where the token starts in the quoted text: around a cut point
    in_headers: bool
    controls: str = ""  # control characters the server slips in front of the echo


    def response(self, request: httpx.Request) -> httpx.Response:
        auth = request.headers.get("authorization", "")
        token = auth.removeprefix("Bearer ")
        lead = (FILLER_WORDS * 10)[:max(self.offset - len(ECHOED_BEFORE), 0)]
        echoed = ECHOED_BEFORE + ENCODINGS[self.encoding](token)
        text = f"{lead}{self.controls}{echoed} and the rest of the page"
        headers = {"x-echo": echoed, "cf-ray": echoed, "www-authenticate": f'Basic realm="{echoed}"'} \
            if self.in_headers else {}
        if self.shape in ("html", "plain"):
            kind = "text/html" if self.shape == "html" else "text/plain"
            if self.in_headers:
                kind += f"; charset=utf-8; echo={ENCODINGS[self.encoding](token)}"
            body = f"<html><title>{text}</title><body>{text}</body></html>" if self.shape == "html" else text
            return httpx.Response(self.status, headers={**headers, "content-type": kind}, text=body)
        document: dict[str, object] = {
            "xano": {"code": "ERROR_CODE_BAD_REQUEST", "message": text, "payload": {"param": echoed}},
            "cloudflare": {"success": False, "errors": [{"code": 10000, "message": text}], "messages": [],
                           "result": None},
            "echo-json": {"received": {"authorization": auth, "note": text}},
        }[self.shape]
        return httpx.Response(self.status, headers=headers, json=document)


def hostile_answers() -> st.SearchStrategy[HostileAnswer]:
    # A retried status (429, 5xx) would make the run sleep through its backoffs; the statuses below are final.
    status = st.sampled_from([200, 400, 401, 403, 404, 409, 422])
    shapes = st.sampled_from(["html", "plain", "xano", "cloudflare", "echo-json"])
    offsets = st.builds(lambda cut, back: max(cut - back, 0), st.sampled_from(CUT_POINTS), st.integers(0, 45))
    return st.builds(HostileAnswer, status, shapes, st.sampled_from(sorted(ENCODINGS)), offsets, st.booleans(),
                     CONTROLS) \
        .filter(lambda a: a.status != 200 or a.shape in ("html", "plain"))  # a 2xx JSON answer is data, not an error


class HostileNetwork:
    """The sandbox behind respx, run with our own tokens: requests bearing them reach the sandbox with its fixed ones,
    and the request matching `victim` after `skip` others did gets the hostile answer instead."""

    def __init__(self, state: Path, tokens: dict[str, str], victim: str, answer: HostileAnswer,
                 skip: int = 0) -> None:
        self.box = Sandbox(state)
        self._skip = skip
        self._inner = SandboxTransport(self.box)
        self._tokens = tokens  # ours -> the sandbox's
        self._victim = re.compile(victim)
        self._answer = answer
        self.hit: str | None = None

    def __call__(self, request: httpx.Request) -> httpx.Response:
        line = f"{request.method} {request.url.path}"
        if self.hit is None and self._victim.search(line):
            if self._skip == 0:
                self.hit = line
                return self._answer.response(request)
            self._skip -= 1
        headers = dict(request.headers)
        ours = headers.get("authorization", "").removeprefix("Bearer ")
        if ours in self._tokens:
            headers["authorization"] = f"Bearer {self._tokens[ours]}"
        return self._inner.handle_request(httpx.Request(request.method, request.url, headers=headers,
                                                        content=request.content))


def everything_written(*folders: Path) -> Iterator[tuple[str, str]]:
    for folder in folders:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                yield str(path), path.read_bytes().decode("utf-8", errors="replace")


def assert_nothing_of(secrets: dict[str, str], outputs: Iterable[tuple[str, str]]) -> None:
    found = [f"{what}: {leak} in {where}" for where, text in outputs for what, secret in secrets.items()
             for leak in leaked_prefixes(text, secret)]
    assert not found, "secrets leaked:\n" + "\n".join(found[:20])


# What a server can send to take over a terminal or a CI log: escape sequences, a line of its own that the runner
# would read as a workflow command, C1 controls (CSI), bidi overrides, a bell, a NUL.
INJECTED_LINE = "::error::injected by the server"
CONTROLS = st.lists(st.sampled_from(["\x1b[2J\x1b[31m", f"\r\n{INJECTED_LINE}\r\n", "\n::add-mask::x\n", "\x9b31m",
                                     "\u202e", "\u2066", "\x07", "\x00", "\x85", "\u2028", "\x1b]8;;http://x\x07"]),
                    max_size=3).map("".join)


def is_unsafe(c: str) -> bool:
    """A character that acts on a terminal or a log instead of being shown."""
    return c not in "\n\t" and unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp")


def assert_no_control_characters(outputs: Iterable[tuple[str, str]]) -> None:
    found = [f"{unicodedata.name(c, hex(ord(c)))} in {where}" for where, text in outputs for c in set(text)
             if is_unsafe(c)]
    found += [f"a line of the server's own in {where}" for where, text in outputs
              if any(line.startswith(("::error::injected", "::add-mask::")) for line in text.splitlines())]
    assert not found, "control characters reached the output:\n" + "\n".join(found)


PROVISION_VICTIMS = [
    r"^GET /api:meta/workspace/1/table$", r"^POST /api:meta/workspace/1/table$",
    r"^POST /api:meta/workspace/1/apigroup$", r"^POST /api:meta/workspace/1/apigroup/\d+/api$",
    r"^GET /client/v4/user/tokens/verify$", r"^GET /client/v4/accounts/\w+/queues$", r"^POST /client/v4/.*/queues$",
    r"^GET /client/v4/.*/script-settings$",
]


@HOSTILE
@given(xano_token=HOSTILE_SECRETS, cloudflare_token=HOSTILE_SECRETS, victim=st.sampled_from(PROVISION_VICTIMS),
       answer=hostile_answers())
def test_a_token_echoed_by_xano_or_cloudflare_reaches_no_output(
    cli: Cli, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch, xano_token: str,
    cloudflare_token: str, victim: str, answer: HostileAnswer,
) -> None:
    """stdout, stderr, `--json`, the trace and the journal of a provision that meets the hostile answer."""
    assume(xano_token != cloudflare_token)  # the fake network tells the services apart by their tokens
    folder = tmp_path_factory.mktemp("hostile")
    project = folder / "worker"
    project.mkdir()
    (project / "wrangler.toml").write_text('name = "usage-mcp"\nmain = "src/index.ts"\n')
    network = HostileNetwork(folder / "sandbox", {xano_token: credentials.XANO_METADATA_TOKEN,
                                                  cloudflare_token: credentials.CLOUDFLARE_API_TOKEN}, victim, answer)
    for name, value in {"XANO_INSTANCE_URL": SANDBOX_URL, "XANO_WORKSPACE_ID": str(credentials.XANO_WORKSPACE_ID),
                        "XANO_METADATA_TOKEN": xano_token, "CLOUDFLARE_API_BASE_URL": f"{SANDBOX_URL}/client/v4",
                        "CLOUDFLARE_API_TOKEN": cloudflare_token,
                        "CLOUDFLARE_ACCOUNT_ID": credentials.CLOUDFLARE_ACCOUNT_ID}.items():
        monkeypatch.setenv(name, value)
    with respx.mock(assert_all_called=False) as mock:
        mock.route().mock(side_effect=network)
        result = cli("provision", "--yes", "--json", "--project-dir", str(project), "--trace",
                     str(folder / "trace.jsonl"))
    assert network.hit, f"no request matched {victim}"
    assert "Traceback" not in result.stderr
    outputs = [("stdout", result.stdout), ("stderr", result.stderr), *everything_written(folder)]
    assert_nothing_of({"the Xano token": xano_token, "the Cloudflare token": cloudflare_token}, outputs)
    assert_no_control_characters(outputs[:2])
    json.loads(result.stdout)


SMOKE_VICTIMS = [r"^GET /api:\w+/auth/me$", r"^POST /mcp$", r"^GET /mcp$", r"^DELETE /mcp$", r"."]


@HOSTILE
@given(key=HOSTILE_SECRETS, victim=st.sampled_from(SMOKE_VICTIMS), skip=st.integers(0, 6), answer=hostile_answers())
def test_a_key_echoed_by_the_mcp_server_reaches_no_report(
    cli: Cli, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch, key: str, victim: str,
    skip: int, answer: HostileAnswer,
) -> None:
    """stdout, stderr (`::error` lines included), `--json`, JUnit, the step summary and the trace of a smoke test
    whose matching request after `skip` others meets the hostile answer (or none, when fewer match)."""
    folder = tmp_path_factory.mktemp("hostile-smoke")
    network = HostileNetwork(folder / "sandbox", {}, victim, answer, skip)
    add_api_key(network.box, key, {"id": 7, "name": "Leak Hunter", "email": "hunter@example.com"})
    monkeypatch.setenv("MCP_API_KEY", key)
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(folder / "step-summary.md"))
    with respx.mock(assert_all_called=False) as mock:
        mock.route().mock(side_effect=network)
        result = cli("smoke-test", "--url", f"{SANDBOX_URL}/mcp", "--xano-url", f"{SANDBOX_URL}/{AUTH_API_GROUP}",
                     "--json", "--junit-xml", str(folder / "smoke.xml"), "--trace", str(folder / "trace.jsonl"))
    assert "Traceback" not in result.stderr
    reports = [("stdout", result.stdout), ("stderr", result.stderr), *everything_written(folder)]
    assert_nothing_of({"the MCP API key": key}, reports)
    # The trace keeps what was received, as JSON; every report meant for people or CI shows it escaped.
    assert_no_control_characters([(where, text) for where, text in reports if not where.endswith(".jsonl")])
    json.loads(result.stdout)
    if (folder / "smoke.xml").exists():
        ElementTree.parse(folder / "smoke.xml")
