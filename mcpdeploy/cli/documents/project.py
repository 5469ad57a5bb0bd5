"""`init`, `schema validate` and `xanoscript`: the project's files, read or written locally."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from mcpdeploy.cli.documents.common import CommandDocument


class InitDocument(CommandDocument):
    """`mcpdeploy init --json`: the files written and the ones merged (paths relative to `folder`)."""

    command: Literal["init"]
    folder: str
    name: str = Field(description="The Worker's name.")
    written: list[str]
    merged: dict[str, list[str]] = Field(description="Each merged file and what was added to it.")


class SchemaValidateDocument(CommandDocument):
    """`mcpdeploy schema validate --json`: what the valid schemas declare (invalid ones exit 8 with an error)."""

    command: Literal["schema validate"]
    valid: Literal[True]
    schema_dir: str
    tables: int
    fields: int
    endpoints: int


class XanoscriptDocument(CommandDocument):
    """`mcpdeploy xanoscript --json`: the XanoScript documents provision would send, by file name."""

    command: Literal["xanoscript"]
    schema_dir: str
    documents: dict[str, str]
