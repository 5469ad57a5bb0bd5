"""Clock skew: this machine's clock against the `Date` header of the services' answers.

Tokens carry validity windows and signed requests carry timestamps, so a clock minutes off makes valid credentials
look expired or not yet valid. The header has a one-second resolution and the answer takes a moment to arrive,
which is far inside the thresholds below.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

from mcpdeploy.doctor.check import Check, ok, problem, warning
from mcpdeploy.exit_codes import ExitCode
from mcpdeploy.providers.http import Request, Response, Transport

WARN_AFTER = 60.0  # seconds
PROBLEM_AFTER = 300.0
SET_THE_CLOCK = ("Set this machine's clock right and keep it synchronised: turn network time on (Linux: "
                 "`timedatectl set-ntp true`; macOS and Windows: set date and time automatically).")


@dataclass(frozen=True)
class DatedAnswer:
    host: str
    skew: float  # seconds the service's clock is ahead of ours (negative: behind)


class DateRecorder(Transport):
    """Passes every exchange through and notes how far each answer's `Date` is from this machine's clock."""

    def __init__(self, inner: Transport) -> None:
        self._inner = inner
        self._lock = threading.Lock()
        self.answers: list[DatedAnswer] = []

    def handle_request(self, request: Request) -> Response:
        response = self._inner.handle_request(request)
        received = time.time()
        header = response.headers.get("date")
        if header:
            try:
                stamp = parsedate_to_datetime(header).timestamp()
            except (TypeError, ValueError):
                return response  # a malformed Date says nothing about the clock
            with self._lock:
                self.answers.append(DatedAnswer(request.url.host, stamp - received))
        return response

    def close(self) -> None:
        self._inner.close()


def _span(seconds: float) -> str:
    seconds = abs(seconds)
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def clock_check(answers: list[DatedAnswer]) -> Check:
    name = "clock"
    if not answers:
        return warning(name, "no service answer carried a Date header: the clock's skew was not measured")
    worst = max(answers, key=lambda a: abs(a.skew))
    # The service's clock ahead of ours means ours is behind.
    side = "behind" if worst.skew > 0 else "ahead of"
    detail = f"this machine's clock is {_span(worst.skew)} {side} {worst.host}'s"
    if abs(worst.skew) > PROBLEM_AFTER:
        return problem(name, detail + ": tokens and signed requests fail at this skew", SET_THE_CLOCK,
                       ExitCode.USAGE)
    if abs(worst.skew) > WARN_AFTER:
        return warning(name, detail, SET_THE_CLOCK)
    return ok(name, f"within {max(1, round(abs(worst.skew)))} s of the services' clocks ({len(answers)} answers)")
