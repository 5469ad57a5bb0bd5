"""Undo a provision run (`mcpdeploy rollback --run RUN_ID|last`), newest change first, never losing data.

Each journaled change becomes one step, decided against what exists now, so rolling back twice is a no-op the
second time ("already undone"). Steps that would lose data are refused as a whole unless --allow-data-loss;
with it, a table's rows are exported (all pages) and the export verified before anything is removed. The queue
is removed only with --allow-data-loss (its messages cannot be counted). Local files are restored from the
backup taken before the run, unless they changed since (then they are left alone, and the step says so).
Secrets pushed to the Worker cannot be undone: their previous values were never stored, by design.
"""

from __future__ import annotations

import hashlib
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from mcpdeploy.errors import McpdeployError
from mcpdeploy.files.atomic import write_atomic
from mcpdeploy.files.edits import read_current
from mcpdeploy.providers.cloudflare import CloudflareClient
from mcpdeploy.providers.xano import XanoClient
from mcpdeploy.state.backup import export_rows
from mcpdeploy.state.journal import ChangeRecord, RunDetail
from mcpdeploy.xanoscript.canonical import compare_queries

Status = Literal["will_undo", "already_undone", "needs_data_loss", "cannot_undo", "left_alone"]
DONE_STATUSES = ("already_undone", "cannot_undo", "left_alone")


@dataclass
class UndoStep:
    resource: str
    kind: str  # the journaled change kind being undone
    status: Status
    reason: str
    action: Callable[[], dict[str, Any]] | None = field(default=None, repr=False)

    def to_json(self) -> dict[str, Any]:
        return {"resource": self.resource, "undoes": self.kind, "status": self.status, "reason": self.reason}


@dataclass
class UndoContext:
    xano: XanoClient
    cloudflare: CloudflareClient | None
    project_dir: Path
    backup_folder: Path
    allow_data_loss: bool
    _apis: dict[int, list[dict[str, Any]]] = field(default_factory=dict)

    def apis(self, group_id: int) -> list[dict[str, Any]]:
        if group_id not in self._apis:
            groups = {int(g["id"]) for g in self.xano.list_api_groups()}
            self._apis[group_id] = self.xano.list_apis(group_id) if group_id in groups else []
        return self._apis[group_id]


def _doing(call: Callable[[], None], ids: dict[str, Any]) -> Callable[[], dict[str, Any]]:
    def act() -> dict[str, Any]:
        call()
        return ids

    return act


def plan_undo(run: RunDetail, ctx: UndoContext) -> list[UndoStep]:
    steps = []
    for change in reversed([c for c in run.changes if c.outcome == "done"]):
        builder = _BUILDERS.get(change.kind)
        if builder is None:
            steps.append(UndoStep(change.resource, change.kind, "cannot_undo", "mcpdeploy does not know how"))
        else:
            steps.append(builder(change, ctx))
    return steps


# -- Xano -------------------------------------------------------------------------------------------------------


def _tables(ctx: UndoContext) -> dict[int, dict[str, Any]]:
    return {int(t["id"]): t for t in ctx.xano.list_tables()}


def _table_of(change: ChangeRecord) -> str:
    """The table a journaled change is about: "table t", "field t.f" or "index t(...)"."""
    return re.split(r"[.(]", change.resource.split(" ", 1)[1], maxsplit=1)[0]


def _exported(ctx: UndoContext, table_id: int, table: str, needed: bool) -> dict[str, Any]:
    """The ids of an undo step, with a verified export of the table first when rows are at stake."""
    out: dict[str, Any] = {"table_id": table_id}
    if needed:
        path, count = export_rows(ctx.xano, table_id, table, ctx.backup_folder)
        out |= {"export": str(path), "rows_exported": count}
    return out


def _made_by_another_run(change: ChangeRecord) -> UndoStep:
    """The run found the object made by another run at the same moment and used it: undoing this run leaves it."""
    return UndoStep(change.resource, change.kind, "left_alone", "another run made it; this run only used it")


