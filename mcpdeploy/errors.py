"""The exception tree. Every error a user can cause is one of these, and carries its exit code and a hint.

    McpdeployError
    ├── UsageError                 bad flags, missing configuration
    ├── InputFileError             a local file is invalid (names the file and line)
    ├── ConfirmationRequired       no TTY and no --yes
    ├── ConfirmationDeclined       the person answered no
    ├── DestructiveChangeBlocked   the plan deletes or retypes something
    ├── LockHeld                   another run holds the lock
    ├── InconsistentResult         read back after apply, a service holds something other than what was sent
    └── ServiceError               talking to a remote service went wrong
        ├── ServiceUnreachable     DNS, refused connection, timeout
        ├── RateLimited            429 (or 5xx) persisted past the retries: safe to run again
        ├── ResponseTooLarge       an answer past the size cap (reading stopped there)
        └── ApiError               the service answered with an error (names the call and its answer)
            └── WriteOutcomeUnknown    a write answered 5xx: not re-sent, may have been applied; safe to run again

Messages never hold secret values: callers pass names, and `ApiError` texts go through the redactor.
"""

from __future__ import annotations

from pathlib import Path

from mcpdeploy.exit_codes import ExitCode


class McpdeployError(Exception):
    exit_code: ExitCode = ExitCode.ERROR

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message


class UsageError(McpdeployError):
    exit_code = ExitCode.USAGE


class ConfirmationRequired(UsageError):
    pass


class ConfirmationDeclined(McpdeployError):
    exit_code = ExitCode.DECLINED


class InputFileError(McpdeployError):
    """A local file is malformed. `line` is 1-based when known."""

    exit_code = ExitCode.INPUT_ERROR

    def __init__(self, path: Path | str, problem: str, *, line: int | None = None, hint: str | None = None) -> None:
        self.path = Path(path)
        self.line = line
        self.problem = problem
        where = f"{self.path}:{line}" if line else str(self.path)
        super().__init__(f"{where}: {problem}", hint=hint)


class DestructiveChangeBlocked(McpdeployError):
    exit_code = ExitCode.DESTRUCTIVE_BLOCKED


class LockHeld(McpdeployError):
    exit_code = ExitCode.LOCKED


class InconsistentResult(McpdeployError):
    """Terraform's "inconsistent result after apply": every write succeeded, but reading the objects back shows
    something else than what was sent. Planning again would send the same change forever, so the run stops
    here and says which object and what differs."""

    exit_code = ExitCode.INCONSISTENT_RESULT


class ServiceError(McpdeployError):
    exit_code = ExitCode.API_REJECTED


class ServiceUnreachable(ServiceError):
    exit_code = ExitCode.UNREACHABLE


class RateLimited(ServiceError):
    exit_code = ExitCode.TEMPORARY


class ApiError(ServiceError):
    """A remote API answered with an error: which call, what status, what the service said."""

    def __init__(
        self,
        *,
        service: str,
        method: str,
        url: str,
        status: int,
        code: str | None,
        detail: str,
        hint: str | None = None,
    ) -> None:
        self.service = service
        self.method = method
        self.url = url
        self.status = status
        self.code = code
        self.detail = detail
        code_part = f" {code}" if code else ""
        super().__init__(f"{service}: {method} {url} answered {status}{code_part}: {detail}", hint=hint)


class WriteOutcomeUnknown(ApiError):
    """A write answered 5xx. It is never re-sent blindly (it may have been applied), and it is an `ApiError` so
    callers that look the object up after a failed create keep doing so. Running the command again is safe: every
    step looks up what exists before it writes, so the exit code is the temporary one, not "refused"."""

    exit_code = ExitCode.TEMPORARY


class ResponseTooLarge(ServiceError):
    """An answer grew past the size cap, decoded; reading stopped there. Not a passing fault: running again gets
    the same answer, so the exit code is the one for an answer mcpdeploy cannot use."""
