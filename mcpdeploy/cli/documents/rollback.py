"""`rollback` (the Worker's traffic back to an earlier version) and `rollback --run` (undo a recorded run)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import ConfigDict, Field

from mcpdeploy.cli.documents.common import CommandDocument, HttpCounts, Part
from mcpdeploy.cli.documents.provision import DeployedVersion


class Current(Part):
    deployment_id: str | None
    version_id: str | None = Field(description="null when nothing is deployed or traffic is split.")
    versions: list[DeployedVersion]
    deployed_on: str | None
    message: str | None


class Target(Part):
    version_id: str
    version_number: int | None
    deployed_on: str | None
    message: str | None
    chosen_by: Literal["previous_deployment", "to"]


class Skipped(Part):
    version_id: str
    reason: str = Field(description='Why it was passed over, e.g. "same_code_as_live".')
    deployment_id: str
    deployed_on: str


class RollbackDocument(CommandDocument):
    """`mcpdeploy rollback --json` (and with --dry-run): the live version, the version traffic goes back to, and
    the deployments passed over."""

    command: Literal["rollback"]
    dry_run: bool
    outcome: Literal["rolled_back", "would_roll_back", "already_there", "nothing_to_roll_back_to"]
    worker: str
    current: Current
    target: Target | None = Field(description="null when there is nothing to roll back to.")
    skipped: list[Skipped]
    message: str = Field(description="The annotation sent with the new deployment.")
    message_cut: bool
    nothing_to_roll_back_to: bool
    already_there: bool
    run_id: str | None = Field(None, description="Not in a dry run.")
    deployment_id: str | None = Field(None, description="The new deployment; not in a dry run.")
    forced: bool | None = Field(None, description="--force was needed (secrets changed); not in a dry run.")
    http: HttpCounts


class Step(Part):
    resource: str
    undoes: str = Field(description='The kind of change it undoes, e.g. "create_table".')
    status: Literal["will_undo", "already_undone", "needs_data_loss", "cannot_undo", "left_alone"]
    reason: str


class Undone(Part):
    resource: str
    kind: str
    action: str
    outcome: Literal["done"]
    ids: dict[str, Any]


class RollbackRunDocument(CommandDocument):
    """`mcpdeploy rollback --run RUN_ID --json`: the undo of a recorded run, newest change first."""

    model_config = ConfigDict(title="mcpdeploy rollback --run --json")

    command: Literal["rollback"]
    mode: Literal["undo_run"]
    run_id: str = Field(description="The run undone.")
    dry_run: bool
    steps: list[Step]
    applied: list[Undone]