def _undo_create_table(change: ChangeRecord, ctx: UndoContext) -> UndoStep:
    if change.ids.get("created") is False:
        return _made_by_another_run(change)
    table_id = int(change.ids["table_id"])
    name = change.resource.removeprefix("table ")
    if table_id not in _tables(ctx):
        return UndoStep(change.resource, change.kind, "already_undone", "the table is gone")
    rows = len(ctx.xano.list_content(table_id))
    if rows and not ctx.allow_data_loss:
        return UndoStep(change.resource, change.kind, "needs_data_loss",
                        f"holds {rows} row(s): removing it needs --allow-data-loss (they are exported first)")

    def act() -> dict[str, Any]:
        out = _exported(ctx, table_id, name, needed=bool(rows))
        ctx.xano.delete_table(table_id)
        return out

    return UndoStep(change.resource, change.kind, "will_undo",
                    f"delete the table ({rows} rows{', exported first' if rows else ''})", act)


def _undo_add_field(change: ChangeRecord, ctx: UndoContext) -> UndoStep:
    table_id = int(change.ids["table_id"])
    name = change.resource.rsplit(".", 1)[-1]
    if table_id not in _tables(ctx):
        return UndoStep(change.resource, change.kind, "already_undone", "the table is gone")
    schema = ctx.xano.get_schema(table_id)
    if name not in {f.get("name") for f in schema}:
        return UndoStep(change.resource, change.kind, "already_undone", "the field is gone")
    rows = ctx.xano.list_content(table_id)
    filled = sum(1 for r in rows if r.get(name) not in (None, ""))
    if filled and not ctx.allow_data_loss:
        return UndoStep(change.resource, change.kind, "needs_data_loss",
                        f"{filled} row(s) hold a value: removing it needs --allow-data-loss (exported first)")

    def act() -> dict[str, Any]:
        out = _exported(ctx, table_id, _table_of(change), needed=bool(filled))
        ctx.xano.put_schema(table_id, [f for f in ctx.xano.get_schema(table_id) if f.get("name") != name])
        return out

    return UndoStep(change.resource, change.kind, "will_undo", f"remove the field ({filled} values)", act)


def _undo_field_edit(change: ChangeRecord, ctx: UndoContext) -> UndoStep:
    """An updated, retyped or removed field: put the previous definition back (values of a removed field are in
    the export the run took; restoring them is left to a person, who can see the file)."""
    table_id = int(change.ids["table_id"])
    previous = (change.before or {}).get("before")
    if not previous:
        return UndoStep(change.resource, change.kind, "cannot_undo", "the previous definition was not recorded")
    if table_id not in _tables(ctx):
        return UndoStep(change.resource, change.kind, "already_undone", "the table is gone")
    schema = ctx.xano.get_schema(table_id)
    current = next((f for f in schema if f.get("name") == previous.get("name")), None)
    if current is not None and all(current.get(k) == v for k, v in previous.items()):
        return UndoStep(change.resource, change.kind, "already_undone", "the field is as it was")
    retype = current is not None and current.get("type") != previous.get("type")
    if retype and not ctx.allow_data_loss:
        return UndoStep(change.resource, change.kind, "needs_data_loss",
                        f"changing the type back ({current.get('type') if current else '?'} -> "
                        f"{previous.get('type')}) may lose values: needs --allow-data-loss (exported first)")

    def act() -> dict[str, Any]:
        out = _exported(ctx, table_id, _table_of(change), needed=retype)
        fresh = ctx.xano.get_schema(table_id)
        names = [f.get("name") for f in fresh]
        merged = [previous if f.get("name") == previous.get("name") else f for f in fresh]
        if previous.get("name") not in names:
            merged.append(previous)
        ctx.xano.put_schema(table_id, merged)
        if change.kind == "remove_field" and change.ids.get("export"):
            out["values_are_in"] = change.ids["export"]
        return out

    what = "re-create the field (empty; its values are in " + str(change.ids.get("export")) + ")" \
        if change.kind == "remove_field" else "put the previous definition back"
    return UndoStep(change.resource, change.kind, "will_undo", what, act)


