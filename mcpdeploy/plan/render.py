"""Plans for people (rich, on stderr). Machines get `Plan.to_json()` on stdout."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape

from mcpdeploy.plan.models import Change, Plan

SYMBOLS = {"create": ("+", "green"), "update": ("~", "yellow"), "delete": ("-", "red")}


def change_line(change: Change) -> str:
    symbol, colour = SYMBOLS[change.action]
    risk = ""
    if change.risk == "data_loss":
        risk = " [bold red](destructive: data loss)[/]"
    elif change.risk == "destructive":
        risk = " [bold red](destructive)[/]"
    return f"  [{colour}]{symbol} {change.action} {escape(change.resource)}[/]{risk}: {escape(change.reason)}"


def render_plan(console: Console, plan: Plan, *, notes: list[str] | None = None) -> None:
    """`notes` replaces the plan's notes as they are shown (the sandbox names its own commands in them)."""
    target = plan.target.get("xano", {})
    cloudflare = plan.target.get("cloudflare")
    console.print(
        f"Plan for Xano workspace {target.get('workspace_id')} at {escape(str(target.get('instance_url')))}"
        f" (branch {escape(str(target.get('branch')))}, api group {escape(str(target.get('api_group')))})"
        + (f", Cloudflare account {escape(str(cloudflare.get('account_id')))}"
           f" (queue {escape(str(cloudflare.get('queue')))}, worker {escape(str(cloudflare.get('worker')))})"
           if cloudflare else "")
        + ":"
    )
    for note in plan.notes if notes is None else notes:
        console.print(f"  note: {escape(note)}")
    if not plan.has_changes:
        console.print("  No changes. Everything matches the schemas and settings.")
        return
    for change in plan.changes:
        console.print(change_line(change))
        for detail in change.details:
            if change.reason.startswith(detail):  # "type int -> text: ..." already says it: one line is enough
                continue
            console.print(f"      {escape(detail)}")
    s = plan.summary()
    line = f"Plan: {s['create']} to create, {s['update']} to update, {s['delete']} to delete"
    if s["destructive"]:
        line += f" ({s['destructive']} destructive)"
    console.print(line + ".")
