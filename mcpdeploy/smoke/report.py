"""The smoke report for machines: the `--json` document and the `--junit-xml` file.

Both hold every check. Each renderer returns text; callers pass it through the run's redactor before it leaves
the process, as a second guard behind the checks' own redaction.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

from mcpdeploy.smoke.curl import curl_command
from mcpdeploy.smoke.model import CheckResult, SmokeReport, Status

SUITE_NAME = "mcpdeploy smoke-test"


def reproducer(check: CheckResult) -> str | None:
    """The curl that repeats a failed or warned check; passing checks need none."""
    if check.reproducer is None or check.status in (Status.PASS, Status.SKIP):
        return None
    return curl_command(check.reproducer)


def report_document(report: SmokeReport) -> dict[str, Any]:
    """The `--json` document (`emit_json` adds `schema_version`). Keys are only ever added, never renamed."""
    return {
        "command": "smoke-test",
        "target": {"mcp_url": report.mcp_url, "xano_url": report.xano_url},
        "started_at": report.started_at,
        "duration_ms": _ms(report.seconds),
        "protocol": {
            "era": report.era or None,
            "version": report.protocol_version or None,
            "session": report.session,
            "response_formats": report.response_formats,
        },
        "server": report.server_info,
        "tools": report.tools,
        "checks": [_check_document(c) for c in report.checks],
        "summary": {
            "passed": report.count(Status.PASS),
            "failed": report.count(Status.FAIL),
            "warned": report.count(Status.WARN),
            "skipped": report.count(Status.SKIP),
            "exit_code": int(report.exit_code),
        },
    }


def _check_document(check: CheckResult) -> dict[str, Any]:
    http = None
    if check.http is not None:
        http = {"method": check.http.method, "url": check.http.url, "status": check.http.status,
                "content_type": check.http.content_type or None}
    return {
        "id": check.id,
        "title": check.title,
        "status": check.status.value,
        "duration_ms": _ms(check.seconds),
        "reason": check.reason,
        "http": http,
        "reproducer": reproducer(check),
    }


def junit_xml(report: SmokeReport) -> str:
    """One <testsuite>, one <testcase> per check: failures as <failure>, skips as <skipped>, warnings in
    <system-out> (JUnit has no warning state, and a warning must not turn a CI report red)."""
    suite = ET.Element("testsuite", {
        "name": SUITE_NAME,
        "tests": str(len(report.checks)),
        "failures": str(report.count(Status.FAIL)),
        "errors": "0",
        "skipped": str(report.count(Status.SKIP)),
        "time": f"{report.seconds:.3f}",
        "timestamp": report.started_at,
    })
    properties = ET.SubElement(suite, "properties")
    for name, value in (("mcp_url", report.mcp_url), ("xano_url", report.xano_url or ""),
                        ("protocol_era", report.era), ("protocol_version", report.protocol_version)):
        ET.SubElement(properties, "property", {"name": name, "value": value})
    for check in report.checks:
        case = ET.SubElement(suite, "testcase", {
            "classname": "mcpdeploy.smoke." + check.id.split(".")[0],
            "name": check.id,
            "time": f"{check.seconds:.3f}",
        })
        curl = reproducer(check)
        if check.status is Status.FAIL:
            failure = ET.SubElement(case, "failure", {"message": check.reason, "type": "check_failed"})
            failure.text = check.reason + (f"\n\nReproduce with:\n{curl}" if curl else "")
        elif check.status is Status.SKIP:
            ET.SubElement(case, "skipped", {"message": check.reason})
        else:
            out = ET.SubElement(case, "system-out")
            out.text = (f"warning: {check.reason}" + (f"\n\nReproduce with:\n{curl}" if curl else "")
                        if check.status is Status.WARN else check.reason)
    root = ET.Element("testsuites", {"name": SUITE_NAME, "tests": suite.get("tests", "0"),
                                     "failures": suite.get("failures", "0"), "time": suite.get("time", "0")})
    root.append(suite)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _ms(seconds: float) -> int:
    return round(seconds * 1000)
