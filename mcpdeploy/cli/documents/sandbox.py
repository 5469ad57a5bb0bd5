"""`sandbox deploy-worker`: a Worker version deployed in the local sandbox."""

from __future__ import annotations

from typing import Literal

from mcpdeploy.cli.documents.common import CommandDocument


class SandboxDeployWorkerDocument(CommandDocument):
    """`mcpdeploy sandbox deploy-worker --json`: the new version, at 100% of traffic."""

    command: Literal["sandbox deploy-worker"]
    script: str
    version_id: str
    version_number: int | None
    deployment_id: str
    created_on: str
