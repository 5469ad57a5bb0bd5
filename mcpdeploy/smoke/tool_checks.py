"""`mcp.tools_list` and `mcp.tools_call`: what the server offers, and whether one tool actually works."""

from __future__ import annotations

from typing import Any

from mcpdeploy.providers.mcp_http import HttpAnswer, NoAnswer
from mcpdeploy.smoke.diagnose import describe_body, explain_refusal
from mcpdeploy.smoke.mcp_client import Exchange, McpClient
from mcpdeploy.smoke.model import CheckResult, HttpSummary, SmokeOptions, SmokeReport, Status
from mcpdeploy.smoke.titles import TITLES

MAX_PAGES = 20  # a server whose cursors never end must not keep the smoke test busy
SHOWN_TOOLS = 8


def check_tools_list(mcp: McpClient, options: SmokeOptions, report: SmokeReport, initialized: bool) -> CheckResult:
    check_id = "mcp.tools_list"
    if not initialized:
        return CheckResult(check_id, TITLES[check_id], Status.SKIP, "skipped: the handshake failed")
    tools: list[dict[str, Any]] = []
    cursor: str | None = None
    exchange: Exchange | None = None
    for _ in range(MAX_PAGES):
        try:
            exchange = _request_reinitializing(mcp, "tools/list", {"cursor": cursor} if cursor else {})
        except NoAnswer as exc:
            return CheckResult(check_id, TITLES[check_id], Status.FAIL, exc.message,
                               reproducer=mcp.request_call("tools/list", {}))
        failure = _rpc_failure(check_id, exchange)
        if failure:
            return failure
        page = (exchange.reply.result or {}).get("tools")
        if not isinstance(page, list):
            return _fail(check_id, exchange, "the result has no `tools` array: " + describe_body(exchange.reply.answer))
        tools.extend(t for t in page if isinstance(t, dict))
        next_cursor = (exchange.reply.result or {}).get("nextCursor")
        if not isinstance(next_cursor, str) or not next_cursor:
            break
        cursor = next_cursor
    assert exchange is not None
    names = [str(t.get("name", "")) for t in tools]
    report.tools = [mcp.http.options.redactor.excerpt(n) for n in names]
    http = _summary(exchange)
    missing = [n for n in options.expect_tools if n not in names]
    if missing:
        return _fail(check_id, exchange, f"missing expected tool(s) {', '.join(missing)}; the server lists "
                     f"{_shown(names) or 'none'}")
    if options.min_tools is not None and len(names) < options.min_tools:
        return _fail(check_id, exchange, f"{len(names)} tool(s), fewer than --min-tools {options.min_tools}")
    if not names:
        return CheckResult(check_id, TITLES[check_id], Status.WARN, "the server lists no tools (pass --min-tools 1 "
                           "to make this a failure)", http=http, reproducer=exchange.call)
    return CheckResult(check_id, TITLES[check_id], Status.PASS, f"{len(names)} tool(s): {_shown(names)}", http=http)


def check_tools_call(mcp: McpClient, options: SmokeOptions, initialized: bool) -> CheckResult:
    check_id = "mcp.tools_call"
    if not options.call_tool:
        return CheckResult(check_id, TITLES[check_id], Status.SKIP, "skipped: no --call-tool given")
    if not initialized:
        return CheckResult(check_id, TITLES[check_id], Status.SKIP, "skipped: the handshake failed")
    params = {"name": options.call_tool, "arguments": options.tool_args}
    try:
        exchange = _request_reinitializing(mcp, "tools/call", params)
    except NoAnswer as exc:
        return CheckResult(check_id, TITLES[check_id], Status.FAIL, exc.message,
                           reproducer=mcp.request_call("tools/call", params))
    failure = _rpc_failure(check_id, exchange)
    if failure:
        return failure
    result = exchange.reply.result or {}
    excerpt = _content_excerpt(result, exchange.reply.answer)
    if result.get("isError") is True:
        return _fail(check_id, exchange, f"{options.call_tool} returned isError: {excerpt or 'no message'}")
    return CheckResult(check_id, TITLES[check_id], Status.PASS,
                       f"{options.call_tool} answered: {excerpt or 'no text content'}", http=_summary(exchange))


def _request_reinitializing(mcp: McpClient, method: str, params: dict[str, Any]) -> Exchange:
    """Send a request; on 404 for our session (the server forgot it), initialize again once, as the spec asks."""
    exchange = mcp.request(method, params)
    if exchange.reply.answer.status == 404 and mcp.state.session_id:
        again = mcp.send(mcp.initialize_call())
        if again.reply.result is not None:
            mcp.adopt_legacy(again)
            mcp.initialized_notification()
            exchange = mcp.request(method, params)
    return exchange


def _rpc_failure(check_id: str, exchange: Exchange) -> CheckResult | None:
    reply = exchange.reply
    if reply.answer.status != 200:
        return _fail(check_id, exchange, explain_refusal(reply.answer))
    if reply.message is None:
        return _fail(check_id, exchange, f"answered 200 but {reply.problem}")
    if reply.error is not None:
        return _fail(check_id, exchange, f"JSON-RPC error {reply.answer.excerpt(str(reply.error.get('code', '')), 40)} "
                     f"{reply.answer.excerpt(str(reply.error.get('message', '')), 160)}")
    if reply.result is None:
        return _fail(check_id, exchange, "the response has no result object")
    return None


def _fail(check_id: str, exchange: Exchange, reason: str) -> CheckResult:
    return CheckResult(check_id, TITLES[check_id], Status.FAIL, reason, http=_summary(exchange),
                       reproducer=exchange.call)


def _summary(exchange: Exchange) -> HttpSummary:
    answer = exchange.reply.answer
    return HttpSummary(exchange.call.method, exchange.call.url, answer.status, answer.content_type)


def _shown(names: list[str]) -> str:
    more = f" and {len(names) - SHOWN_TOOLS} more" if len(names) > SHOWN_TOOLS else ""
    return ", ".join(names[:SHOWN_TOOLS]) + more


def _content_excerpt(result: dict[str, Any], answer: HttpAnswer) -> str:
    content = result.get("content")
    texts = [str(c.get("text", "")) for c in content if isinstance(c, dict) and c.get("type") == "text"] \
        if isinstance(content, list) else []
    return answer.excerpt(" ".join(texts), 120)
