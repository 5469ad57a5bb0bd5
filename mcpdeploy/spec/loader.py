"""Load `schemas/*.toml` into a `Spec`, or stop with an error naming the file, the line and the problem.

Nothing here talks to a service: the pipeline loads the spec before it builds any client, so a bad schema file
never causes a request.
"""

from __future__ import annotations

from collections.abc import Iterable
from importlib.resources import files
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from mcpdeploy.errors import InputFileError
from mcpdeploy.files.toml_lines import key_lines, line_of
from mcpdeploy.files.tomlread import line_of_key, read_toml
from mcpdeploy.project.settings import CONFIG_FILE, Settings
from mcpdeploy.spec.models import (
    EndpointSpec,
    FieldSpec,
    IndexFieldSpec,
    IndexSpec,
    Loc,
    Problem,
    SchemaFile,
    Spec,
    SpecValueError,
    TableHeader,
    TableSpec,
    spec_problems,
    table_problems,
)

SCHEMA_GLOB = "*.toml"
_HINT = "Fix the schema file and run `mcpdeploy schema validate`."


def default_schema_dir() -> Path:
    """The schemas shipped inside the package (mcp_sessions and usage_logs)."""
    return Path(str(files("mcpdeploy.bundled") / "schemas"))


def resolve_schema_dir(settings: Settings) -> Path:
    """Where the schemas come from: `schemas` in mcpdeploy.toml (relative to the project), else
    `<project>/schemas/` when it holds *.toml files, else the bundled ones."""
    project = settings.project_dir
    if settings.schemas:
        configured = (project / settings.schemas).resolve()
        if not configured.is_dir():
            config = project / CONFIG_FILE
            line = line_of_key(read_toml(config)[1], "schemas") if config.exists() else None
            raise InputFileError(config, f"schemas = {settings.schemas!r}: there is no folder {configured}",
                                 line=line, hint="Point `schemas` at a folder of *.toml schema files.")
        return configured
    local = project / "schemas"
    if local.is_dir() and any(local.glob(SCHEMA_GLOB)):
        return local
    return default_schema_dir()


class _SchemaFileSource:
    """One parsed schema file with what is needed to point at its lines."""

    def __init__(self, path: Path) -> None:
        self.path = path
        data, text = read_toml(path)
        self.data: dict[str, Any] = data
        self.lines = key_lines(text)

    def error(self, loc: Loc, problem: str, *, more: int = 0) -> InputFileError:
        suffix = f" (and {more} more problem{'s' if more > 1 else ''} in this file)" if more else ""
        return InputFileError(self.path, problem + suffix, line=line_of(self.lines, loc), hint=_HINT)

    def location(self, loc: Loc) -> str:
        line = line_of(self.lines, loc)
        return f"{self.path.name}:{line}" if line else self.path.name


def load_spec(schema_dir: Path) -> Spec:
    """Every `*.toml` in `schema_dir` (one table each, in file-name order) checked as a whole."""
    paths = sorted(schema_dir.glob(SCHEMA_GLOB)) if schema_dir.is_dir() else []
    if not paths:
        raise InputFileError(schema_dir, "holds no *.toml schema files",
                             hint="Add a schema file, or remove the setting to use the bundled schemas.")
    sources = [_SchemaFileSource(path) for path in paths]
    tables = _with_default_inputs([_load_table(source) for source in sources])
    problems = list(spec_problems(tables))
    if problems:
        raise _spec_error(problems, sources)
    return Spec(tables=tuple(tables))


def _load_table(source: _SchemaFileSource) -> TableSpec:
    try:
        parsed = SchemaFile.model_validate(source.data)
    except ValidationError as exc:
        errors = sorted(_root_causes(exc.errors()), key=lambda e: line_of(source.lines, _error_loc(e)) or 0)
        first = errors[0]
        raise source.error(_error_loc(first), _describe(first), more=len(errors) - 1) from None
    problems = list(table_problems(parsed))
    if problems:
        raise _spec_error(problems, [source])
    header = parsed.table
    return TableSpec(name=header.name, description=header.description, record=header.record,
                     fields=parsed.fields, indexes=parsed.indexes,
                     endpoints=tuple(_with_table(e, header.name) for e in parsed.endpoints))