def _undo_add_index(change: ChangeRecord, ctx: UndoContext) -> UndoStep:
    table_id, index_id = int(change.ids["table_id"]), str(change.ids.get("index_id"))
    if table_id not in _tables(ctx) or index_id not in {str(i.get("id")) for i in ctx.xano.get_indexes(table_id)}:
        return UndoStep(change.resource, change.kind, "already_undone", "the index is gone")
    return UndoStep(change.resource, change.kind, "will_undo", "delete the index",
                    _doing(lambda: ctx.xano.delete_index(table_id, index_id), {"index_id": index_id}))


def _undo_create_group(change: ChangeRecord, ctx: UndoContext) -> UndoStep:
    if change.ids.get("created") is False:
        return _made_by_another_run(change)
    group_id = int(change.ids["apigroup_id"])
    if group_id not in {int(g["id"]) for g in ctx.xano.list_api_groups()}:
        return UndoStep(change.resource, change.kind, "already_undone", "the api group is gone")

    def act() -> dict[str, Any]:
        left = ctx.xano.list_apis(group_id)  # read now: the endpoint steps before this one removed theirs
        if left:
            routes = ", ".join(f"{a.get('verb')} /{a.get('name')}" for a in left)
            raise McpdeployError(f"api group {group_id} still holds endpoints not created by this run: {routes}",
                                 hint="It was left in place; remove those endpoints first if it should go.")
        ctx.xano.delete_api_group(group_id)
        return {"apigroup_id": group_id}

    return UndoStep(change.resource, change.kind, "will_undo", "delete the api group (once it is empty)", act)


def _undo_create_endpoint(change: ChangeRecord, ctx: UndoContext) -> UndoStep:
    if change.ids.get("created") is False:
        return _made_by_another_run(change)
    group_id, api_id = int(change.ids["apigroup_id"]), int(change.ids["api_id"])
    if api_id not in {int(a["id"]) for a in ctx.apis(group_id)}:
        return UndoStep(change.resource, change.kind, "already_undone", "the endpoint is gone")
    return UndoStep(change.resource, change.kind, "will_undo", "delete the endpoint",
                    _doing(lambda: ctx.xano.delete_api(group_id, api_id), {"api_id": api_id}))


def _undo_update_endpoint(change: ChangeRecord, ctx: UndoContext) -> UndoStep:
    group_id, api_id = int(change.ids["apigroup_id"]), int(change.ids["api_id"])
    previous = (change.before or {}).get("before_document")
    if not previous:
        return UndoStep(change.resource, change.kind, "cannot_undo", "it had no logic before (a JSON-made shell)")
    current = next((a for a in ctx.apis(group_id) if int(a["id"]) == api_id), None)
    if current is None:
        return UndoStep(change.resource, change.kind, "left_alone", "the endpoint was deleted since")
    live = (current.get("xanoscript") or {}).get("value") if isinstance(current.get("xanoscript"), dict) else None
    if live and compare_queries(live, previous).same:
        return UndoStep(change.resource, change.kind, "already_undone", "the previous logic is in place")
    return UndoStep(change.resource, change.kind, "will_undo", "put the previous logic back",
                    _doing(lambda: ctx.xano.update_api(group_id, api_id, previous), {"api_id": api_id}))


def _undo_remove_endpoint(change: ChangeRecord, ctx: UndoContext) -> UndoStep:
    group_id = int(change.ids["apigroup_id"])
    previous = (change.before or {}).get("before_document")
    match = re.match(r"endpoint (\w+) /(.*)$", change.resource)
    if not previous or match is None:
        return UndoStep(change.resource, change.kind, "cannot_undo", "its logic was not recorded")
    verb, path = match.groups()
    if any(a.get("verb") == verb and a.get("name") == path for a in ctx.apis(group_id)):
        return UndoStep(change.resource, change.kind, "already_undone", "an endpoint with that route exists")
    return UndoStep(change.resource, change.kind, "will_undo", "re-create the endpoint with its previous logic",
                    lambda: {"api_id": ctx.xano.create_api(group_id, previous).get("id")})


