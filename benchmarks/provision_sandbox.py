"""Measure a fresh provision and a no-op rerun against the sandbox on loopback: HTTP calls, writes, wall time.

Xano and Cloudflare are both configured (as `provision --sandbox` does); the Worker is not deployed, so no
consumer or secrets are involved.

    python3 benchmarks/provision_sandbox.py [--runs N]

Each run uses a new temp project and a new sandbox server; the calls are counted at the sandbox (what reached
the server, retries included) and the wall time is the whole CLI invocation, in-process.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from mcpdeploy.cli.app import run
from mcpdeploy.sandbox import credentials
from mcpdeploy.sandbox.core import Sandbox
from mcpdeploy.sandbox.server import SandboxServer


def one_run() -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        box = Sandbox(Path(tmp) / "state")
        project = Path(tmp) / "project"
        project.mkdir()
        with SandboxServer(box) as server:
            os.environ.update({
                "XANO_INSTANCE_URL": server.url,
                "XANO_WORKSPACE_ID": str(credentials.XANO_WORKSPACE_ID),
                "XANO_METADATA_TOKEN": credentials.XANO_METADATA_TOKEN,
                "CLOUDFLARE_API_BASE_URL": f"{server.url}/client/v4",
                "CLOUDFLARE_API_TOKEN": credentials.CLOUDFLARE_API_TOKEN,
                "CLOUDFLARE_ACCOUNT_ID": credentials.CLOUDFLARE_ACCOUNT_ID,
                "MCPDEPLOY_WORKER_NAME": credentials.WORKER_NAME,
                "NO_COLOR": "1",
            })
            out: dict[str, float] = {}
            for label in ("fresh", "rerun"):
                before_calls, before_writes = len(box.requests), len(box.writes())
                started = time.perf_counter()
                with contextlib.redirect_stderr(io.StringIO()), contextlib.redirect_stdout(io.StringIO()):
                    code = run(["provision", "--yes", "--project-dir", str(project)])
                out[f"{label}_seconds"] = time.perf_counter() - started
                if code != 0:
                    raise SystemExit(f"{label} provision exited {code}")
                out[f"{label}_calls"] = len(box.requests) - before_calls
                out[f"{label}_writes"] = len(box.writes()) - before_writes
            return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    results = [one_run() for _ in range(args.runs)]
    for label in ("fresh", "rerun"):
        seconds = [r[f"{label}_seconds"] for r in results]
        print(
            f"{label:5}: {results[0][label + '_calls']:.0f} HTTP calls, {results[0][label + '_writes']:.0f} writes, "
            f"median {statistics.median(seconds) * 1000:.0f} ms (min {min(seconds) * 1000:.0f}, "
            f"max {max(seconds) * 1000:.0f}) over {args.runs} runs",
            file=sys.stdout,
        )


if __name__ == "__main__":
    main()
