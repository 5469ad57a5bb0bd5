"""`--sandbox`: point the settings at a sandbox on loopback, exactly as the environment variables would.

If `mcpdeploy sandbox serve` is already running for this project, its server is used (so what you `curl` is what
you provisioned); otherwise an embedded server is started for the length of the command, on the same state folder.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
from collections.abc import Iterator
from pathlib import Path

import httpx

from mcpdeploy.files.wrangler import read_worker_name
from mcpdeploy.project.settings import Settings
from mcpdeploy.sandbox import credentials
from mcpdeploy.sandbox.core import Sandbox
from mcpdeploy.sandbox.server import SandboxServer

SERVER_FILE = "server.json"


def sandbox_dir(settings: Settings) -> Path:
    return settings.state_dir / "sandbox"


def point_at_sandbox(settings: Settings, url: str) -> Settings:
    """The settings a user would get by exporting the sandbox's URLs and credentials."""
    data = settings.model_dump()
    data["xano"].update(
        instance_url=url,
        workspace_id=credentials.XANO_WORKSPACE_ID,
        metadata_token=credentials.XANO_METADATA_TOKEN,
    )
    data["cloudflare"].update(
        api_base_url=f"{url}/client/v4",
        account_id=credentials.CLOUDFLARE_ACCOUNT_ID,
        api_token=credentials.CLOUDFLARE_API_TOKEN,
        # As a real run would: the configured name, else wrangler's, and only then the sandbox's default.
        worker_name=settings.cloudflare.worker_name
        or read_worker_name(settings.project_dir, settings.env_name)
        or credentials.WORKER_NAME,
    )
    data["smoke"]["mcp_url"] = f"{url}/mcp"
    # Runs against the sandbox are not the team's: they never take the shared lock or enter the shared journal.
    data["state"] = {"backend": "local"}
    return Settings.model_validate(data)


def running_server_url(settings: Settings) -> str | None:
    """The URL of a `sandbox serve` of this project that answers its health check, if any."""
    path = sandbox_dir(settings) / SERVER_FILE
    try:
        info = json.loads(path.read_text("utf-8"))
        url = str(info["url"])
        if httpx.get(f"{url}/__sandbox/health", timeout=1.0).status_code == 200:
            return url
    except (OSError, ValueError, KeyError, httpx.HTTPError):
        return None
    return None


PORT_FILE = "port"


def project_port(settings: Settings) -> int:
    """The loopback port this project's sandbox uses, chosen once and kept, so its URLs (which provision writes
    into SERVICE_CREDENTIALS) stay the same from one run to the next."""
    path = sandbox_dir(settings) / PORT_FILE
    recorded = _read_port(path)
    if recorded is not None:
        return recorded
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    path.parent.mkdir(parents=True, exist_ok=True)
    # Written whole to a temp file, then linked into place: a reader never sees it half written, and of two
    # runs starting at once the first link wins and both use its port. A damaged file is replaced.
    tmp = path.with_name(f".{PORT_FILE}.{os.getpid()}")
    tmp.write_text(f"{port}\n", "ascii")
    try:
        if recorded is None and path.exists():
            path.unlink()
        os.link(tmp, path)
    except FileExistsError:
        pass
    finally:
        tmp.unlink(missing_ok=True)
    return _read_port(path) or port


def _read_port(path: Path) -> int | None:
    with contextlib.suppress(OSError, ValueError):
        port = int(path.read_text("ascii").strip())
        if 0 < port < 65536:
            return port
    return None


def start_server(settings: Settings, port: int | None = None) -> SandboxServer:
    """A server for the project's sandbox on its own port; on an ephemeral one if that port is taken."""
    sandbox = Sandbox(sandbox_dir(settings))
    try:
        return SandboxServer(sandbox, port=project_port(settings) if port is None else port)
    except OSError:
        return SandboxServer(sandbox, port=0)


@contextlib.contextmanager
def sandbox_settings(settings: Settings) -> Iterator[Settings]:
    url = running_server_url(settings)
    if url is not None:
        yield point_at_sandbox(settings, url)
        return
    with start_server(settings) as server:
        yield point_at_sandbox(settings, server.url)


def record_served(settings: Settings, url: str) -> Path:
    path = sandbox_dir(settings) / SERVER_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"url": url, "pid": os.getpid()}), "utf-8")
    return path
