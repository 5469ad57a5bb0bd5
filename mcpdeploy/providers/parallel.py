"""Independent calls at once, their results in the order they were asked for whatever finished first."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")


def run_all(calls: Sequence[Callable[[], T]], workers: int) -> list[T]:
    """Each call's result, in order. With one worker (or one call) they run here, one after another. Every call
    is let finish before a failure is raised, and the failure raised is the first in order, so a run that fails
    fails the same way however the calls interleaved."""
    if workers <= 1 or len(calls) <= 1:
        return [call() for call in calls]
    with ThreadPoolExecutor(max_workers=min(workers, len(calls))) as pool:
        futures = [pool.submit(call) for call in calls]
    return [future.result() for future in futures]
