"""Exit codes: stable, documented in the README, one meaning each, so CI can branch on them."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    ERROR = 1  # unexpected failure (a bug): please report it
    CHANGES_PRESENT = 2  # only `plan --detailed-exitcode`: the plan has changes
    DESTRUCTIVE_BLOCKED = 3  # the plan holds destructive changes and --allow-destructive was not given
    LOCKED = 4  # another run holds the environment's lock
    CHECKS_FAILED = 5  # smoke-test: at least one check failed; doctor: something it looked for is missing
    API_REJECTED = 6  # a remote API refused the request (auth, validation, conflict)
    UNREACHABLE = 7  # a service could not be reached at all (DNS, refused, timeout)
    INPUT_ERROR = 8  # a local file is invalid or cannot be written (schema, wrangler.toml, .dev.vars, mcpdeploy.toml)
    DECLINED = 9  # the person answered no at the confirmation: nothing was changed
    STALE_PLAN = 10  # provision --plan FILE: what exists changed since the plan was saved; nothing was changed
    INCONSISTENT_RESULT = 11  # a service stored something other than what was sent: checked after apply
    DEGRADED = 12  # status: every source was read and a finding stands (usage stalled, errors, backlog growing)
    USAGE = 64  # bad flags or configuration missing (sysexits EX_USAGE)
    TEMPORARY = 75  # rate limited or retries exhausted: safe to run again (sysexits EX_TEMPFAIL)
    INTERRUPTED = 130  # Ctrl-C
