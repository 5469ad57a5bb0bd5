"""The smoke test: each check sends what a real MCP client (or the Worker, for `auth/me`) would send, and says
in one line why it passed or failed. `run_smoke_test` is the entry point; it never raises for what the target
answers, only reports it.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable
from datetime import datetime, timezone

from mcpdeploy.providers.http import join_url
from mcpdeploy.providers.mcp_http import Credential, HttpAnswer, HttpCall, McpHttpClient, NoAnswer
from mcpdeploy.rollback.auth_switch import RESPONSE_HEADER as AUTH_SWITCH_HEADER
from mcpdeploy.rollback.auth_switch import SWITCH_SECRET
from mcpdeploy.smoke.diagnose import describe_body, explain_refusal, not_mcp_reason
from mcpdeploy.smoke.mcp_client import (
    LEGACY_VERSIONS,
    MODERN_VERSION,
    Exchange,
    McpClient,
    modern_error_code,
    read_reply,
)
from mcpdeploy.smoke.model import CheckResult, HttpSummary, SmokeOptions, SmokeReport, Status
from mcpdeploy.smoke.titles import CHECK_IDS, TITLES
from mcpdeploy.smoke.tool_checks import check_tools_call, check_tools_list

# Answers that mean "not deployed yet / cold start": worth waiting for under --wait-for.
NOT_READY_STATUSES = frozenset({502, 503, 504, *range(520, 531)})
WAIT_STEP = 1.0
# Told, before each pause of --wait-for: why the endpoint is not ready yet (redacted), the seconds until the next
# try, and the seconds of --wait-for left.
OnWait = Callable[[str, float, float], None]


class SmokeRun:
    """One run against one target; the checks share the client, the session and the clock."""

    def __init__(self, http: McpHttpClient, options: SmokeOptions, *, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep, on_wait: OnWait | None = None) -> None:
        self.http = http
        self.options = options
        self.clock = clock
        self.sleep = sleep
        self.on_wait = on_wait
        self.mcp = McpClient(http, options.mcp_url)
        self.report = SmokeReport(options.mcp_url, options.xano_url,
                                  datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"))

    def add(self, check: CheckResult, started: float) -> CheckResult:
        check.seconds = max(0.0, self.clock() - started)
        # Reasons quote what the target sent (tool names, messages): masked and escaped here once more, whole.
        check.reason = self.http.options.redactor.excerpt(check.reason)
        self.report.checks.append(check)
        return check

    def run(self) -> SmokeReport:
        began = self.clock()
        self.xano_checks()
        probe = self.reachable()
        if probe is None:
            for check_id in CHECK_IDS[CHECK_IDS.index("mcp.reachable") + 1:]:
                self.add(_check(check_id, Status.SKIP, "skipped: the MCP endpoint did not answer"), self.clock())
        else:
            self.auth_checks(probe)
            initialized = self.initialize()
            t = self.clock()
            self.add(check_tools_list(self.mcp, self.options, self.report, initialized), t)
            t = self.clock()
            self.add(check_tools_call(self.mcp, self.options, initialized), t)
            self.seed_curl()
            self.session_delete()
        state = self.mcp.state
        self.report.era = state.era
        self.report.protocol_version = state.protocol_version
        self.report.session = state.session_id is not None
        self.report.response_formats = sorted(state.response_formats)
        redactor = self.http.options.redactor
        self.report.server_info = {redactor.excerpt(str(k), 60): redactor.excerpt(v, 200) if isinstance(v, str) else v
                                   for k, v in state.server_info.items() if isinstance(v, (str, int, float))}
        self.report.seconds = self.clock() - began
        return self.report

    # --- Xano -------------------------------------------------------------------------------------------------

    def xano_checks(self) -> None:
        base = self.options.xano_url
        if not base:
            why = "skipped: no Xano auth URL (--xano-url, XANO_AUTH_URL or [smoke] xano_auth_url)"
            for check_id in ("xano.auth_me", "xano.auth_me.no_token"):
                self.add(_check(check_id, Status.SKIP, why), self.clock())
            return
        url = join_url(base, "auth/me")
        t = self.clock()
        call = HttpCall("GET", url, {"Accept": "application/json"})
        self.add(self._auth_me(call), t)
        t = self.clock()
        self.add(self._auth_me_no_token(HttpCall("GET", url, {"Accept": "application/json"}, b"",
                                                 Credential.NONE)), t)

    def _auth_me(self, call: HttpCall) -> CheckResult:
        check_id, title = "xano.auth_me", TITLES["xano.auth_me"]
        answer, failed = self._send(check_id, title, call)
        if answer is None:
            return failed  # type: ignore[return-value]
        http = _summary(call, answer)
        if answer.status != 200:
            hint = " (the key is not a valid Xano auth token)" if answer.status in (401, 403) else ""
            return CheckResult(check_id, title, Status.FAIL, f"answered {answer.status}: {describe_body(answer)}"
                               f"{hint}", http=http, reproducer=call)
        user = _json_body(answer)
        if not isinstance(user, dict) or "id" not in user:
            return CheckResult(check_id, title, Status.FAIL, "answered 200 but not with a JSON user object "
                               f"holding `id`: {describe_body(answer)}", http=http, reproducer=call)
        return CheckResult(check_id, title, Status.PASS, f"the key belongs to user id {user['id']}", http=http)

    def _auth_me_no_token(self, call: HttpCall) -> CheckResult:
        check_id, title = "xano.auth_me.no_token", TITLES["xano.auth_me.no_token"]
        answer, failed = self._send(check_id, title, call)
        if answer is None:
            return failed  # type: ignore[return-value]
        http = _summary(call, answer)
        if answer.status in (401, 403):
            return CheckResult(check_id, title, Status.PASS, f"refused with {answer.status}", http=http)
        if 200 <= answer.status < 300:
            return CheckResult(check_id, title, Status.FAIL, f"answered {answer.status} without a key: "
                               "auth/me is public (add authentication to the endpoint)", http=http, reproducer=call)
        return CheckResult(check_id, title, Status.FAIL, f"expected 401, got {answer.status}: "
                           f"{describe_body(answer)}", http=http, reproducer=call)

    # --- MCP: reachability and auth ---------------------------------------------------------------------------

    def reachable(self) -> HttpAnswer | None:
        """The no-key `initialize` probe, repeated under --wait-for while nothing (or a cold-start 5xx) answers."""
        check_id, title = "mcp.reachable", TITLES["mcp.reachable"]
        started = self.clock()
        deadline = started + self.options.wait_for
        call = self.mcp.initialize_call(Credential.NONE)
        attempts = 0
        while True:
            attempts += 1
            try:
                answer: HttpAnswer | None = self.http.send(call)
                error = ""
            except NoAnswer as exc:
                answer, error = None, exc.message
            waiting = answer is None or answer.status in NOT_READY_STATUSES
            remaining = deadline - self.clock()
            if not waiting or remaining <= 0:
                break
            pause = min(WAIT_STEP, remaining)
            if self.on_wait is not None:
                why = error if answer is None else \
                    f"{call.method} {self.http.redact(call.url)} answered {answer.status}"
                self.on_wait(why, pause, remaining)
            self.sleep(pause)
        tried = f" (after {attempts} attempts in {self.clock() - started:.1f}s)" if attempts > 1 else ""
        if answer is None:
            self.add(CheckResult(check_id, title, Status.FAIL, f"no answer: {error}{tried}",
                                 http=HttpSummary(call.method, call.url, None), reproducer=call, unreachable=True),
                     started)
            return None
        reason = not_mcp_reason(answer)
        http = _summary(call, answer)
        if reason:
            self.add(CheckResult(check_id, title, Status.FAIL, reason + tried, http=http, reproducer=call), started)
        else:
            self.add(CheckResult(check_id, title, Status.PASS, f"answered {answer.status} in "
                                 f"{answer.seconds * 1000:.0f} ms{tried}", http=http), started)
        return answer

    def auth_checks(self, no_token: HttpAnswer) -> None:
        t = self.clock()
        probe_call = self.mcp.initialize_call(Credential.NONE)
        self.add(_refusal_check(_pair("mcp.auth.no_token"), probe_call, no_token, "without a key"), t)
        t = self.clock()
        wrong_call = self.mcp.initialize_call(Credential.OTHER, "mcpdeploy-smoke-" + secrets.token_hex(12))
        wrong, failed = self._send(*_pair("mcp.auth.wrong_token"), wrong_call)
        if wrong is None:
            self.add(failed, t)  # type: ignore[arg-type]
        else:
            self.add(_refusal_check(_pair("mcp.auth.wrong_token"), wrong_call, wrong, "with a made-up key"), t)
        t = self.clock()
        self.add(_www_authenticate_check(probe_call, no_token, wrong), t)

    # --- MCP: handshake ---------------------------------------------------------------------------------------

    def initialize(self) -> bool:
        check_id, title = _pair("mcp.initialize")
        t = self.clock()
        try:
            modern = self.options.era == "modern"
            check = self._discover(detected=False) if modern else self._legacy_initialize()
        except NoAnswer as exc:
            check = CheckResult(check_id, title, Status.FAIL, exc.message, unreachable=False)
        self.add(check, t)
        return check.status in (Status.PASS, Status.WARN)

    def _legacy_initialize(self) -> CheckResult:
        check_id, title = _pair("mcp.initialize")
        exchange = self.mcp.send(self.mcp.initialize_call())
        reply = exchange.reply
        http = _summary(exchange.call, reply.answer)
        if self.options.era == "auto" and reply.answer.status >= 400 and modern_error_code(reply) is not None:
            return self._discover(detected=True)
        result = reply.result
        if reply.answer.status != 200 or result is None or "protocolVersion" not in result:
            why = reply.problem or (f"JSON-RPC error {describe_body(reply.answer)}" if reply.error else "")
            reason = explain_refusal(reply.answer) if reply.answer.status != 200 else f"answered 200 but {why}"
            return CheckResult(check_id, title, Status.FAIL, f"initialize: {reason}", http=http,
                               reproducer=exchange.call)
        self.mcp.adopt_legacy(exchange)
        state = self.mcp.state
        call, note = self.mcp.initialized_notification()
        name = state.server_info.get("name", "unnamed server")
        details = (f"{name} {state.server_info.get('version', '')}".strip() + f", protocol {state.protocol_version}"
                   f", {'session ' + 'id issued' if state.session_id else 'no session (stateless)'}"
                   f", answers in {reply.body_format.upper()}")
        if not 200 <= note.status < 300:
            return CheckResult(check_id, title, Status.WARN, f"{details}; but notifications/initialized answered "
                               f"{note.status}: {describe_body(note)}", http=http, reproducer=call)
        if state.protocol_version not in LEGACY_VERSIONS:
            return CheckResult(check_id, title, Status.WARN, f"{details}; the server chose a protocol version "
                               "mcpdeploy does not know", http=http)
        return CheckResult(check_id, title, Status.PASS, details, http=http)

    def _discover(self, *, detected: bool) -> CheckResult:
        check_id, title = _pair("mcp.initialize")
        exchange: Exchange = self.mcp.send(self.mcp.discover_call())
        reply = exchange.reply
        http = _summary(exchange.call, reply.answer)
        result = reply.result
        supported = (result or {}).get("supportedVersions")
        if reply.answer.status != 200 or result is None:
            reason = reply.problem if reply.answer.status == 200 else explain_refusal(reply.answer)
            return CheckResult(check_id, title, Status.FAIL, f"server/discover: {reason}", http=http,
                               reproducer=exchange.call)
        if isinstance(supported, list) and MODERN_VERSION not in supported:
            return CheckResult(check_id, title, Status.FAIL, f"the server supports {supported}, not "
                               f"{MODERN_VERSION} (nor answered initialize)", http=http, reproducer=exchange.call)
        self.mcp.adopt_modern(exchange)
        name = self.mcp.state.server_info.get("name", "unnamed server")
        how = "detected from its answer to initialize" if detected else "as asked"
        return CheckResult(check_id, title, Status.PASS, f"{name}: protocol {MODERN_VERSION} ({how}), "
                           "no session", http=http)

    # --- MCP: informational -----------------------------------------------------------------------------------

    def seed_curl(self) -> None:
        check_id, title = _pair("mcp.seed_curl")
        t = self.clock()
        call = self.mcp.seed_curl_call()
        answer, failed = self._send(check_id, title, call)
        if answer is None:
            assert failed is not None
            failed.status = Status.WARN
            self.add(failed, t)
            return
        http = _summary(call, answer)
        tools = (read_reply(answer, 1).result or {}).get("tools") if answer.status == 200 else None
        if isinstance(tools, list):
            status = Status.PASS
            reason = f"answered 200 with {len(tools)} tool(s): this server accepts requests without the handshake"
        elif answer.status == 200:
            status, reason = Status.WARN, f"answered 200 but not with a tools/list result: {describe_body(answer)}"
        elif answer.status in (400, 406, 415):
            status = Status.PASS
            reason = (f"refused as a spec-following server may: {explain_refusal(answer)}. Not a fault; "
                      "smoke-test does the handshake real clients do")
        else:
            status, reason = Status.WARN, f"unexpected answer: {explain_refusal(answer)}"
        self.add(CheckResult(check_id, title, status, reason, http=http,
                             reproducer=call if status is Status.WARN else None), t)

    def session_delete(self) -> None:
        check_id, title = _pair("mcp.session_delete")
        t = self.clock()
        if not self.mcp.state.session_id:
            self.add(CheckResult(check_id, title, Status.SKIP, "skipped: the server issued no session"), t)
            return
        call = self.mcp.delete_session_call()
        answer, failed = self._send(check_id, title, call)
        if answer is None:
            assert failed is not None
            failed.status = Status.WARN
            self.add(failed, t)
            return
        ok = answer.status in (200, 202, 204, 404, 405)
        status = Status.PASS if ok else Status.WARN
        reason = f"answered {answer.status}" + ("" if ok else f": {describe_body(answer)}")
        self.add(CheckResult(check_id, title, status, reason, http=_summary(call, answer),
                             reproducer=None if ok else call), t)

    def _send(self, check_id: str, title: str, call: HttpCall) -> tuple[HttpAnswer | None, CheckResult | None]:
        try:
            return self.http.send(call), None
        except NoAnswer as exc:
            unreachable = check_id.startswith("xano.")
            return None, CheckResult(check_id, title, Status.FAIL, exc.message, reproducer=call,
                                     http=HttpSummary(call.method, call.url, None), unreachable=unreachable)


def run_smoke_test(http: McpHttpClient, options: SmokeOptions, *, clock: Callable[[], float] = time.monotonic,
                   sleep: Callable[[float], None] = time.sleep, on_wait: OnWait | None = None) -> SmokeReport:
    return SmokeRun(http, options, clock=clock, sleep=sleep, on_wait=on_wait).run()


def _refusal_check(check: tuple[str, str], call: HttpCall, answer: HttpAnswer, how: str) -> CheckResult:
    check_id, title = check
    http = _summary(call, answer)
    if answer.status == 401:
        return CheckResult(check_id, title, Status.PASS, f"refused {how} with 401", http=http)
    if answer.status == 403:
        return CheckResult(check_id, title, Status.WARN, f"refused {how} with 403; the spec asks for 401 "
                           "(403 means insufficient scope)", http=http, reproducer=call)
    switched_off_until = answer.headers.get(AUTH_SWITCH_HEADER)
    if 200 <= answer.status < 300 and switched_off_until:
        # The Worker says why it let us in (templates/worker/auth-switch.mjs): deliberate, temporary, but loud.
        return CheckResult(check_id, title, Status.WARN, f"initialize {how} answered {answer.status}: authentication "
                           f"is switched OFF until {switched_off_until} ({SWITCH_SECRET}); turn it back on with "
                           "`mcpdeploy auth enable`", http=http)
    if 200 <= answer.status < 300:
        return CheckResult(check_id, title, Status.FAIL, f"initialize {how} answered {answer.status}: the MCP "
                           "endpoint is public; check the Worker's auth middleware", http=http, reproducer=call)
    return CheckResult(check_id, title, Status.FAIL, f"initialize {how}: expected 401, got {answer.status}: "
                       f"{describe_body(answer)}", http=http, reproducer=call)


def _www_authenticate_check(call: HttpCall, no_token: HttpAnswer, wrong: HttpAnswer | None) -> CheckResult:
    check_id, title = _pair("mcp.auth.www_authenticate")
    answer = next((a for a in (no_token, wrong) if a is not None and a.status == 401), None)
    if answer is None:
        return CheckResult(check_id, title, Status.SKIP, "skipped: no 401 answer to inspect")
    header = answer.headers.get("www-authenticate", "")
    http = _summary(call, answer)
    if not header:
        return CheckResult(check_id, title, Status.WARN, "the 401 has no WWW-Authenticate header; MCP clients "
                           'expect `WWW-Authenticate: Bearer ...` (e.g. Bearer realm="mcp")', http=http,
                           reproducer=call)
    if not header.lower().startswith("bearer"):
        return CheckResult(check_id, title, Status.WARN, f"WWW-Authenticate is '{answer.excerpt(header, 60)}', "
                           "not a Bearer challenge", http=http, reproducer=call)
    extra = "; advertises resource_metadata" if "resource_metadata" in header else ""
    return CheckResult(check_id, title, Status.PASS, f"Bearer challenge present{extra}", http=http)


def _summary(call: HttpCall, answer: HttpAnswer) -> HttpSummary:
    return HttpSummary(call.method, call.url, answer.status, answer.content_type)


def _json_body(answer: HttpAnswer) -> object:
    try:
        return json.loads(answer.text)
    except ValueError:
        return None




def _pair(check_id: str) -> tuple[str, str]:
    return check_id, TITLES[check_id]


def _check(check_id: str, status: Status, reason: str) -> CheckResult:
    return CheckResult(check_id, TITLES[check_id], status, reason)
