"""Carry out Xano changes through the Metadata API, in dependency order: tables, their fields and indexes,
then the API group, then its endpoints."""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import Any

from mcpdeploy.apply import AppliedChange, Progress
from mcpdeploy.apply.xano_creates import create_once
from mcpdeploy.errors import McpdeployError
from mcpdeploy.plan.models import Change
from mcpdeploy.providers.parallel import run_all
from mcpdeploy.providers.xano import XanoClient
from mcpdeploy.providers.xano_columns import read_columns
from mcpdeploy.providers.xanoscript import SPEC_OWNED_KEYS
from mcpdeploy.state.backup import export_rows

KIND_ORDER = (
    "create_table",
    "add_field", "update_field", "change_field_type", "remove_field",
    "add_index",
    "create_api_group",
    "create_endpoint", "update_endpoint", "remove_endpoint",
)
FIELD_KINDS = frozenset({"add_field", "update_field", "change_field_type", "remove_field"})
ENDPOINT_KINDS = frozenset({"create_endpoint", "update_endpoint", "remove_endpoint"})
_GROUP_WAVE_KINDS = ENDPOINT_KINDS | {"create_api_group"}
GROUP_DESCRIPTION = "MCP sessions and usage logs, managed by mcpdeploy"


class XanoExecutor:
    def __init__(self, client: XanoClient, backup_folder: Path, workers: int = 1) -> None:
        self.client = client
        self.backup_folder = backup_folder
        self.workers = workers

    def execute(self, changes: Sequence[Change], record: Progress, outputs: dict[str, Any]) -> None:
        ordered = sorted(changes, key=lambda c: KIND_ORDER.index(c.kind))
        if self.workers <= 1:
            self._run(ordered, record, outputs)
            return
        # Two waves, as the dependency graph has them: each table with its fields and indexes, beside the API
        # group; then the endpoints, which need the group and may name the tables. Within a wave, `workers` at
        # a time; each wave is recorded in the order a serial run records it, whatever finished first.
        tables = list(dict.fromkeys(str(c.params["table"]) for c in ordered if c.kind not in _GROUP_WAVE_KINDS))
        first = [[c for c in ordered if c.params.get("table") == name and c.kind not in _GROUP_WAVE_KINDS]
                 for name in tables]
        first += [[c] for c in ordered if c.kind == "create_api_group"]
        second = [[c] for c in ordered if c.kind in ENDPOINT_KINDS]
        sequence = {id(c): i for i, c in enumerate(_serial_sequence(ordered))}
        for wave in (first, second):
            self._run_wave([unit for unit in wave if unit], record, outputs, sequence)

    def _run_wave(self, units: list[list[Change]], record: Progress, outputs: dict[str, Any],
                  sequence: dict[int, int]) -> None:
        def run_unit(unit: list[Change]) -> tuple[list[AppliedChange], McpdeployError | None]:
            done: list[AppliedChange] = []
            try:
                self._run(unit, done.append, outputs)
            except McpdeployError as exc:
                return done, exc
            return done, None

        results = run_all([partial(run_unit, unit) for unit in units], self.workers)
        # Everything that happened is recorded, a failure's siblings included (they did happen); then the first
        # failure in serial order is raised.
        for applied in sorted((a for done, _ in results for a in done), key=lambda a: sequence[id(a.change)]):
            record(applied)
        failures = [(sequence[id(done[-1].change)] if done else -1, exc) for done, exc in results if exc]
        if failures:
            raise min(failures, key=lambda failure: failure[0])[1]

    def _run(self, ordered: Sequence[Change], record: Progress, outputs: dict[str, Any]) -> None:
        field_changes_done: set[int] = set()
        for change in ordered:
            try:
                if change.kind in FIELD_KINDS:
                    table_id = int(change.params["table_id"])
                    if table_id in field_changes_done:
                        continue
                    batch = [c for c in ordered if c.kind in FIELD_KINDS and c.params["table_id"] == table_id]
                    ids: dict[str, Any] = {"table_id": table_id}
                    if any(c.risk == "data_loss" for c in batch):
                        # Data-losing changes take a verified export of the table first.
                        path, count = export_rows(self.client, table_id, batch[0].params["table"],
                                                  self.backup_folder)
                        ids |= {"export": str(path), "rows_exported": count}
                    self._apply_field_changes(table_id, batch)
                    field_changes_done.add(table_id)
                    for done in batch:
                        record(AppliedChange(done, "done", dict(ids)))
                    continue
                ids = self._apply_one(change, outputs)
            except McpdeployError as exc:
                record(AppliedChange(change, "failed", error=exc.message))
                raise
            record(AppliedChange(change, "done", ids))

    def _apply_one(self, change: Change, outputs: dict[str, Any]) -> dict[str, Any]:
        p = change.params
        if change.kind == "create_table":
            table, created = create_once(
                lambda: self.client.create_table(p["document"]),
                lambda: [t for t in self.client.list_tables() if t.get("name") == p["table"]])
            return {"table_id": table.get("id"), "created": created}
        if change.kind == "add_index":
            index = p["index"]
            kind = "unique" if index["type"] in ("unique", "btree|unique") else index["type"]
            added = self.client.add_index(int(p["table_id"]), kind, index["fields"])
            return {"table_id": p["table_id"], "index_id": added.get("id")}
        if change.kind == "create_api_group":
            group, created = create_once(
                lambda: self.client.create_api_group(p["name"], GROUP_DESCRIPTION),
                lambda: [g for g in self.client.list_api_groups() if g.get("name") == p["name"]])
            outputs["api_group"] = {"id": group.get("id"), "canonical": group.get("canonical"), "name": p["name"]}
            if group.get("canonical"):
                # Later steps (.dev.vars, Worker secrets) need the group's URL in this same run.
                outputs["xano_api_group_canonical"] = group["canonical"]
                outputs["xano_api_base_url"] = self.client.runtime_base_url(str(group["canonical"]))
            return {"apigroup_id": group.get("id"), "canonical": group.get("canonical"), "created": created}
        group_id = self._group_id(p, outputs)
        if change.kind == "create_endpoint":
            api, created = create_once(
                lambda: self.client.create_api(group_id, p["document"]),
                lambda: [a for a in self.client.list_apis(group_id) if _route(a) == _route_of(change)])
            if not created:
                # Another run made it first: make it say what ours would have said.
                self.client.update_api(group_id, int(api["id"]), p["document"])
            return {"apigroup_id": group_id, "api_id": api.get("id"), "created": created}
        if change.kind == "update_endpoint":
            self.client.update_api(group_id, int(p["api_id"]), p["document"])
            return {"apigroup_id": group_id, "api_id": p["api_id"]}
        if change.kind == "remove_endpoint":
            self.client.delete_api(group_id, int(p["api_id"]))
            return {"apigroup_id": group_id, "api_id": p["api_id"]}
        raise McpdeployError(f"unknown Xano change kind {change.kind!r}")

    def _group_id(self, params: dict[str, Any], outputs: dict[str, Any]) -> int:
        if params.get("group_id") is not None:
            return int(params["group_id"])
        group = outputs.get("api_group")
        if not group or group.get("id") is None:
            raise McpdeployError(f"api group {params['group']} was neither found nor created")
        return int(group["id"])

    def _apply_field_changes(self, table_id: int, batch: list[Change]) -> None:
        """One schema PUT per table, built on a fresh read so a column added since the plan is kept."""
        schema = read_columns(self.client, table_id)
        by_name = {f.get("name"): dict(f) for f in schema}
        order = [f.get("name") for f in schema]
        for change in batch:
            if change.kind == "remove_field":
                by_name.pop(change.params["name"], None)
                continue
            wanted = change.params["field"]
            if wanted["name"] in by_name:
                live = by_name[wanted["name"]]
                if change.kind == "change_field_type":
                    # A new type: the old type's default and validators do not carry over.
                    by_name[wanted["name"]] = {**{k: v for k, v in live.items() if k not in SPEC_OWNED_KEYS},
                                               **{k: wanted[k] for k in SPEC_OWNED_KEYS if k in wanted}}
                else:
                    # Only what the schema files decide: a column someone made private or sensitive stays so,
                    # and a filter they do not name (a `max` set in Xano's UI) stays too.
                    live.update({k: wanted[k] for k in SPEC_OWNED_KEYS if k in wanted and k != "validators"})
                    if "validators" in wanted:
                        kept = live.get("validators")
                        live["validators"] = {**(kept if isinstance(kept, dict) else {}), **wanted["validators"]}
            else:
                by_name[wanted["name"]] = dict(wanted)
                order.append(wanted["name"])
        self.client.put_schema(table_id, [by_name[n] for n in order if n in by_name])


def _serial_sequence(ordered: Sequence[Change]) -> list[Change]:
    """The order a serial run records changes in: a table's field changes together, where its first one is."""
    sequence: list[Change] = []
    tables: set[object] = set()
    for change in ordered:
        if change.kind in FIELD_KINDS:
            table_id = change.params["table_id"]
            if table_id in tables:
                continue
            tables.add(table_id)
            sequence += [c for c in ordered if c.kind in FIELD_KINDS and c.params["table_id"] == table_id]
        else:
            sequence.append(change)
    return sequence


def _route(api: dict[str, Any]) -> tuple[str, str]:
    return str(api.get("verb", "")).upper(), str(api.get("name", "")).strip("/")


def _route_of(change: Change) -> tuple[str, str]:
    verb, _, path = change.resource.removeprefix("endpoint ").partition(" ")
    return verb, path.strip("/")
