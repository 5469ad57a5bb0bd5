"""Apply results for people (rich, on stderr), one line per change as it is done, in the plan's symbols."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape

from mcpdeploy.apply import AppliedChange
from mcpdeploy.plan.render import SYMBOLS


def render_applied(console: Console, done: AppliedChange) -> None:
    symbol, colour = SYMBOLS[done.change.action]
    if done.outcome == "done":
        console.print(f"  [{colour}]{symbol}[/] {escape(done.change.resource)}: done")
    else:
        console.print(f"  [red]![/] {escape(done.change.resource)}: failed: {escape(done.error or '')}")
