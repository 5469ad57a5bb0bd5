"""Xano: read what exists (tables, schemas, indexes, the API group and its endpoints) and diff it against the spec.

Only what the spec names is managed: other tables of the workspace are never read or touched. The API group
named in the settings belongs to mcpdeploy, so an endpoint in it that the spec does not declare is planned for
removal (destructive, so only with --allow-destructive). Indexes are only added: Xano creates its own defaults.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from mcpdeploy.plan.models import Change
from mcpdeploy.providers import xanoscript
from mcpdeploy.providers.parallel import run_all
from mcpdeploy.providers.xano import XanoClient
from mcpdeploy.providers.xano_columns import read_columns
from mcpdeploy.providers.xano_models import by_id
from mcpdeploy.spec.models import XANO_AUTO_FIELDS, IndexSpec, Spec, TableSpec
from mcpdeploy.xanoscript.canonical import compare_queries

PROVIDER = "xano"


@dataclass
class TableState:
    id: int
    name: str
    schema: list[dict[str, Any]]
    indexes: list[dict[str, Any]]


@dataclass
class XanoState:
    tables: dict[str, TableState] = field(default_factory=dict)
    group: dict[str, Any] | None = None  # the oldest group of the name, when several have it
    apis: list[dict[str, Any]] = field(default_factory=list)
    other_groups: list[dict[str, Any]] = field(default_factory=list)  # more groups of the same name

    def notes(self, group_name: str) -> list[str]:
        """Problems found while reading that are not changes mcpdeploy makes, each with a way out."""
        if self.group is None or not self.other_groups:
            return []
        kept = self.group.get("id")
        others = ", ".join(str(g.get("id")) for g in self.other_groups)
        return [f"problem: {len(self.other_groups) + 1} api groups are named {group_name!r} (ids {kept}, {others}), "
                f"likely made by two runs at once. mcpdeploy uses the oldest, id {kept} (canonical "
                f"{self.group.get('canonical')}); delete the other(s) in Xano once nothing calls them."]


def read_xano_state(client: XanoClient, spec: Spec, group_name: str, workers: int = 1) -> XanoState:
    """What exists, read `workers` calls at a time: the two lists at once, then each managed table's schema and
    indexes beside the group's endpoints. The state is built in the lists' order whatever answered first."""
    state = XanoState()
    wanted = {t.name for t in spec.tables}
    tables, groups = run_all([client.list_tables, client.list_api_groups], workers)
    found = [(str(t["name"]), int(t["id"])) for t in tables if t.get("name") in wanted]
    named = sorted((g for g in groups if g.get("name") == group_name), key=by_id)
    if named:
        state.group, state.other_groups = named[0], named[1:]
    reads: list[Callable[[], list[dict[str, Any]]]] = []
    for _, table_id in found:
        reads += [partial(read_columns, client, table_id), partial(client.get_indexes, table_id)]
    if state.group is not None:
        reads.append(partial(client.list_apis, int(state.group["id"])))
    answers = run_all(reads, workers)
    for position, (name, table_id) in enumerate(found):
        state.tables[name] = TableState(id=table_id, name=name, schema=answers[2 * position],
                                        indexes=answers[2 * position + 1])
    if state.group is not None:
        state.apis = answers[-1]
    return state


def diff_xano(spec: Spec, state: XanoState, group_name: str) -> list[Change]:
    changes: list[Change] = []
    for table in spec.tables:
        actual = state.tables.get(table.name)
        if actual is None:
            changes.append(_create_table(table))
        else:
            changes.extend(_diff_fields(table, actual))
            changes.extend(_diff_indexes(table, actual))
    changes.extend(_diff_endpoints(spec, state, group_name))
    return changes


def _create_table(table: TableSpec) -> Change:
    return Change(
        provider=PROVIDER,
        kind="create_table",
        action="create",
        resource=f"table {table.name}",
        reason="not in the workspace",
        details=(f"{len(table.fields)} fields, {len(table.indexes)} indexes",),
        params={"table": table.name, "document": xanoscript.render_table(table)},
    )


def _diff_fields(table: TableSpec, actual: TableState) -> list[Change]:
    changes: list[Change] = []
    existing = {f.get("name"): f for f in actual.schema}
    for wanted in table.fields:
        if wanted.name in XANO_AUTO_FIELDS:
            continue
        resource = f"field {table.name}.{wanted.name}"
        params = {"table": table.name, "table_id": actual.id, "field": xanoscript.field_json(wanted)}
        current = existing.get(wanted.name)
        if current is None:
            changes.append(Change(provider=PROVIDER, kind="add_field", action="create", resource=resource,
                                  reason=f"missing ({wanted.type})", params=params))
            continue
        differences = xanoscript.field_matches(wanted, current)
        if not differences:
            continue
        params["before"] = current  # what `rollback --run` puts back
        if current.get("type") != wanted.type:
            changes.append(Change(
                provider=PROVIDER, kind="change_field_type", action="update", resource=resource,
                reason=f"type {current.get('type')} -> {wanted.type}: existing values may not convert",
                risk="data_loss", details=tuple(differences), params=params,
            ))
        else:
            changes.append(Change(provider=PROVIDER, kind="update_field", action="update", resource=resource,
                                  reason="differs from the schema", details=tuple(differences), params=params))
    declared = {f.name for f in table.fields}
    for name in existing:
        if name not in declared and name not in XANO_AUTO_FIELDS:
            changes.append(Change(
                provider=PROVIDER, kind="remove_field", action="delete", resource=f"field {table.name}.{name}",
                reason="not in the schema: removing it deletes its data", risk="data_loss",
                params={"table": table.name, "table_id": actual.id, "name": name, "before": existing[name]},
            ))
    return changes


def _index_key(index: dict[str, Any]) -> tuple[str, tuple[tuple[str, str], ...]]:
    kind = str(index.get("type", ""))
    kind = "unique" if kind in ("unique", "btree|unique") else kind
    fields = index.get("fields", index.get("field", [])) or []
    return kind, tuple((str(f.get("name")), str(f.get("op") or "asc")) for f in fields)


def _diff_indexes(table: TableSpec, actual: TableState) -> list[Change]:
    present = {_index_key(i) for i in actual.indexes}
    changes = []
    for index in table.indexes:
        if index.key not in present:
            changes.append(_add_index(table, actual.id, index))
    return changes


def _add_index(table: TableSpec, table_id: int, index: IndexSpec) -> Change:
    names = ", ".join(f.name + (" desc" if f.op == "desc" else "") for f in index.fields)
    return Change(
        provider=PROVIDER, kind="add_index", action="create", resource=f"index {table.name}({names})",
        reason=f"missing {index.type} index",
        params={"table": table.name, "table_id": table_id, "index": xanoscript.index_json(index)},
    )


def _diff_endpoints(spec: Spec, state: XanoState, group_name: str) -> list[Change]:
    changes: list[Change] = []
    group_id = int(state.group["id"]) if state.group else None
    if state.group is None:
        changes.append(Change(
            provider=PROVIDER, kind="create_api_group", action="create", resource=f"api group {group_name}",
            reason="not in the workspace", params={"name": group_name},
        ))
    deployed: dict[tuple[str, str], dict[str, Any]] = {}
    for api in sorted(state.apis, key=by_id):
        route = (str(api.get("verb", "")).upper(), str(api.get("name", "")).strip("/"))
        if route in deployed:  # two runs created it at once: the oldest stays, the copy goes
            changes.append(_remove_duplicate(api, deployed[route], route, group_name, group_id))
        else:
            deployed[route] = api
    for endpoint in spec.endpoints:
        document = xanoscript.render_endpoint(endpoint, spec)
        resource = f"endpoint {endpoint.verb} /{endpoint.path}"
        params: dict[str, Any] = {"group": group_name, "group_id": group_id, "document": document}
        current = deployed.pop(endpoint.key, None)
        if current is None:
            changes.append(Change(provider=PROVIDER, kind="create_endpoint", action="create", resource=resource,
                                  reason="not in the api group", params=params))
            continue
        live = _deployed_logic(current)
        comparison = compare_queries(live, document) if live is not None else None
        if comparison is None or not comparison.same:
            why = "has no logic (created from JSON?)" if comparison is None else "logic differs from the schemas"
            changes.append(Change(provider=PROVIDER, kind="update_endpoint", action="update", resource=resource,
                                  reason=why, details=comparison.diff if comparison else (),
                                  params={**params, "api_id": int(current["id"]), "before_document": live}))
    for (verb, path), current in sorted(deployed.items()):
        changes.append(Change(
            provider=PROVIDER, kind="remove_endpoint", action="delete", resource=f"endpoint {verb} /{path}",
            reason=f"in api group {group_name} but not in the schemas", risk="destructive",
            params={"group": group_name, "group_id": group_id, "api_id": int(current["id"]),
                    "before_document": _deployed_logic(current)},
        ))
    return changes


def _remove_duplicate(api: dict[str, Any], kept: dict[str, Any], route: tuple[str, str], group_name: str,
                      group_id: int | None) -> Change:
    verb, path = route
    return Change(
        provider=PROVIDER, kind="remove_endpoint", action="delete",
        resource=f"endpoint {verb} /{path} (id {api['id']})",
        reason=f"a second copy of endpoint id {kept['id']} in api group {group_name} (two runs created it at once)",
        risk="destructive",
        params={"group": group_name, "group_id": group_id, "api_id": int(api["id"]),
                "before_document": _deployed_logic(api)},
    )


def _deployed_logic(api: dict[str, Any]) -> str | None:
    script = api.get("xanoscript")
    if isinstance(script, dict):
        value = script.get("value")
        return str(value) if script.get("status", "ok") == "ok" and value else None
    return str(script) if script else None
