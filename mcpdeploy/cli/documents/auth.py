"""`auth status`, `auth disable` and `auth enable`: the Worker's API-key switch."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from mcpdeploy.cli.documents.common import CommandDocument, HttpCounts


class AuthStatusDocument(CommandDocument):
    """`mcpdeploy auth status --json`. Reads only."""

    command: Literal["auth status"]
    worker: str
    auth: Literal["on", "off", "unknown"] = Field(description='"unknown": the switch is set, but not by an `auth '
                                                              'disable` this project journaled.')
    switch_set: bool
    disabled_until: str | None
    seconds_left: int | None
    expired_leftover: bool = Field(description="The switch is set but has expired: `auth enable` removes it.")
    http: HttpCounts


class AuthDisableDocument(CommandDocument):
    """`mcpdeploy auth disable --for DURATION --json`: auth is off until `disabled_until`."""

    command: Literal["auth disable"]
    worker: str
    auth: Literal["off"]
    disabled_until: str
    seconds: int
    replaced: bool = Field(description="The switch was already set; this replaced its expiry.")
    run_id: str
    http: HttpCounts


class AuthEnableDocument(CommandDocument):
    """`mcpdeploy auth enable --json`: auth is on; `changed` is false when the switch was not set."""

    command: Literal["auth enable"]
    worker: str
    auth: Literal["on"]
    changed: bool
    run_id: str
    http: HttpCounts