# -- Cloudflare, secrets and files -------------------------------------------------------------------------------


def _undo_create_queue(change: ChangeRecord, ctx: UndoContext) -> UndoStep:
    if not change.ids.get("created"):
        return UndoStep(change.resource, change.kind, "left_alone", "the queue existed already (another run made it)")
    if ctx.cloudflare is None:
        return UndoStep(change.resource, change.kind, "cannot_undo", "Cloudflare is not configured")
    queue_id = str(change.ids["queue_id"])
    name = change.resource.removeprefix("queue ")
    cloudflare = ctx.cloudflare
    if cloudflare.find_queue(name) is None:
        return UndoStep(change.resource, change.kind, "already_undone", "the queue is gone")
    if not ctx.allow_data_loss:
        return UndoStep(change.resource, change.kind, "needs_data_loss",
                        "messages in a queue cannot be counted: deleting it needs --allow-data-loss")
    return UndoStep(change.resource, change.kind, "will_undo", "delete the queue (and any messages in it)",
                    _doing(lambda: cloudflare.delete_queue(queue_id), {"queue_id": queue_id}))


def _cannot(reason: str) -> Callable[[ChangeRecord, UndoContext], UndoStep]:
    return lambda change, ctx: UndoStep(change.resource, change.kind, "cannot_undo", reason)


def _undo_edit_file(change: ChangeRecord, ctx: UndoContext) -> UndoStep:
    path = Path(str(change.ids["path"]))
    backup = change.ids.get("backup")
    written = change.ids.get("written_sha256")
    current, _mode = read_current(path)  # a folder, a link loop or an unreadable file: InputFileError naming it
    if backup is None and current is None:
        return UndoStep(change.resource, change.kind, "already_undone", "the file the run created is gone")
    previous, _mode = read_current(Path(backup)) if backup is not None else (None, None)
    if backup is not None and previous is None:
        return UndoStep(change.resource, change.kind, "left_alone", f"its backup {backup} is gone: restore it by hand")
    if current is not None and current == previous:
        return UndoStep(change.resource, change.kind, "already_undone", "the file holds its previous content")
    if current is None or hashlib.sha256(current).hexdigest() != written:
        return UndoStep(change.resource, change.kind, "left_alone",
                        "changed since the run wrote it: restore it by hand from " + str(backup or "(no backup)"))

    def act() -> dict[str, Any]:
        ctx.backup_folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        kept = ctx.backup_folder / f"{path.name}.before-rollback"
        shutil.copy2(path, kept)
        kept.chmod(0o600)
        if backup is None:
            path.unlink()
        else:
            assert previous is not None
            write_atomic(path, previous)
        return {"path": str(path), "kept_copy": str(kept)}

    what = "remove the file the run created" if backup is None else f"restore it from {backup}"
    return UndoStep(change.resource, change.kind, "will_undo", what, act)


_BUILDERS: dict[str, Callable[[ChangeRecord, UndoContext], UndoStep]] = {
    "create_table": _undo_create_table,
    "add_field": _undo_add_field,
    "update_field": _undo_field_edit,
    "change_field_type": _undo_field_edit,
    "remove_field": _undo_field_edit,
    "add_index": _undo_add_index,
    "create_api_group": _undo_create_group,
    "create_endpoint": _undo_create_endpoint,
    "update_endpoint": _undo_update_endpoint,
    "remove_endpoint": _undo_remove_endpoint,
    "create_queue": _undo_create_queue,
    "create_consumer": _cannot("the consumer is left in place: `wrangler deploy` manages it from wrangler.toml"),
    "update_consumer": _cannot("the consumer's previous settings were not recorded"),
    "push_secrets": _cannot("secret values are never stored, so the previous ones cannot be put back"),
    "edit_file": _undo_edit_file,
}

