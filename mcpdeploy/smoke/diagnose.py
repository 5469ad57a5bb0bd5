"""Plain-words explanations of HTTP answers that are not what an MCP client hoped for."""

from __future__ import annotations

import html
import json
import re

from mcpdeploy.providers.mcp_http import HttpAnswer

_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.I | re.S)
_CF_ERROR = re.compile(r"error(?:\s|&nbsp;|code:?\s*)*(1\d{3}|5\d\d)", re.I)
MAX_DETAIL = 160


def html_page_title(answer: HttpAnswer) -> str | None:
    match = _TITLE.search(answer.text)
    return answer.excerpt(html.unescape(match.group(1)), MAX_DETAIL) if match else None


def cloudflare_error(answer: HttpAnswer) -> str | None:
    """'Cloudflare error 1101' and the like, when the answer is Cloudflare's own error page, not the Worker's."""
    text = answer.text
    # Cloudflare fronts every Worker, so its name in a header proves nothing on a 2xx page of the Worker's own.
    error_page = answer.content_type == "text/html" and answer.status >= 400
    is_cloudflare = "cf-error-details" in text or (error_page and (
        "cloudflare" in answer.headers.get("server", "").lower() or "cloudflare" in text.lower()))
    if not is_cloudflare:
        return None
    match = _CF_ERROR.search(html_page_title(answer) or "") or _CF_ERROR.search(text)
    code = match.group(1) if match else str(answer.status)
    title = html_page_title(answer)
    return f"Cloudflare error {code}" + (f" ({title})" if title else "") + ": " + _cloudflare_hint(code)


def _cloudflare_hint(code: str) -> str:
    hints = {
        "1101": "the Worker threw an exception; see `wrangler tail`",
        "1102": "the Worker exceeded its CPU or memory limit",
        "1042": "the Worker fetched its own URL or another Worker on the same zone",
        "522": "Cloudflare could not connect to the origin",
        "530": "the hostname does not resolve to a deployed Worker",
    }
    return hints.get(code, "the request did not reach a working Worker")


def describe_body(answer: HttpAnswer) -> str:
    """A short, single-line excerpt of a body: the JSON-RPC or Xano error message when there is one."""
    text = answer.text.strip()
    if not text:
        return "empty body"
    if answer.content_type == "text/html":
        title = html_page_title(answer)
        return f"an HTML page{f' titled {title!r}' if title else ''}"
    try:
        decoded = json.loads(text)
    except ValueError:
        decoded = None
    if isinstance(decoded, dict):
        error = decoded.get("error")
        if isinstance(error, dict) and "message" in error:
            return answer.excerpt(f"{error.get('code', '')} {error['message']}".strip(), MAX_DETAIL)
        if isinstance(error, str):
            return answer.excerpt(f"{error}: {decoded.get('error_description', '')}".strip(": "), MAX_DETAIL)
        if "message" in decoded:
            return answer.excerpt(f"{decoded.get('code', '')} {decoded['message']}".strip(), MAX_DETAIL)
    return answer.excerpt(text, MAX_DETAIL)


def not_mcp_reason(answer: HttpAnswer) -> str | None:
    """Why this answer cannot come from an MCP endpoint (an error page, a placeholder site), or None."""
    cf = cloudflare_error(answer)
    if cf:
        return cf
    if answer.content_type == "text/html":
        title = html_page_title(answer)
        return (f"answered {answer.status} with an HTML page{f' titled {title!r}' if title else ''}: "
                "this URL serves a web page, not an MCP endpoint (wrong route, or a placeholder Worker?)")
    if answer.status >= 500:
        return (f"answered {answer.status} {answer.excerpt(answer.reason, 60)}: {describe_body(answer)} "
                "(the server failed)")
    return None


def explain_refusal(answer: HttpAnswer) -> str:
    """Why a correct MCP server may refuse a request that skips the protocol's rules."""
    detail = describe_body(answer)
    lowered = detail.lower()
    if answer.status == 406:
        why = "the server requires `Accept: application/json, text/event-stream`, which curl does not send"
    elif answer.status == 400 and ("session" in lowered or "not initialized" in lowered):
        why = "the server needs the `initialize` handshake first, then the Mcp-Session-Id it returns"
    elif answer.status == 400 and any(str(code) in detail for code in (-32020, -32021, -32022, -32602)):
        why = "the server speaks the 2026-07-28 revision, which needs `_meta` and the MCP-* headers"
    elif answer.status == 415:
        why = "the server requires `Content-Type: application/json`"
    elif answer.status in (401, 403):
        why = "the key was refused"
    else:
        why = "unexpected for a working MCP server"
    return f"{answer.status} {detail}: {why}"
