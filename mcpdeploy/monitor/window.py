"""The time window `status` looks at (`--since 1h|24h|7d`) and the intervals its sparklines are drawn in."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from mcpdeploy.errors import UsageError

# label -> (length, interval of a sparkline bar, the analytics time dimension the series is asked in)
WINDOWS: dict[str, tuple[timedelta, timedelta, str]] = {
    "1h": (timedelta(hours=1), timedelta(minutes=5), "datetimeMinute"),
    "24h": (timedelta(hours=24), timedelta(hours=1), "datetimeHour"),
    "7d": (timedelta(days=7), timedelta(hours=6), "datetimeHour"),
}


@dataclass(frozen=True)
class Window:
    label: str
    start: datetime
    end: datetime
    interval: timedelta
    time_dimension: str

    @property
    def buckets(self) -> int:
        return int((self.end - self.start) / self.interval)

    def bucket_of(self, moment: datetime) -> int | None:
        """The index of the interval `moment` falls in, or None outside the window."""
        if moment < self.start or moment > self.end:
            return None
        return min(int((moment - self.start) / self.interval), self.buckets - 1)

    def spread(self, points: list[tuple[datetime, float]]) -> list[float]:
        """Values per interval, summed, oldest first; intervals with nothing are 0."""
        values = [0.0] * self.buckets
        for moment, value in points:
            index = self.bucket_of(moment)
            if index is not None:
                values[index] += value
        return values


def parse_since(text: str, now: datetime | None = None) -> Window:
    if text not in WINDOWS:
        raise UsageError(f"--since {text!r}: choose one of {', '.join(WINDOWS)}")
    length, interval, dimension = WINDOWS[text]
    moment = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
    # Analytics filters take whole seconds: the end is rounded up so that what happened this second counts.
    end = moment.replace(microsecond=0) + (timedelta(seconds=1) if moment.microsecond else timedelta(0))
    return Window(text, end - length, end, interval, dimension)


def parse_time(text: str) -> datetime | None:
    """An analytics time dimension value ("2026-05-04T18:00:00Z", or a date) as a UTC datetime."""
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def from_ms(value: object) -> datetime | None:
    """A Xano timestamp (epoch milliseconds) as a UTC datetime; None for anything else."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        return datetime.fromtimestamp(value / 1000, timezone.utc)
    except (OverflowError, OSError, ValueError):
        return None
