"""Creates that converge when several runs create the same thing at once, or an answer is lost.

Two runners provisioning one workspace both plan "create api group mcp". Whether Xano refuses the second create
of a name or accepts it is not known, so both cases settle the same way: after a create, or when it was refused
or its answer never came, the objects of that name are listed again and the oldest (lowest id) is the one
everybody uses. A run whose own create lost that race deletes what it just made (it is empty: nothing has been
put in it yet) and adopts the winner; a create whose outcome is unknown and left nothing behind is reported as
the error it was, so the next run creates it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mcpdeploy.errors import ApiError, McpdeployError, ServiceUnreachable

# Answers to a create after which the object may exist all the same: refused as a duplicate (any 4xx but a
# missing permission or a rate limit, whose wording is not known), or no answer / a server error (the write may
# have happened).
_NOT_SETTLED_BY = frozenset({401, 403, 429})


def create_once(
    create: Callable[[], dict[str, Any]],
    find_all: Callable[[], list[dict[str, Any]]],
    delete: Callable[[int], None],
) -> tuple[dict[str, Any], bool]:
    """Create an object, or adopt the one of the same name that wins; returns (object, whether ours won)."""
    created: dict[str, Any] | None = None
    failure: McpdeployError | None = None
    try:
        created = create()
    except ServiceUnreachable as exc:
        failure = exc
    except ApiError as exc:
        if exc.status in _NOT_SETTLED_BY:
            raise
        failure = exc
    same_name = sorted(find_all(), key=_id)
    if not same_name:
        if created is not None:
            return created, True  # a Xano that does not list what it just made: trust the answer
        assert failure is not None
        raise failure
    winner = same_name[0]
    if created is not None and _id(created) != _id(winner):
        delete(_id(created))
        return winner, False
    return winner, created is not None and _id(created) == _id(winner)


def _id(item: dict[str, Any]) -> int:
    value = item.get("id")
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise ApiError(service="xano", method="GET", url="(objects listed by name)", status=200, code=None,
                   detail=f"an object without a numeric id (keys: {', '.join(sorted(map(str, item)))})")
