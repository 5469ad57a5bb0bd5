"""The package's shape, enforced: every import (at the top, inside a function or under TYPE_CHECKING) points down
this list, so the folders read as the pipeline they serve and no module waits on one that waits on it."""

from __future__ import annotations

import ast
from pathlib import Path

import mcpdeploy

# Lowest first. A package may import only the ones before it.
LAYERS = (
    "exit_codes", "errors", "redaction",  # the words every layer speaks
    "files",  # reading and writing local files safely (atomic, TOML/JSONC lines, .dev.vars, wrangler config)
    "project",  # settings, the credentials key and SERVICE_CREDENTIALS, the scaffold of `init`
    "spec", "xanoscript",  # what the schemas declare; Xano's script language
    "providers",  # one HTTP client per service
    "state",  # lock, journal, backups, secret-push records, on a local or S3 backend
    "rollback", "smoke", "monitor",  # the way back; the checks of a running Worker; status and logs
    "plan", "apply", "provision",  # spec -> plan -> apply, and the run that ties them together
    "sandbox",  # the local Xano and Cloudflare
    "worker",  # Node, wrangler, dev and deploy
    "doctor",  # whether this machine and project can run: reads of everything above
    "cli",  # the command line
)
DATA = {"bundled"}  # the schemas and templates shipped in the wheel: files, no code
PACKAGE = Path(mcpdeploy.__file__).parent


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    """The mcpdeploy modules `path` imports, wherever the import statement stands."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found |= {f"{node.module}.{alias.name}" for alias in node.names} | {node.module}
    return {name for name in found if name.split(".")[0] == "mcpdeploy"}


def all_modules() -> dict[str, set[str]]:
    modules = {module_name(path): path for path in PACKAGE.rglob("*.py") if "node_modules" not in path.parts}

    def existing(name: str) -> str | None:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        targets = {existing(target) for target in imports_of(path)}
        # `from mcpdeploy.state import StateBackend` names the package: an arrow to its __init__.
        graph[name] = {t for t in targets if t is not None and t != name and t != "mcpdeploy"}
    return graph


def layer(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else None


def test_every_folder_and_root_module_has_its_place_in_the_layers() -> None:
    placed = {layer(name) for name in all_modules()} - {None, "__main__", *DATA}
    assert placed <= set(LAYERS), f"not in LAYERS: {sorted(placed - set(LAYERS))}"


def test_imports_point_down_the_layers_never_up_or_sideways() -> None:
    rank = {name: i for i, name in enumerate(LAYERS)}
    upward = []
    for source, targets in all_modules().items():
        here = layer(source)
        if here in (None, "__main__"):
            continue
        for target in targets:
            there = layer(target)
            if there is not None and there != here and rank[there] > rank[here]:
                upward.append(f"{source} -> {target}")
    assert not upward, "imports against the layers:\n" + "\n".join(sorted(upward))


def test_no_module_imports_itself_back_through_others() -> None:
    graph = all_modules()
    cycles: list[list[str]] = []
    state: dict[str, int] = {}  # 1 on the current path, 2 done

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for target in sorted(graph.get(node, ())):
            if state.get(target) == 1:
                cycles.append([*path[path.index(target):], target] if target in path else [node, target])
            elif target not in state:
                visit(target, [*path, target])
        state[node] = 2

    for start in sorted(graph):
        if start not in state:
            visit(start, [start])
    assert not cycles, "import circles:\n" + "\n".join(" -> ".join(cycle) for cycle in cycles)
