"""Measure how long commands wait on a hostile network, and what a huge answer costs: the figures that the tests
bound without timing anything.

    python3 benchmarks/network_waits.py [--timeout SECONDS] [--deadline SECONDS] [--defaults]

Each case runs the real CLI in a subprocess (wall time, exit code, retry lines, peak memory) against 127.0.0.1:
a dead host (a listener whose backlog is full, so connection attempts are never answered), a refused port, a
server that accepts and never answers, one that drips a byte every 0.5 s, an unresolvable name, and a 1 MB gzip
answer that expands to 1 GB. Then smoke-test's answer reading: a 4 MB JSON answer and a 50 MB one. `--defaults`
runs the waits with the built-in --timeout and --deadline (about 1 minute per stalled case) instead of the given ones.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.hostile_servers import Drip, Fixed, Silent, refused_port  # noqa: E402

# Runs the CLI and reports its peak memory on the last line of stderr: the child's own high-water mark.
CHILD = """
import resource, sys
from mcpdeploy.cli.app import run
code = run(sys.argv[1:])
sys.stderr.write("\\npeak_rss_kb=%d\\n" % resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
sys.exit(code)
"""


def cli(args: list[str], url: str, limits: list[str]) -> dict[str, object]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("XANO_", "CLOUDFLARE_", "MCPDEPLOY_", "MCP_"))}
    env.update({"XANO_INSTANCE_URL": url, "XANO_WORKSPACE_ID": "1", "XANO_METADATA_TOKEN": "bench-token-123456",
                "NO_COLOR": "1", "MCP_API_KEY": "bench-key-123456"})
    with tempfile.TemporaryDirectory() as project:
        started = time.monotonic()
        done = subprocess.run([sys.executable, "-c", CHILD, *args, *limits, "-C", project], env=env,
                              capture_output=True, text=True, timeout=900)
        seconds = time.monotonic() - started
    lines = done.stderr.splitlines()
    peak = next((int(line.split("=")[1]) for line in lines if line.startswith("peak_rss_kb=")), 0)
    errors = [line for line in lines if line.startswith("error:")]
    return {"seconds": round(seconds, 2), "exit": done.returncode, "peak_mb": round(peak / 1024),
            "retries": sum(line.startswith("retrying in ") for line in lines),
            "error": (errors[-1][:160] if errors else "")}


class DeadHost:
    """A listener whose accept queue is full and never drained: further connection attempts get no answer."""

    def __enter__(self) -> str:
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(0)
        port = self.listener.getsockname()[1]
        self.fillers = []
        for _ in range(4):  # fill the queue; these connect, later ones hang in SYN retransmission
            filler = socket.socket()
            filler.setblocking(False)
            filler.connect_ex(("127.0.0.1", port))
            self.fillers.append(filler)
        time.sleep(0.2)
        return f"http://127.0.0.1:{port}"

    def __exit__(self, *exc: object) -> None:
        for filler in self.fillers:
            filler.close()
        self.listener.close()


def gigabyte_of_zeros_gzipped() -> bytes:
    """Built a megabyte at a time: holding the gigabyte here would show up as the child's peak after fork."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    zeros = b"\0" * 1_000_000
    return b"".join([*(packer.compress(zeros) for _ in range(1000)), packer.flush()])


def smoke_reading() -> list[tuple[str, float, str]]:
    """smoke-test's reading of large answers, in-process: the time to read and understand them."""
    from mcpdeploy.providers.http import HttpOptions
    from mcpdeploy.providers.mcp_http import HttpCall, McpHttpClient, NoAnswer
    from mcpdeploy.smoke.mcp_client import read_reply, stop_when_answered

    figures = []
    big = json.dumps({"jsonrpc": "2.0", "id": 1, "result": {"tools": [{"name": "t" * 100}] * 35_000}}).encode()
    huge = b'{"jsonrpc":"2.0","id":1,"result":{"pad":"' + b"x" * 50_000_000 + b'"}}'
    sse = b"event: message\ndata: " + big + b"\n\n"
    for label, body, ctype in (("4 MB JSON answer", big, "application/json"),
                               ("4 MB SSE event", sse, "text/event-stream"),
                               ("50 MB JSON answer", huge, "application/json")):
        with Fixed(body, content_type=ctype) as server:
            client = McpHttpClient("bench-key-123456", HttpOptions(timeout=15))
            started = time.monotonic()
            try:
                answer = client.send(HttpCall("POST", server.url + "/mcp", body=b"{}"), stop_when_answered(1))
                reply = read_reply(answer, 1)
                outcome = "understood" if reply.message else f"problem: {reply.problem}"
            except NoAnswer as exc:
                outcome = exc.message
            figures.append((f"{label} ({len(body) / 1e6:.1f} MB)", time.monotonic() - started, outcome[:110]))
            client.close()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--timeout", default="5")
    parser.add_argument("--deadline", default="20")
    parser.add_argument("--defaults", action="store_true")
    given = parser.parse_args()
    limits = [] if given.defaults else ["--timeout", given.timeout, "--deadline", given.deadline]
    shown = "built-in defaults (--timeout 30, --deadline 300)" if given.defaults else " ".join(limits)
    print(f"mcpdeploy plan against hostile servers on 127.0.0.1, with {shown}:")
    print(f"{'case':<34} {'seconds':>8} {'exit':>5} {'retries':>8} {'peak MB':>8}  error")

    def row(case: str, figures: dict[str, object]) -> None:
        print(f"{case:<34} {figures['seconds']:>8} {figures['exit']:>5} {figures['retries']:>8} "
              f"{figures['peak_mb']:>8}  {figures['error']}")

    with DeadHost() as url:
        row("dead host (no answer to SYN)", cli(["plan"], url, limits))
    row("refused port", cli(["plan"], f"http://127.0.0.1:{refused_port()}", limits))
    row("unresolvable name (.invalid)", cli(["plan"], "http://mcpdeploy-bench.invalid", limits))
    with Silent() as server:
        row("accepts, never answers", cli(["plan"], server.url, limits))
    with Drip(interval=0.5) as server:
        row("drips 1 byte / 0.5 s", cli(["plan"], server.url, limits))
    bomb = gigabyte_of_zeros_gzipped()
    with Fixed(b"") as server:
        server.body = bomb
        server.head = (f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\n"
                       f"Content-Length: {len(bomb)}\r\nConnection: close\r\n\r\n").encode()
        row(f"gzip {len(bomb) / 1e6:.1f} MB -> 1 GB", cli(["plan"], server.url, limits))
    print("\nsmoke-test reading large answers (in-process):")
    for label, seconds, outcome in smoke_reading():
        print(f"  {label:<30} {seconds:6.2f} s  {outcome}")


if __name__ == "__main__":
    main()
