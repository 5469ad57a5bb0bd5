"""GitHub Actions output: `::error`/`::warning` workflow commands and a Markdown step summary.

The commands go to stderr (the runner reads workflow commands on both streams), so `--json` keeps stdout to
itself.
"""

from __future__ import annotations

from mcpdeploy.smoke.model import SmokeReport, Status
from mcpdeploy.smoke.report import reproducer

_ICONS = {Status.PASS: "✅ pass", Status.FAIL: "❌ fail", Status.WARN: "⚠️ warn", Status.SKIP: "⏭️ skip"}


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def workflow_commands(report: SmokeReport) -> list[str]:
    lines = []
    for check in report.checks:
        if check.status not in (Status.FAIL, Status.WARN):
            continue
        command = "error" if check.status is Status.FAIL else "warning"
        title = _escape_property(f"smoke-test {check.id}")
        lines.append(f"::{command} title={title}::{_escape_data(check.reason)}")
    return lines


def step_summary(report: SmokeReport) -> str:
    """A Markdown section for $GITHUB_STEP_SUMMARY: the verdict, the checks, and the curl for each failure."""
    server = report.server_info.get("name", "")
    lines = [
        f"### mcpdeploy smoke-test: {'passed' if not report.count(Status.FAIL) else 'FAILED'}",
        "",
        f"Target `{report.mcp_url}`" + (f", server {server}" if server else "")
        + (f", protocol {report.protocol_version} ({report.era})" if report.protocol_version else ""),
        "",
        "| check | status | ms | reason |",
        "| --- | --- | ---: | --- |",
    ]
    for check in report.checks:
        lines.append(f"| `{check.id}` | {_ICONS[check.status]} | {round(check.seconds * 1000)} | "
                     f"{_cell(check.reason)} |")
    lines += ["", f"**{report.summary_line()}**", ""]
    for check in report.checks:
        curl = reproducer(check)
        if curl and check.status is Status.FAIL:
            lines += [f"<details><summary>Reproduce <code>{check.id}</code></summary>", "", "```sh", curl, "```",
                      "", "</details>", ""]
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")
