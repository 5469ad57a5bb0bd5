"""Every document kind, by the name of its published schema (docs/json/<kind>.schema.json), and the check a
command's document passes before it is printed."""

from __future__ import annotations

from pydantic import BaseModel, ValidationError

from mcpdeploy.cli.documents.auth import AuthDisableDocument, AuthEnableDocument, AuthStatusDocument
from mcpdeploy.cli.documents.common import CommandDocument
from mcpdeploy.cli.documents.doctor import DoctorDocument
from mcpdeploy.cli.documents.history import HistoryDocument, HistoryShowDocument
from mcpdeploy.cli.documents.logs import LogEvent
from mcpdeploy.cli.documents.project import InitDocument, SchemaValidateDocument, XanoscriptDocument
from mcpdeploy.cli.documents.provision import DeployDocument, PlanDocument, ProvisionDocument
from mcpdeploy.cli.documents.rollback import RollbackDocument, RollbackRunDocument
from mcpdeploy.cli.documents.sandbox import SandboxDeployWorkerDocument
from mcpdeploy.cli.documents.secrets import SecretsDecryptDocument, SecretsKeygenDocument
from mcpdeploy.cli.documents.smoke import SmokeTestDocument
from mcpdeploy.cli.documents.state import StatePullDocument, StatePushDocument
from mcpdeploy.cli.documents.status import StatusDocument

# In the order a project meets the commands (as `mcpdeploy --help` lists them).
DOCUMENTS: dict[str, type[CommandDocument]] = {
    "init": InitDocument,
    "plan": PlanDocument,
    "provision": ProvisionDocument,
    "deploy": DeployDocument,
    "smoke-test": SmokeTestDocument,
    "status": StatusDocument,
    "rollback": RollbackDocument,
    "rollback-run": RollbackRunDocument,
    "auth-status": AuthStatusDocument,
    "auth-disable": AuthDisableDocument,
    "auth-enable": AuthEnableDocument,
    "history": HistoryDocument,
    "history-show": HistoryShowDocument,
    "doctor": DoctorDocument,
    "xanoscript": XanoscriptDocument,
    "schema-validate": SchemaValidateDocument,
    "secrets-keygen": SecretsKeygenDocument,
    "secrets-decrypt": SecretsDecryptDocument,
    "state-push": StatePushDocument,
    "state-pull": StatePullDocument,
    "sandbox-deploy-worker": SandboxDeployWorkerDocument,
}

# `logs --json` writes JSON lines, one per event, rather than one document.
LINES: dict[str, type[BaseModel]] = {"logs": LogEvent}


def mismatch(kind: str, text: str) -> str | None:
    """What makes the JSON `text` differ from the model of `kind` (None: it matches), in one line. Strict: a
    string "1" where a number belongs is a mismatch, as the published schema says."""
    model = DOCUMENTS.get(kind) or LINES.get(kind)
    if model is None:
        return f"no document kind {kind!r}"
    try:
        model.model_validate_json(text, strict=True)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "(document)"
        return f"{where}: {first['msg']} ({exc.error_count()} error(s))"
    return None