def _with_table(endpoint: EndpointSpec, table: str) -> EndpointSpec:
    return endpoint if endpoint.table else endpoint.model_copy(update={"table": table})


def _with_default_inputs(tables: list[TableSpec]) -> list[TableSpec]:
    """A create endpoint that lists no `inputs` takes every field of its table but `id` and the touched ones, so
    a field added to the schema is accepted by its create endpoint without editing the endpoint too."""
    by_name = {t.name: t for t in tables}

    def resolved(endpoint: EndpointSpec) -> EndpointSpec:
        target = by_name.get(endpoint.table or "")
        if endpoint.operation != "create" or "inputs" in endpoint.model_fields_set or target is None:
            return endpoint
        inputs = tuple(f.name for f in target.fields if f.name != "id" and f.name not in endpoint.touch)
        return endpoint.model_copy(update={"inputs": inputs})

    return [t.model_copy(update={"endpoints": tuple(resolved(e) for e in t.endpoints)}) for t in tables]


def _spec_error(problems: list[Problem], sources: list[_SchemaFileSource]) -> InputFileError:
    def order(p: Problem) -> tuple[int, int]:
        return p.table_index, line_of(sources[p.table_index].lines, p.loc) or 0

    problems.sort(key=order)
    first = problems[0]
    source = sources[first.table_index]
    message = first.message
    if first.first is not None:
        index, loc = first.first
        message += f" (first at {sources[index].location(loc)})"
    more = sum(1 for p in problems[1:] if p.table_index == first.table_index)
    return source.error(first.loc, message, more=more)


def _root_causes(errors: list[ErrorDetails]) -> list[ErrorDetails]:
    """Drop errors that only repeat a deeper one (a list "too short" because its only entry was invalid)."""
    locs = [tuple(e["loc"]) for e in errors]
    return [e for e, loc in zip(errors, locs, strict=True)
            if not any(len(other) > len(loc) and other[: len(loc)] == loc for other in locs)]


def _error_loc(error: ErrorDetails) -> Loc:
    loc: Loc = tuple(error["loc"])
    cause = (error.get("ctx") or {}).get("error")
    # Model validators can only report the entry; they name the key they object to, so point at that line.
    return (*loc, cause.key) if isinstance(cause, SpecValueError) else loc


_ENTRY_MODELS: dict[str, type[BaseModel]] = {
    "table": TableHeader, "fields": FieldSpec, "indexes": IndexSpec, "endpoints": EndpointSpec,
}


def _model_at(loc: Loc) -> type[BaseModel]:
    """The model whose keys are valid at `loc` (the location of a key's parent)."""
    if not loc:
        return SchemaFile
    if loc[0] == "indexes" and len(loc) >= 4 and loc[2] == "fields":
        return IndexFieldSpec
    return _ENTRY_MODELS.get(str(loc[0]), SchemaFile)


def _describe(error: ErrorDetails) -> str:
    loc: Loc = tuple(error["loc"])
    where = _where(loc)
    kind = error["type"]
    key = str(loc[-1]) if loc else ""
    if kind == "missing":
        return f"{_where(loc[:-1]) or 'the file'}: missing key `{key}`"
    if kind == "extra_forbidden":
        allowed = ", ".join(_model_at(loc[:-1]).model_fields)
        return f"{_where(loc[:-1]) or 'the file'}: unknown key `{key}` (allowed: {allowed})"
    if kind == "literal_error":
        expected = (error.get("ctx") or {}).get("expected", "")
        noun = "type" if key == "type" else "value"
        return f"{where}: unknown {noun} {error['input']!r} (allowed: {expected.replace(' or ', ', ')})"
    if kind == "value_error":
        cause = (error.get("ctx") or {}).get("error")
        return f"{where}: {cause}" if cause is not None else f"{where}: {error['msg']}"
    return f"{where}: {error['msg'].lower()} (got {error['input']!r})"


def _where(loc: Iterable[str | int]) -> str:
    """`fields[3].type`: the entry numbered from 1, as people count `[[fields]]` blocks."""
    out = ""
    for part in loc:
        out += f"[{part + 1}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out
