"""The dashboard `status` draws on stderr: the verdict and its findings first, then the Worker, the queue and the
Xano tables, with sparklines of requests and usage per interval. Built as a rich renderable, so `--watch` can
redraw it in place."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mcpdeploy.monitor.model import Health, Source

if TYPE_CHECKING:
    from rich.console import RenderableType

BARS = "▁▂▃▄▅▆▇█"
_VERDICT_STYLE = {"healthy": "green", "degraded": "yellow", "unreachable": "red"}
_SEVERITY = {"critical": "✗", "warning": "!", "info": "·"}


def sparkline(values: list[float]) -> str:
    """One bar per value, scaled to the largest; all zero is a flat line, not an empty one."""
    if not values:
        return ""
    top = max(values)
    if top <= 0:
        return BARS[0] * len(values)
    return "".join(BARS[min(len(BARS) - 1, int(v / top * (len(BARS) - 1) + 0.5))] if v > 0 else BARS[0]
                   for v in values)


def _n(value: int | float | None, suffix: str = "") -> str:
    if value is None:
        return "-"
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.2f}{suffix}"
    return f"{int(value):,}{suffix}"


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def _age(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 120:
        return f"{seconds:.0f} s ago"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min ago"
    return f"{seconds / 3600:.1f} h ago"


def dashboard(health: Health) -> RenderableType:
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    verdict = Text(f"{health.verdict.upper()}", style=f"bold {_VERDICT_STYLE[health.verdict]}")
    verdict.append(f"  last {health.window.since}, {health.calls} calls in {health.seconds:.2f} s", style="dim")
    parts: list[RenderableType] = [verdict]
    for finding in health.findings:
        line = Text(f" {_SEVERITY[finding.severity]} {finding.message}")
        parts.append(line)
        if finding.cause:
            parts.append(Text(f"     likely: {finding.cause}", style="dim"))
        parts.append(Text(f"     next:   {finding.next_command}", style="dim"))
    for source in health.sources:
        if source.state == "unavailable":
            parts.append(Text(f" ✗ {_source_name(source)} could not be read: {source.message}", style="red"))
            if source.hint:
                parts.append(Text(f"     {source.hint}", style="dim"))
        elif source.state == "not_configured":
            parts.append(Text(f" · {_source_name(source)}: not configured ({source.message})", style="dim"))

    table = Table(show_header=False, box=None, pad_edge=False, padding=(0, 2))
    table.add_column(style="bold")
    table.add_column()
    table.add_column()
    w, q, s, u = health.worker, health.queue, health.sessions, health.usage
    table.add_row("Worker", w.script or "-", "")
    table.add_row("  requests", f"{_n(w.requests)}  errors {_n(w.errors)} ({_pct(w.error_rate)})",
                  sparkline(w.requests_series))
    table.add_row("  CPU time", f"p50 {_n(w.cpu_p50_ms, ' ms')}  p99 {_n(w.cpu_p99_ms, ' ms')}", "")
    consumer = q.consumer
    table.add_row("Queue", f"{q.name}" + ("" if q.exists is not False else " (missing)")
                  + (" · delivery paused" if q.delivery_paused else ""), "")
    table.add_row("  consumer", f"{consumer.script}, batch {_n(consumer.batch_size)}, wait "
                  f"{_n(consumer.max_wait_time_ms, ' ms')}, retries {_n(consumer.max_retries)}"
                  + (f", DLQ {consumer.dead_letter_queue}" if consumer.dead_letter_queue else "")
                  if consumer else "none", "")
    table.add_row("  backlog", f"{_n(q.backlog)} messages, oldest {_age(q.oldest_age_s)}",
                  sparkline(q.backlog_series))
    table.add_row("  messages", f"written {_n(q.written)}  acked {_n(q.acked)}  DLQ {_n(q.dead_lettered)}  "
                  f"dropped {_n(q.failed)}  retries/msg {_n(q.retries_avg)}", sparkline(q.written_series))
    table.add_row("Xano", "", "")
    table.add_row("  sessions", f"active 15 min {_n(s.active_15m)}  24 h {_n(s.active_24h)}", "")
    capped = f" (newest {u.rows_read:,} read)" if u.capped else ""
    table.add_row("  usage", f"{_n(u.events)} events{capped}  errors {_pct(u.error_rate)}  cost {u.cost:,.4f}",
                  sparkline(u.series))
    table.add_row("  duration", f"p50 {_n(u.duration_p50_ms, ' ms')}  p95 {_n(u.duration_p95_ms, ' ms')}  "
                  f"newest row {_age(u.newest_age_s)}", "")
    for label, top in (("  tools", u.top_tools), ("  models", u.top_models), ("  users", u.top_users)):
        table.add_row(label, ", ".join(f"{name} {count:,}" for name, count in top) or "-", "")
    parts.append(Text(""))
    parts.append(table)
    return Group(*parts)


def _source_name(source: Source) -> str:
    return {"cloudflare_queue": "Cloudflare queue", "cloudflare_analytics": "Cloudflare analytics",
            "xano": "Xano"}.get(source.name, source.name)
