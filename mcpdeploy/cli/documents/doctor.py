"""`doctor`: whether this machine and project can run, one check a line."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from mcpdeploy.cli.documents.common import CommandDocument, Part


class DoctorCheck(Part):
    check: str = Field(description='What was checked, e.g. "settings", "schemas", "services", "node"; new checks '
                                   "come with new names.")
    status: Literal["ok", "warning", "problem"]
    detail: str
    fix: str | None
    exit_code: int = Field(description="The exit code a problem stands for; 0 otherwise.")


class DoctorDocument(CommandDocument):
    """`mcpdeploy doctor --json`: exits 0 without a problem, else with the exit code of the first one."""

    command: Literal["doctor"]
    checks: list[DoctorCheck]
    problems: int = Field(description="How many checks found a problem.")
    warnings: int = Field(description="How many checks found something to look at that does not stop a run.")
