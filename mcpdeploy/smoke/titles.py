"""Every check id, in the order checks run and are reported, with its short title."""

from __future__ import annotations

TITLES: dict[str, str] = {
    "xano.auth_me": "Xano auth/me accepts the key",
    "xano.auth_me.no_token": "Xano auth/me refuses no key",
    "mcp.reachable": "MCP endpoint answers",
    "mcp.auth.no_token": "MCP refuses no key",
    "mcp.auth.wrong_token": "MCP refuses a wrong key",
    "mcp.auth.www_authenticate": "401 carries a Bearer challenge",
    "mcp.initialize": "MCP handshake",
    "mcp.tools_list": "tools/list",
    "mcp.tools_call": "tools/call",
    "mcp.seed_curl": "checklist curl as written (information)",
    "mcp.session_delete": "session closed with DELETE",
}
CHECK_IDS = tuple(TITLES)
