"""The Worker middleware (templates/worker/auth-switch.mjs) under Node: it reads MCP_AUTH_DISABLED_UNTIL by the
same rules as mcpdeploy (auth off only while now < expiry; absent, malformed or too far ahead: on), logs every
request it lets through, and marks the response."""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from mcpdeploy.rollback.auth_switch import disabled_until, encode_expiry

pytestmark = [
    pytest.mark.node,
    pytest.mark.skipif(shutil.which("node") is None, reason="node is not on PATH"),
]

MIDDLEWARE = Path(__file__).resolve().parents[2] / "templates" / "worker" / "auth-switch.mjs"
NOW = datetime(2026, 11, 23, 3, 0, 0, tzinfo=timezone.utc)
RUNNER = """
import { authBypass, disabledUntil, markBypassed } from %s;
const input = JSON.parse(await new Response(process.stdin).text());
const warnings = [];
console.warn = (line) => warnings.push(line);
const decisions = input.values.map((value) => {
  const until = disabledUntil(value, input.nowMs);
  return until === null ? null : until.toISOString();
});
const request = new Request("https://mcp.example.com/mcp?api_key=in-the-query", { method: "POST" });
const env = { MCP_AUTH_DISABLED_UNTIL: input.switchValue };
const bypass = authBypass(request, env, input.nowMs);
let header = null;
if (bypass) {
  const upstream = new Response("ok", { headers: { "content-type": "text/plain" } });
  header = markBypassed(upstream, bypass).headers.get("MCP-Auth-Disabled-Until");
}
process.stdout.write(JSON.stringify({ decisions, bypass: bypass && bypass.toISOString(), header, warnings }));
"""
VALUES: list[str | None] = [
    None, "", "soon", "2026-11-23T03:15:00Z", "-1", "1e10", "12.5",
    encode_expiry(NOW + timedelta(minutes=15)),
    f" {encode_expiry(NOW + timedelta(minutes=15))}\n",
    encode_expiry(NOW),  # expires exactly now: auth is on
    encode_expiry(NOW - timedelta(seconds=1)),
    encode_expiry(NOW + timedelta(hours=24)),
    encode_expiry(NOW + timedelta(hours=24, seconds=1)),
    str(int((NOW + timedelta(minutes=5)).timestamp() * 1000)),  # milliseconds by mistake
]


def run_middleware(tmp_path: Path, switch_value: str | None) -> dict[str, Any]:
    script = tmp_path / "run.mjs"
    script.write_text(RUNNER % json.dumps(MIDDLEWARE.as_uri()))
    payload = json.dumps({"values": VALUES, "nowMs": NOW.timestamp() * 1000, "switchValue": switch_value})
    done = subprocess.run(["node", str(script)], input=payload, capture_output=True, text=True, check=True)
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def test_node_and_python_read_every_value_the_same_way(tmp_path: Path) -> None:
    result = run_middleware(tmp_path, None)

    expected = [until.isoformat().replace("+00:00", ".000Z") if until else None
                for until in (disabled_until(v, NOW) for v in VALUES)]
    assert result["decisions"] == expected
    assert expected.count(None) == len(VALUES) - 3  # only the 15-minute values and the 24-hour edge turn it off


def test_a_request_let_through_is_logged_and_its_response_marked(tmp_path: Path) -> None:
    result = run_middleware(tmp_path, encode_expiry(NOW + timedelta(minutes=15)))

    assert result["bypass"] == "2026-11-23T03:15:00.000Z"
    assert result["header"] == "2026-11-23T03:15:00Z"
    (warning,) = result["warnings"]
    assert "authentication is OFF until 2026-11-23T03:15:00.000Z" in warning
    assert "POST /mcp" in warning and "mcpdeploy auth enable" in warning
    assert "in-the-query" not in warning


def test_without_the_switch_auth_applies_and_nothing_is_logged(tmp_path: Path) -> None:
    result = run_middleware(tmp_path, None)
    assert (result["bypass"], result["header"], result["warnings"]) == (None, None, [])


def test_a_malformed_switch_keeps_auth_on_and_says_so(tmp_path: Path) -> None:
    result = run_middleware(tmp_path, "2026-11-23T03:15:00Z")
    assert result["bypass"] is None
    assert result["warnings"] == ["auth switch: ignoring a malformed MCP_AUTH_DISABLED_UNTIL (expected epoch "
                                  "seconds); auth is on"]
