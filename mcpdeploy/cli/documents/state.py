"""`state push` and `state pull`: the journal and the secret-push record copied to or from the shared backend."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from mcpdeploy.cli.documents.common import CommandDocument


class StateCopy(CommandDocument):
    environment: str = Field(description='The environment\'s file stem ("default" for the default one).')
    from_: str = Field(alias="from")
    to: str
    runs_copied: list[str] = Field(description="Run ids copied.")
    records_copied: list[str]
    already_there: int = Field(description="Runs and records already on the other side, identical.")
    differing_left_alone: list[str] = Field(description="On both sides with different content: left as they are.")


class StatePushDocument(StateCopy):
    """`mcpdeploy state push --json`: copied from .mcpdeploy/ to the shared backend."""

    command: Literal["state push"]


class StatePullDocument(StateCopy):
    """`mcpdeploy state pull --json`: copied from the shared backend into .mcpdeploy/."""

    command: Literal["state pull"]
