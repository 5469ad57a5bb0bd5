"""Creates that converge when several runs create the same thing at once, or an answer is lost.

Two runners provisioning one workspace both plan "create api group mcp"; the second create of a name is refused
(Xano keeps table names, group names and routes unique). When a create is refused, or its answer never came (the
write may have happened), the objects of that name are listed again: the oldest (lowest id) is the one the run
adopts. A create whose outcome is unknown and that left nothing behind is reported as the error it was, so the
next run makes it. Should a Xano ever accept the second create, planning reports the copies and how to remove
them; a successful create is not followed by a list call, which would cost every run a request per object.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mcpdeploy.errors import ApiError, McpdeployError, ServiceUnreachable
from mcpdeploy.providers.xano_models import by_id

# Answers to a create after which the object may exist all the same: refused as a duplicate (any 4xx but a
# missing permission or a rate limit, whose wording is not known), or no answer / a server error (the write may
# have happened).
_NOT_SETTLED_BY = frozenset({401, 403, 429})


def create_once(
    create: Callable[[], dict[str, Any]],
    find_all: Callable[[], list[dict[str, Any]]],
) -> tuple[dict[str, Any], bool]:
    """Create an object, or adopt the oldest one of its name when the create was refused or its answer lost;
    returns (object, whether this call created it)."""
    try:
        return create(), True
    except ServiceUnreachable as exc:
        failure: McpdeployError = exc
    except ApiError as exc:
        if exc.status in _NOT_SETTLED_BY:
            raise
        failure = exc
    same_name = sorted(find_all(), key=by_id)
    if not same_name:
        raise failure
    # Refused: another run made it. Lost on the way back (no answer, a server error): this run most likely made
    # it, and saying so lets `rollback --run` offer to remove it.
    refused = isinstance(failure, ApiError) and failure.status < 500
    return same_name[0], not refused

