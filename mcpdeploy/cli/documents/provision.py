"""`plan`, `provision` and `deploy`: the plan's changes, what was applied, the Worker version deployed."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import ConfigDict, Field

from mcpdeploy.cli.documents.common import CommandDocument, HttpCounts, Outputs, Part


class ApiGroup(Part):
    model_config = ConfigDict(extra="allow")

    id: int | None
    canonical: str | None
    name: str


class ProvisionOutputs(Outputs):
    """What a next step reads: the Xano API group's base URL (for the Worker), the queue's id. A value appears
    once the resource exists; more may be added."""

    model_config = ConfigDict(extra="allow")

    xano_api_base_url: str | None = None
    xano_api_group_canonical: str | None = None
    api_group: ApiGroup | None = None
    queue_id: str | None = None


class Change(Part):
    provider: str = Field(description='"xano", "cloudflare", "file" or "secrets".')
    kind: str = Field(description='e.g. "create_table", "add_field", "edit_file".')
    action: Literal["create", "update", "delete"]
    resource: str
    reason: str
    risk: Literal["safe", "destructive", "data_loss"]
    details: list[str]
    destructive: bool


class Summary(Part):
    create: int
    update: int
    delete: int
    destructive: int


class Applied(Part):
    resource: str
    kind: str
    action: str
    outcome: Literal["done", "failed"]
    ids: dict[str, Any] = Field(description="What the service gave back (ids, backups, digests).")
    error: str | None = None


class PlanFields(CommandDocument):
    target: dict[str, Any] = Field(description="What was read: the environment, the Xano workspace and branch, the "
                                               "Cloudflare account, queue and Worker.")
    changes: list[Change]
    notes: list[str]
    summary: Summary
    digest: str
    outputs: ProvisionOutputs
    http: HttpCounts
    seconds: float


class PlanDocument(PlanFields):
    """`mcpdeploy plan --json`: the changes provision would make. Reads only."""

    command: Literal["plan"]


class DeployedVersion(Part):
    version_id: str
    percentage: float


class Replaced(Part):
    deployment_id: str
    versions: list[DeployedVersion]


class Deployed(Part):
    """What `deploy` reports, without the head."""

    worker: str
    version_id: str
    deployment_id: str | None
    replaced: Replaced | None
    targets: list[str]
    run_id: str
    seconds: float


class BeforeDeploy(Part):
    run_id: str | None
    applied: list[Applied]


class ProvisionDocument(PlanFields):
    """`mcpdeploy provision --json`: the plan, then what was applied in run `run_id`."""

    command: Literal["provision"]
    run_id: str | None
    applied: list[Applied]
    changed: bool
    deploy: Deployed | None = Field(None, description="With --deploy: the Worker's deploy.")
    before_deploy: BeforeDeploy | None = Field(None, description="With --deploy: the run that applied the "
                                                                 "resources before the deploy.")


class DeployDocument(CommandDocument):
    """`mcpdeploy deploy --json`: the Worker version the deploy made and the deployment it replaced."""

    command: Literal["deploy"]
    outcome: Literal["deployed"]
    worker: str
    version_id: str
    deployment_id: str | None
    replaced: Replaced | None = Field(description="The deployment it replaced; null for the first deploy.")
    targets: list[str] = Field(description="Where wrangler says the Worker is served (workers.dev, routes).")
    run_id: str
    seconds: float
    http: HttpCounts
