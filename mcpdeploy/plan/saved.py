"""Saved plans: `plan --out FILE` writes what was planned; `provision --plan FILE` applies it only if planning
again now gives exactly the same changes (the same digest), so nothing that changed since is applied unseen."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from mcpdeploy.errors import InputFileError, McpdeployError
from mcpdeploy.exit_codes import ExitCode
from mcpdeploy.files.atomic import write_atomic
from mcpdeploy.plan.models import Plan

FORMAT = "mcpdeploy-plan/1"


class StalePlan(McpdeployError):
    exit_code = ExitCode.STALE_PLAN


def save_plan(plan: Plan, path: Path) -> None:
    document: dict[str, Any] = {"format": FORMAT, **plan.to_json()}
    write_atomic(path, json.dumps(document, indent=2) + "\n", mode=0o600)


def saved_digest(path: Path) -> str:
    try:
        document = json.loads(path.read_text("utf-8"))
    except FileNotFoundError as exc:
        raise InputFileError(path, "no such plan file", hint="Make one with `mcpdeploy plan --out FILE`.") from exc
    except (OSError, ValueError, RecursionError) as exc:
        raise InputFileError(path, f"is not a saved plan ({type(exc).__name__}: {exc})") from exc
    if not isinstance(document, dict) or document.get("format") != FORMAT or "digest" not in document:
        raise InputFileError(path, f"is not a saved plan of this version ({FORMAT})",
                             hint="Make it again with `mcpdeploy plan --out FILE`.")
    return str(document["digest"])


def check_still_current(plan: Plan, path: Path, expected_digest: str) -> None:
    if plan.digest() != expected_digest:
        raise StalePlan(
            f"the plan in {path} no longer matches what exists (saved {expected_digest}, now {plan.digest()}); "
            "nothing was changed",
            hint=f"Review the new plan and save it again: `mcpdeploy plan --out {path}`.",
        )
