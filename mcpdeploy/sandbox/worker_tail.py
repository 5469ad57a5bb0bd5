"""`GET /__tail?script=NAME`: the tail events the sandbox's Worker left (worker_runtime.py), oldest first, in the
shape `wrangler tail --format json` prints, so `mcpdeploy logs --sandbox` reads what a real tail would show.
Cloudflare streams them over a WebSocket; the sandbox answers the ones it kept, as a JSON array."""

from __future__ import annotations

from mcpdeploy.sandbox.analytics_store import analytics
from mcpdeploy.sandbox.messages import SandboxHost, SandboxRequest, SandboxResponse

PATH = "/__tail"


class WorkerTailService:
    prefix = PATH

    def __init__(self, sandbox: SandboxHost) -> None:
        self.sandbox = sandbox

    def claims(self, path: str) -> bool:
        return path == PATH

    def handle(self, request: SandboxRequest) -> SandboxResponse:
        if request.method != "GET":
            return SandboxResponse.json(405, {"error": "GET only"})
        script = request.query.get("script")
        kept = analytics(self.sandbox)["tail"]
        return SandboxResponse.json(200, [e for e in kept if script in (None, "", e.get("scriptName"))])


def mount(sandbox: SandboxHost) -> WorkerTailService:
    return WorkerTailService(sandbox)
