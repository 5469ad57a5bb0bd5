"""Provision against the in-process sandbox behind an added latency, and under Xano's free-plan rate limit.

    python3 benchmarks/provision_latency.py [--latency 10,100,300] [--no-serial] [--no-rate-limit]

For each latency: a fresh provision, a no-op rerun and a smoke-test, each with its wall time, the HTTP calls
that reached the sandbox, and its critical path: the calls that must follow one another (the plan's reads, the
longest chain of the plan's dependency graph, the reads that verify it), times the latency. The figures are
printed twice: first `serial`, one request at a time (`MCPDEPLOY_HTTP_CONCURRENCY=1`, as mcpdeploy ran before it
read and applied concurrently), then `now`, with the default concurrency. The rate-limited run answers 429 to an
11th Xano request within 20 seconds, as Xano's free plan does, paces as the CLI does by default
([http] xano_rate), and reports how many 429s were seen (the goal is 0); the latency runs are not paced (the
sandbox enforces no limit there, as on a plan whose limit the run does not reach).
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import os
import re
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from mcpdeploy.apply.graph import critical_path_calls
from mcpdeploy.plan.models import Plan
from mcpdeploy.project.settings import load_settings
from mcpdeploy.providers.http import HttpOptions
from mcpdeploy.providers.mcp_http import McpHttpClient
from mcpdeploy.provision.run import run_provision
from mcpdeploy.sandbox import credentials
from mcpdeploy.sandbox.core import Sandbox
from mcpdeploy.sandbox.mcp_endpoint import AUTH_API_GROUP
from mcpdeploy.sandbox.transport import SandboxTransport
from mcpdeploy.smoke.checks import run_smoke_test
from mcpdeploy.smoke.model import SmokeOptions

ENVIRON = credentials.environment()


class SlowSandbox(httpx.BaseTransport):
    """The sandbox with `latency` seconds before each answer, and optionally Xano's free-plan limit: more than
    `limit` Xano requests in `window` seconds are answered 429 with a Retry-After, as Xano answers them."""

    def __init__(self, sandbox: Sandbox, latency: float, limit: int | None = None, window: float = 20.0) -> None:
        self.inner = SandboxTransport(sandbox)
        self.latency = latency
        self.limit = limit
        self.window = window
        self.calls = 0
        self.echo_reads = 0  # a table's XanoScript, read after its schema when the schema lacks column filters
        self.answered_429 = 0
        self._xano_times: collections.deque[float] = collections.deque()
        self._lock = threading.Lock()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        time.sleep(self.latency)
        with self._lock:
            self.calls += 1
            if request.method == "GET" and re.search(r"/table/[0-9]+$", request.url.path):
                self.echo_reads += 1
            if self.limit is not None and not request.url.path.startswith("/client/v4"):
                now = time.monotonic()
                while self._xano_times and self._xano_times[0] <= now - self.window:
                    self._xano_times.popleft()
                if len(self._xano_times) >= self.limit:
                    self.answered_429 += 1
                    wait = self._xano_times[0] + self.window - now
                    return httpx.Response(429, headers={"retry-after": f"{max(1, round(wait))}"}, request=request,
                                          json={"code": "ERROR_CODE_TOO_MANY_REQUESTS",
                                                "message": "Whoa there! Your plan only supports 10 requests per "
                                                           "20 seconds."})
                self._xano_times.append(now)
        return self.inner.handle_request(request)


@contextlib.contextmanager
def environment(values: dict[str, str]) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def provision(folder: Path, transport: SlowSandbox, environ: dict[str, str], paced: bool) -> dict[str, Any]:
    shown: list[tuple[Plan, float]] = []
    calls_before, echoes_before = transport.calls, transport.echo_reads
    started = time.perf_counter()
    settings = load_settings(folder, environ=environ)
    # Paced as the CLI paces (the published limits) only where the sandbox enforces one.
    rates = {"xano": settings.http.xano_rate, "cloudflare": settings.http.cloudflare_rate} if paced else {}
    # The pace file carries the fresh run's requests into the no-op run, as from one CLI command to the next.
    options = HttpOptions(transport=transport, rates=rates, pace_file=settings.state_dir / "pace.json" if paced
                          else None)
    outcome = run_provision(
        settings, options,
        allow_destructive=False, argv=["provision"], show_plan=lambda plan: shown.append((plan, time.perf_counter())),
        confirm=lambda: None, on_applied=lambda _: None, on_warning=lambda _: None)
    wall = time.perf_counter() - started
    options.close()
    if outcome.result is not None and not outcome.result.ok:
        raise SystemExit(f"provision failed: {outcome.result.error}")
    plan, planned_at = shown[0]
    changes = list(plan.changes)
    return {"wall": wall, "plan": planned_at - started, "calls": transport.calls - calls_before, "plan_obj": plan,
            "apply_chain": critical_path_calls(changes), "changes": len(changes),
            "echo": transport.echo_reads > echoes_before}


def smoke(transport: SlowSandbox) -> dict[str, Any]:
    """`smoke-test` against the sandbox's MCP endpoint (the Worker's auth/me call to Xano happens inside the
    sandbox, without the added latency). Its checks run in turn, one MCP session: its critical path is its calls."""
    options = SmokeOptions(mcp_url="http://sandbox.test/mcp", xano_url=f"http://sandbox.test/{AUTH_API_GROUP}",
                           call_tool="echo", tool_args={"text": "hi"})
    calls_before = transport.calls
    started = time.perf_counter()
    with McpHttpClient(credentials.MCP_API_KEY, HttpOptions(transport=transport)) as client:
        report = run_smoke_test(client, options)
    wall = time.perf_counter() - started
    failed = [c.id for c in report.checks if c.status.value == "fail"]
    if failed:
        raise SystemExit(f"smoke-test failed: {', '.join(failed)}")
    calls = transport.calls - calls_before
    return {"wall": wall, "plan": 0.0, "calls": calls, "critical": calls}


def measure(latency: float, environ: dict[str, str], limit: int | None = None) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        sandbox = Sandbox(Path(tmp) / "sandbox")
        transport = SlowSandbox(sandbox, latency, limit)
        project = Path(tmp) / "project"
        project.mkdir()
        with environment({"NO_COLOR": "1"}):
            fresh = provision(project, transport, environ, paced=limit is not None)
            # Fresh: one level of lists; then the chain of changes; then verify re-reads what now exists: the
            # lists, then each table's schema and indexes (and its XanoScript when the schema lacks filters).
            fresh["critical"] = 1 + fresh["apply_chain"] + 2 + fresh["echo"]
            out["fresh"] = fresh
            noop = provision(project, transport, environ, paced=limit is not None)
            noop["critical"] = 2 + noop["echo"]
            out["no-op"] = noop
            if limit is None:
                out["smoke"] = smoke(transport)
        out["fresh"]["429s"] = out["no-op"]["429s"] = transport.answered_429
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", default="10,100,300", help="milliseconds, comma-separated")
    parser.add_argument("--no-serial", action="store_true", help="skip the serial figures")
    parser.add_argument("--no-rate-limit", action="store_true", help="skip the run under 10 requests per 20 s")
    args = parser.parse_args()
    latencies = [float(ms) / 1000 for ms in args.latency.split(",")]
    modes = ([("serial", {"MCPDEPLOY_HTTP_CONCURRENCY": "1"})] if not args.no_serial else []) + [("now", {})]
    print(f"{'mode':7} {'latency':>7} {'run':6} {'calls':>5} {'plan s':>7} {'wall s':>7} {'critical':>13} "
          f"{'wall/critical':>13}")
    for mode, extra in modes:
        for latency in latencies:
            for label, r in measure(latency, ENVIRON | extra).items():
                floor = r["critical"] * latency
                print(f"{mode:7} {latency * 1000:5.0f}ms {label:6} {r['calls']:5d} {r['plan']:7.2f} {r['wall']:7.2f} "
                      f"{r['critical']:3d} = {floor:5.2f}s {r['wall'] / floor:12.1f}x", flush=True)
    if not args.no_rate_limit:
        started = time.perf_counter()
        result = measure(0.01, ENVIRON, limit=10)
        fresh, noop = result["fresh"], result["no-op"]
        print(f"\nunder 10 Xano requests per 20 s (10 ms latency): fresh {fresh['calls']} calls "
              f"{fresh['wall']:.1f} s, no-op {noop['calls']} calls {noop['wall']:.1f} s, "
              f"429s seen: {fresh['429s']} (in {time.perf_counter() - started:.0f} s)", file=sys.stdout)


if __name__ == "__main__":
    main()
