"""Run the `stack` of a query document against the sandbox's tables (see xano_runtime.py for what is covered)."""

from __future__ import annotations

import copy
from typing import Any

from mcpdeploy.sandbox.xano_errors import XanoError, not_found
from mcpdeploy.sandbox.xano_rows import find_row, insert_row, update_row
from mcpdeploy.sandbox.xano_state import table_by_name
from mcpdeploy.sandbox.xano_xs_eval import evaluate, fatal, truthy
from mcpdeploy.xanoscript.reader import QueryDocument, Statement

# error_type -> (status, code), per Xano's docs; anything else is a standard (500) error.
_ERROR_TYPES = {
    "inputerror": (400, "ERROR_CODE_INPUT_ERROR"),
    "accessdenied": (403, "ERROR_CODE_ACCESS_DENIED"),
    "notfound": (404, "ERROR_CODE_NOT_FOUND"),
    "standard": (500, "ERROR_FATAL"),
}


class _Returned(Exception):
    def __init__(self, value: Any) -> None:
        super().__init__("return")
        self.value = value


class Run:
    """One execution of an endpoint: its variables and the workspace whose tables `db.*` statements use."""

    def __init__(self, state: dict[str, Any], workspace_id: int, variables: dict[str, Any]) -> None:
        self.state = state
        self.workspace_id = workspace_id
        self.variables = variables

    def respond(self, document: QueryDocument) -> Any:
        try:
            self.execute(document.stack)
        except _Returned as returned:
            return returned.value
        return evaluate(document.response, self.variables)

    def execute(self, stack: list[Statement]) -> None:
        for statement in stack:
            if "disabled" in statement.attributes and truthy(self._attr(statement, "disabled")):
                continue
            result = self._statement(statement)
            if statement.alias:
                self.variables[statement.alias] = result

    def _attr(self, statement: Statement, name: str) -> Any:
        return evaluate(statement.attributes.get(name), self.variables)

    def _statement(self, statement: Statement) -> Any:
        keyword = statement.keyword
        if not statement.emulated:
            raise fatal(f"The sandbox does not emulate `{keyword}` (line {statement.line})")
        if keyword.startswith("db."):
            return self._db(statement, keyword[3:])
        if keyword == "precondition":
            if not truthy(evaluate(statement.condition, self.variables)):
                raise self._precondition_error(statement)
            return None
        if keyword == "var":
            self.variables[statement.target] = self._attr(statement, "value")
            return None
        if keyword == "var.update":
            if statement.target not in self.variables:
                raise fatal(f"Unable to locate var: ${statement.target} (line {statement.line})")
            self.variables[statement.target] = self._attr(statement, "value")
            return None
        if keyword == "conditional":
            for condition, body in statement.branches:
                if condition is None or truthy(evaluate(condition, self.variables)):
                    self.execute(body)
                    break
            return None
        if keyword == "throw":
            raise XanoError(500, "ERROR_FATAL", str(self._attr(statement, "value")),
                            {"name": self._attr(statement, "name")})
        if keyword == "return":
            raise _Returned(self._attr(statement, "value"))
        raise fatal(f"The sandbox does not emulate `{keyword}` (line {statement.line})")

    def _precondition_error(self, statement: Statement) -> XanoError:
        error_type = str(self._attr(statement, "error_type") or "standard")
        status, code = _ERROR_TYPES.get(error_type, _ERROR_TYPES["standard"])
        message = self._attr(statement, "error") or "Precondition failed"
        return XanoError(status, code, str(message), self._attr(statement, "payload"))

    # ---- db.* ------------------------------------------------------------------------------------------------

    def _db(self, statement: Statement, operation: str) -> Any:
        table = table_by_name(self.state, self.workspace_id, statement.target)
        if table is None:
            raise fatal(f"Unable to locate table: {statement.target} (line {statement.line})")
        if operation == "query":
            return self._query(statement, table)
        if operation == "add":
            return insert_row(table, self._data(statement))
        row = find_row(table, str(self._attr(statement, "field_name")), self._attr(statement, "field_value"))
        if operation == "get":
            return copy.deepcopy(row)
        if operation == "has":
            return row is not None
        if operation == "del":
            if row is not None:
                table["rows"] = [r for r in table["rows"] if r is not row]
            return None
        if operation == "add_or_edit" and row is None:
            data = {**self._data(statement), str(self._attr(statement, "field_name")):
                    self._attr(statement, "field_value")}
            return insert_row(table, data)
        if row is None:
            raise not_found(f"Unable to locate record in `{table['name']}` (line {statement.line}).")
        return update_row(table, row, self._data(statement))

    def _data(self, statement: Statement) -> dict[str, Any]:
        data = self._attr(statement, "data")
        if not isinstance(data, dict):
            raise fatal(f"`{statement.keyword}` data must be an object, got {type(data).__name__} "
                        f"(line {statement.line})")
        return data

    def _query(self, statement: Statement, table: dict[str, Any]) -> Any:
        unsupported = sorted(set(statement.attributes) - {"return", "description", "disabled"})
        if unsupported:
            raise fatal(f"The sandbox's db.query does not emulate {', '.join(unsupported)} (line {statement.line})")
        rows = [copy.deepcopy(r) for r in sorted(table["rows"], key=lambda r: r["id"])]
        returned = self._attr(statement, "return") or {}
        kind = returned.get("type", "list") if isinstance(returned, dict) else "list"
        results: dict[str, Any] = {"list": rows, "count": len(rows), "exists": bool(rows),
                                   "single": rows[0] if rows else None}
        if kind not in results:
            raise fatal(f"The sandbox's db.query does not emulate return type `{kind}` (line {statement.line})")
        return results[kind]
