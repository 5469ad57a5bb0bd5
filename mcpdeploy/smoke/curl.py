"""A copy-pasteable curl command that repeats one smoke-test request, with the key as `$MCP_API_KEY`."""

from __future__ import annotations

from mcpdeploy.providers.mcp_http import Credential, HttpCall

KEY_VARIABLE = "MCP_API_KEY"


def shell_quote(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'"


def curl_command(call: HttpCall) -> str:
    """`curl -i ...` for a POSIX shell. The key is left to the shell to expand, so it is never in the text."""
    parts = ["curl", "-i", "-N" if call.method == "POST" else "", f"-X {call.method}" if call.method not in
             ("GET", "POST") else "", shell_quote(call.url)]
    lines = [" ".join(p for p in parts if p)]
    if call.credential is Credential.KEY:
        lines.append(f'-H "Authorization: Bearer ${KEY_VARIABLE}"')
    elif call.credential is Credential.OTHER:
        lines.append("-H " + shell_quote(f"Authorization: Bearer {call.other_token}"))
    lines.extend("-H " + shell_quote(f"{name}: {value}") for name, value in call.headers.items())
    if call.body:
        lines.append("--data-raw " + shell_quote(call.body.decode("utf-8", errors="replace")))
    return " \\\n  ".join(lines)
