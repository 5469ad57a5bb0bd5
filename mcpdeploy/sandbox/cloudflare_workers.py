"""The sandbox's Worker scripts: versions, deployments and secrets, as Cloudflare's Workers API documents them.

- Uploading a version (multipart, `POST …/versions`) makes the script exist; it is not deployed until a
  deployment sends it traffic. With `keep_bindings` naming `secret_text` it keeps the latest version's secrets.
- Uploading the script itself (multipart, `PUT …/scripts/{name}`, what `wrangler deploy` does) makes a version and
  deploys it at once, both annotated "upload", the deployment with the message "Automatic deployment on upload."
  (recorded for a Worker's first deploy). mcpdeploy never sends this; it is here for tests that need a Worker
  deployed the way wrangler deploys one.
- Annotations are the ones Cloudflare was seen writing: `workers/triggered_by` is "upload" on a script's first
  version and on script uploads with their automatic deployments, "version_upload" on later uploaded versions,
  "deployment" on every `POST …/deployments` (a rollback included: the API never writes "rollback" there, that
  value belongs to its 2023 predecessor) with the client's `workers/message`, and "secret" on the version and the
  deployment a secret edit makes. Version metadata says `has_preview` (snake case).
- A deployment of an older version whose secrets differ from the latest's is refused with 10220 unless `?force=true`.
- Secrets belong to versions: each put/bulk/delete makes one new version and deploys it at 100%, and is refused
  with 10215 while the latest version is not the deployed one (10222 when there is no version at all).
- Secret values are never readable. The state keeps a keyed fingerprint of each (enough to tell "changed"), not
  the value, so a planted secret can be searched for in every file; the exception is READABLE_SECRET_NAMES,
  switches whose value is an expiry time that the sandbox's MCP endpoint has to read.
"""

from __future__ import annotations

import email.parser
import email.policy
import hashlib
import hmac
import json
import secrets as random_tokens
import uuid
from typing import Any

from mcpdeploy.sandbox.cloudflare_envelope import (
    BODY_INVALID,
    BODY_MALFORMED,
    LATEST_NOT_DEPLOYED,
    NO_ROUTE,
    NO_VERSIONS,
    SANDBOX_NOT_FOUND,
    SECRET_NOT_FOUND,
    SECRETS_CHANGED,
    WORKER_NOT_FOUND,
    CloudflareFailure,
    is_true,
    json_body,
    ok,
    page_of,
    timestamp,
)
from mcpdeploy.sandbox.messages import SandboxRequest, SandboxResponse

READABLE_SECRET_NAMES = frozenset({"MCP_AUTH_DISABLED_UNTIL"})
AUTHOR_EMAIL = "sandbox@example.com"
AUTHOR_ID = "5a9d0b7c1e2f34a6b8c0d1e2f3a4b5c6"
VERSIONS_PER_PAGE = 20
# The current API keeps the first 1000 bytes of a version's or a deployment's workers/message and drops the rest
# (the 2024 spec's maxLength of 50 characters is no longer what it does).
MAX_MESSAGE_BYTES = 1000
# `workers/triggered_by` values (see the module docstring).
UPLOAD = "upload"
VERSION_UPLOAD = "version_upload"
DEPLOYMENT = "deployment"
SECRET = "secret"
AUTOMATIC_DEPLOYMENT_MESSAGE = "Automatic deployment on upload."
ACCOUNT_SUBDOMAIN = "sandbox"
SECRET_TYPES = frozenset({"secret_text", "secret_key"})
DEFAULT_SCRIPT_SETTINGS = {"logpush": False, "observability": None, "tags": None, "tail_consumers": None}


def handle_script(section: dict[str, Any], request: SandboxRequest, script: str, rest: list[str]) -> SandboxResponse:
    """`rest` is the path after `/accounts/{id}/workers/scripts/{script}`, split on `/`."""
    scripts: dict[str, Any] = section.setdefault("scripts", {})
    head = rest[0] if rest else ""
    if head == "versions" and request.method == "POST" and len(rest) == 1:
        return _upload_version(section, scripts, request, script)
    if not rest and request.method == "PUT":
        return _upload_script(section, scripts, request, script)
    if script not in scripts:
        raise CloudflareFailure(404, WORKER_NOT_FOUND, "This Worker does not exist on your account.")
    worker: dict[str, Any] = scripts[script]
    route = (request.method, head, len(rest))
    if head == "subdomain" and len(rest) == 1 and request.method in ("GET", "POST"):
        return ok(_script_subdomain(worker, request))
    if route == ("GET", "settings", 1):
        return ok(_settings(worker))
    if route == ("GET", "versions", 1):
        return _list_versions(worker, request)
    if route == ("GET", "versions", 2):
        return ok(_public_version(_version(worker, rest[1]), full=True))
    if route == ("GET", "deployments", 1):
        return ok({"deployments": [dict(d) for d in reversed(worker["deployments"])]})
    if route == ("GET", "deployments", 2):
        found = next((d for d in worker["deployments"] if d["id"] == rest[1]), None)
        if found is None:
            raise CloudflareFailure(404, SANDBOX_NOT_FOUND, f"Deployment {rest[1]} not found")
        return ok(found)
    if route == ("POST", "deployments", 1):
        return ok(_create_deployment(section, worker, request))
    if head == "script-settings" and len(rest) == 1 and request.method in ("GET", "PATCH"):
        if request.method == "PATCH":
            worker["settings"] = {**worker.get("settings", DEFAULT_SCRIPT_SETTINGS), **json_body(request)}
        return ok(worker.get("settings", DEFAULT_SCRIPT_SETTINGS))
    if head in ("secrets", "secrets-bulk"):
        return _secrets(section, worker, request, rest)
    raise CloudflareFailure(404, NO_ROUTE, "No route for the URI")


# -- services and the account's workers.dev subdomain -------------------------------------------------------------


def handle_service(section: dict[str, Any], script: str) -> SandboxResponse:
    """`GET …/workers/services/{name}`: the Worker as a service with its default (production) environment, which
    `wrangler deploy` reads first (10007 tells it the Worker is new; `script.tag` and `last_deployed_from` decide
    what it checks and asks before uploading)."""
    worker = section.get("scripts", {}).get(script)
    if worker is None:
        raise CloudflareFailure(404, WORKER_NOT_FOUND, "This Worker does not exist on your account.")
    latest = worker["versions"][-1] if worker["versions"] else {}
    modified = worker.get("modified_on", worker["created_on"])
    runtime = latest.get("runtime", {})
    details = {"id": script, "tag": _tag(worker), "tags": None, "etag": latest.get("etag", ""),
               "handlers": ["fetch"], "created_on": worker["created_on"], "modified_on": modified,
               "usage_model": "standard", "compatibility_date": runtime.get("compatibility_date", ""),
               "compatibility_flags": runtime.get("compatibility_flags", []),
               "last_deployed_from": worker.get("last_deployed_from", "api")}
    return ok({"id": script, "created_on": worker["created_on"], "modified_on": modified,
               "default_environment": {"environment": "production", "created_on": worker["created_on"],
                                       "modified_on": modified, "script": details},
               "environments": [{"environment": "production", "created_on": worker["created_on"],
                                 "modified_on": modified}]})


def handle_subdomain(section: dict[str, Any]) -> SandboxResponse:
    """`GET …/workers/subdomain`: the account's workers.dev subdomain, registered from the start."""
    return ok({"subdomain": ACCOUNT_SUBDOMAIN})


def _tag(worker: dict[str, Any]) -> str:
    """The Worker's permanent id (`script.tag`), made once; Workers stored before it existed get one on read."""
    tag: str = worker.setdefault("tag", uuid.uuid4().hex)
    return tag


def handle_worker(section: dict[str, Any], request: SandboxRequest, script: str) -> SandboxResponse:
    """`GET …/workers/workers/{name}`: the Worker in the newer Workers API, which `wrangler deploy` reads for the
    state of its workers.dev route before setting it."""
    worker = section.get("scripts", {}).get(script)
    if worker is None:
        raise CloudflareFailure(404, WORKER_NOT_FOUND, "This Worker does not exist on your account.")
    settings = worker.get("settings", DEFAULT_SCRIPT_SETTINGS)
    return ok({"id": _tag(worker), "name": script, "created_on": worker["created_on"],
               "updated_on": worker.get("modified_on", worker["created_on"]), "logpush": settings["logpush"],
               "observability": settings["observability"], "tags": settings["tags"] or [],
               "tail_consumers": settings["tail_consumers"] or [], "subdomain": dict(_subdomain_state(worker))})


def _subdomain_state(worker: dict[str, Any]) -> dict[str, bool]:
    """A Worker's workers.dev route and preview URLs: both off until a client turns them on."""
    state: dict[str, bool] = worker.setdefault("subdomain", {"enabled": False, "previews_enabled": False})
    return state


def _script_subdomain(worker: dict[str, Any], request: SandboxRequest) -> dict[str, bool]:
    """`GET`/`POST …/scripts/{name}/subdomain` (`{enabled, previews_enabled}`); a POST without
    `previews_enabled` makes it follow `enabled`."""
    state = _subdomain_state(worker)
    if request.method == "POST":
        body = json_body(request)
        enabled = body.get("enabled")
        previews = body.get("previews_enabled", enabled)
        if not isinstance(enabled, bool) or not isinstance(previews, bool):
            raise CloudflareFailure(400, BODY_INVALID, "enabled and previews_enabled must be booleans")
        state.update(enabled=enabled, previews_enabled=previews)
    return dict(state)


def _settings(worker: dict[str, Any]) -> dict[str, Any]:
    """`GET …/scripts/{name}/settings`: the deployed version's bindings and runtime, and the script settings."""
    latest = worker["versions"][-1] if worker["versions"] else {}
    runtime = latest.get("runtime", {})
    settings = worker.get("settings", DEFAULT_SCRIPT_SETTINGS)
    return {"bindings": _bindings(latest) if latest else [], "compatibility_date": runtime.get("compatibility_date"),
            "compatibility_flags": runtime.get("compatibility_flags", []), "placement": {},
            "usage_model": "standard", **settings}


# -- versions ---------------------------------------------------------------------------------------------------


def _upload_version(section: dict[str, Any], scripts: dict[str, Any], request: SandboxRequest,
                    script: str) -> SandboxResponse:
    _, version = _store_upload(section, scripts, request, script, first=UPLOAD, later=VERSION_UPLOAD)
    return ok({**_public_version(version, full=True), "startup_time_ms": 0})


def _upload_script(section: dict[str, Any], scripts: dict[str, Any], request: SandboxRequest,
                   script: str) -> SandboxResponse:
    worker, version = _store_upload(section, scripts, request, script, first=UPLOAD, later=UPLOAD)
    deployment = _deploy(section, worker, [(version["id"], 100.0)], UPLOAD, AUTOMATIC_DEPLOYMENT_MESSAGE)
    # `deployment_id` names the new version, not the deployment: wrangler deploy takes it as the version id (it
    # writes it to its output file as `version_id`), a name kept from the 2023 API where deployments were versions.
    return ok({"id": script, "etag": version["etag"], "created_on": worker["created_on"],
               "modified_on": deployment["created_on"], "deployment_id": version["id"],
               "startup_time_ms": 0})


def _store_upload(section: dict[str, Any], scripts: dict[str, Any], request: SandboxRequest, script: str, *,
                  first: str, later: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Read a multipart upload and store it as the script's next version, annotated `first` for the script's first
    version and `later` after that."""
    parts = _multipart_parts(request)
    try:
        metadata = json.loads(parts.get("metadata", b"").decode("utf-8"))
    except ValueError as exc:
        raise CloudflareFailure(400, BODY_MALFORMED, "the metadata part must be JSON") from exc
    if not isinstance(metadata, dict):
        raise CloudflareFailure(400, BODY_INVALID, "the metadata part must be a JSON object")
    main = metadata.get("main_module")
    if not isinstance(main, str) or main not in parts:
        raise CloudflareFailure(400, BODY_INVALID, "metadata.main_module must name an uploaded part")
    annotations = metadata.get("annotations") or {}
    message = annotations.get("workers/message") if isinstance(annotations, dict) else None
    if message is not None and not isinstance(message, str):
        raise CloudflareFailure(400, BODY_INVALID, "workers/message must be a string")
    worker = scripts.setdefault(script, {"created_on": timestamp(section), "versions": [], "deployments": []})
    worker["modified_on"] = timestamp(section)
    # What `GET …/workers/services/{name}` reports, and what makes wrangler warn before overwriting edits made
    # elsewhere ("api", "dash"); the sandbox tells wrangler from other clients by its User-Agent.
    agent = request.headers.get("user-agent", "")
    source = worker["last_deployed_from"] = "wrangler" if agent.startswith("wrangler/") else "api"
    keep = metadata.get("keep_bindings") or []
    inherited = dict(worker["versions"][-1]["secrets"]) if worker["versions"] and "secret_text" in keep else {}
    runtime = {"compatibility_date": metadata.get("compatibility_date", ""),
               "compatibility_flags": metadata.get("compatibility_flags", [])}
    version = _new_version(section, worker, inherited, later if worker["versions"] else first, message,
                           runtime, hashlib.sha256(parts[main]).hexdigest(),
                           _plain_bindings(metadata, worker["versions"][-1] if worker["versions"] else None), source)
    return worker, version


def _plain_bindings(metadata: dict[str, Any], previous: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The upload's bindings other than secrets (queues, vars, Durable Objects...); secrets are kept apart, by
    fingerprint only. A binding `{"type": "inherit", "name": N}` (what wrangler sends for a resource that is already
    bound) takes binding N of the previous version, and naming one that does not exist is refused."""
    bindings = metadata.get("bindings") or []
    if not isinstance(bindings, list) or not all(isinstance(b, dict) and isinstance(b.get("name"), str)
                                                 and isinstance(b.get("type"), str) for b in bindings):
        raise CloudflareFailure(400, BODY_INVALID, "metadata.bindings must be a list of objects with name and type")
    before = {b["name"]: b for b in (previous or {}).get("bindings", [])}
    kept: list[dict[str, Any]] = []
    for binding in bindings:
        if binding["type"] == "inherit":
            if binding["name"] not in before and binding["name"] not in (previous or {}).get("secrets", {}):
                raise CloudflareFailure(400, BODY_INVALID, f"binding {binding['name']!r} is marked inherit, but the "
                                                           "previous version has no binding of that name")
            kept += [before[binding["name"]]] if binding["name"] in before else []
        elif binding["type"] not in SECRET_TYPES:
            kept.append(binding)
    return kept


def _multipart_parts(request: SandboxRequest) -> dict[str, bytes]:
    if request.content_type != "multipart/form-data":
        raise CloudflareFailure(400, BODY_INVALID, "a version upload is multipart/form-data")
    header = f"Content-Type: {request.headers.get('content-type', '')}\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(header + request.body)
    parts: dict[str, bytes] = {}
    if message.is_multipart():
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            payload = part.get_payload(decode=True)
            if isinstance(name, str) and isinstance(payload, bytes):
                parts[name] = payload
    if not parts:
        raise CloudflareFailure(400, BODY_MALFORMED, "no parts found in the multipart body")
    return parts


def _new_version(section: dict[str, Any], worker: dict[str, Any], secrets: dict[str, Any], triggered_by: str,
                 message: str | None, runtime: dict[str, Any] | None = None, etag: str | None = None,
                 bindings: list[dict[str, Any]] | None = None, source: str = "api") -> dict[str, Any]:
    previous = worker["versions"][-1] if worker["versions"] else {}
    now = timestamp(section)
    annotations = {"workers/triggered_by": triggered_by}
    if message:
        annotations["workers/message"] = _truncated(message)
    version = {
        "id": str(uuid.uuid4()), "number": len(worker["versions"]) + 1, "annotations": annotations,
        "metadata": {"author_email": AUTHOR_EMAIL, "author_id": AUTHOR_ID, "created_on": now, "modified_on": now,
                     "source": source, "has_preview": False},
        "secrets": secrets,
        "bindings": bindings if bindings is not None else previous.get("bindings", []),
        "runtime": runtime if runtime is not None else previous.get("runtime", {}),
        "etag": etag if etag is not None else previous.get("etag", ""),
    }
    worker["versions"].append(version)
    return version


def _public_version(version: dict[str, Any], *, full: bool = False) -> dict[str, Any]:
    public = {k: version[k] for k in ("id", "number", "metadata", "annotations")}
    if full:
        public["resources"] = {"script": {"etag": version["etag"]}, "bindings": _bindings(version),
                               "script_runtime": version["runtime"]}
    return public


def _bindings(version: dict[str, Any]) -> list[dict[str, Any]]:
    secrets = [{"name": n, "type": s["type"]} for n, s in version["secrets"].items()]
    return sorted([*version.get("bindings", []), *secrets], key=lambda b: str(b["name"]))


def _version(worker: dict[str, Any], version_id: str) -> dict[str, Any]:
    for version in worker["versions"]:
        if version["id"] == version_id:
            found: dict[str, Any] = version
            return found
    raise CloudflareFailure(404, SANDBOX_NOT_FOUND, f"Version {version_id} not found")


def _list_versions(worker: dict[str, Any], request: SandboxRequest) -> SandboxResponse:
    newest_first = [_public_version(v) for v in reversed(worker["versions"])]
    if is_true(request, "deployable"):  # ignores pagination
        return ok({"items": newest_first})
    chunk, info = page_of(newest_first, request, default_per_page=VERSIONS_PER_PAGE)
    return ok({"items": chunk}, info)


# -- deployments ------------------------------------------------------------------------------------------------


def _create_deployment(section: dict[str, Any], worker: dict[str, Any], request: SandboxRequest) -> dict[str, Any]:
    body = json_body(request)
    versions = body.get("versions")
    if body.get("strategy") != "percentage":
        raise CloudflareFailure(400, BODY_INVALID, "strategy must be 'percentage'")
    if not isinstance(versions, list) or not 1 <= len(versions) <= 2:
        raise CloudflareFailure(400, BODY_INVALID, "a deployment has one or two versions")
    try:
        split = [(str(v["version_id"]), float(v["percentage"])) for v in versions]
    except (KeyError, TypeError, ValueError) as exc:
        raise CloudflareFailure(400, BODY_INVALID, "each version needs version_id and percentage") from exc
    if abs(sum(p for _, p in split) - 100) > 1e-6:
        raise CloudflareFailure(400, BODY_INVALID, "version percentages must total 100")
    targets = [_version(worker, version_id) for version_id, _ in split]
    latest = worker["versions"][-1]
    if not is_true(request, "force"):
        changed = sorted({name for t in targets if t is not latest for name in _secret_changes(t, latest)})
        if changed:
            raise CloudflareFailure(400, SECRETS_CHANGED, "The following secrets have changed: " + ", ".join(changed))
    annotations = body.get("annotations") or {}
    message = annotations.get("workers/message") if isinstance(annotations, dict) else None
    return _deploy(section, worker, split, DEPLOYMENT, message)


def _deploy(section: dict[str, Any], worker: dict[str, Any], split: list[tuple[str, float]], triggered_by: str,
            message: str | None) -> dict[str, Any]:
    annotations = {"workers/triggered_by": triggered_by}
    if isinstance(message, str) and message:
        annotations["workers/message"] = _truncated(message)
    deployment = {
        "id": str(uuid.uuid4()), "created_on": timestamp(section), "source": "api", "author_email": AUTHOR_EMAIL,
        "strategy": "percentage",
        "versions": [{"version_id": v, "percentage": int(p) if p.is_integer() else p} for v, p in split],
        "annotations": annotations,
    }
    worker["deployments"].append(deployment)
    return deployment


def _truncated(message: str) -> str:
    """The first MAX_MESSAGE_BYTES bytes of `message`, never ending in part of a character."""
    return message.encode("utf-8")[:MAX_MESSAGE_BYTES].decode("utf-8", errors="ignore")


def _secret_changes(old: dict[str, Any], new: dict[str, Any]) -> set[str]:
    names = set(old["secrets"]) | set(new["secrets"])
    return {n for n in names if _fingerprint(old, n) != _fingerprint(new, n)}


def _fingerprint(version: dict[str, Any], name: str) -> str | None:
    stored = version["secrets"].get(name)
    return str(stored["fingerprint"]) if stored else None


# -- secrets ----------------------------------------------------------------------------------------------------


def _secrets(section: dict[str, Any], worker: dict[str, Any], request: SandboxRequest,
             rest: list[str]) -> SandboxResponse:
    current = worker["versions"][-1]["secrets"] if worker["versions"] else {}
    if rest == ["secrets"] and request.method == "GET":
        return ok([{"name": n, "type": s["type"]} for n, s in sorted(current.items())])
    if len(rest) == 2 and rest[0] == "secrets" and request.method in ("GET", "DELETE"):
        name = rest[1]
        if name not in current:
            raise CloudflareFailure(404, SECRET_NOT_FOUND, "workers.api.error.binding_not_found")
        if request.method == "GET":
            return ok({"name": name, "type": current[name]["type"]})
        _edit_secrets(section, worker, {name: None})
        return ok(None)
    if rest == ["secrets"] and request.method == "PUT":
        binding = json_body(request)
        _edit_secrets(section, worker, {str(binding.get("name", "")): binding})
        return ok({"name": binding["name"], "type": binding["type"]})
    if rest == ["secrets-bulk"] and request.method == "PATCH":
        patch = json_body(request, media="application/merge-patch+json").get("secrets")
        if not isinstance(patch, dict):
            raise CloudflareFailure(400, BODY_INVALID, "secrets must be an object of name -> binding or null")
        _edit_secrets(section, worker, patch)
        return ok({})
    raise CloudflareFailure(404, NO_ROUTE, "No route for the URI")


def _edit_secrets(section: dict[str, Any], worker: dict[str, Any], patch: dict[str, Any]) -> None:
    """Apply a merge patch (binding = set, None = delete) as one new version, deployed at 100%."""
    if not worker["versions"]:
        raise CloudflareFailure(400, NO_VERSIONS, "There are no uploaded versions of this Worker")
    latest = worker["versions"][-1]
    live = worker["deployments"][-1] if worker["deployments"] else None
    if live is None or [(v["version_id"], v["percentage"]) for v in live["versions"]] != [(latest["id"], 100)]:
        raise CloudflareFailure(400, LATEST_NOT_DEPLOYED, "Secret edit failed. You attempted to modify a secret, but "
                                                          "the latest version of your Worker isn't currently deployed.")
    secrets = dict(latest["secrets"])
    salt = bytes.fromhex(section.setdefault("secret_salt", random_tokens.token_hex(16)))
    for name, binding in patch.items():
        if binding is None:
            secrets.pop(name, None)
            continue
        secrets[name] = _stored_secret(name, binding, salt)
    version = _new_version(section, worker, secrets, SECRET, None)
    _deploy(section, worker, [(version["id"], 100.0)], SECRET, None)


def _stored_secret(name: str, binding: Any, salt: bytes) -> dict[str, Any]:
    if not isinstance(binding, dict) or binding.get("name") != name:
        raise CloudflareFailure(400, BODY_INVALID, f"secret {name!r}: a binding object with a matching name")
    kind = binding.get("type")
    if kind == "secret_text" and isinstance(binding.get("text"), str):
        value = str(binding["text"])
    elif kind == "secret_key" and (binding.get("key_base64") or binding.get("key_jwk")):
        value = json.dumps(binding.get("key_base64") or binding.get("key_jwk"), sort_keys=True)
    else:
        raise CloudflareFailure(400, BODY_INVALID, f"secret {name!r}: type secret_text with text, or secret_key")
    stored = {"type": kind, "fingerprint": hmac.new(salt, value.encode("utf-8"), hashlib.sha256).hexdigest()}
    if name in READABLE_SECRET_NAMES:
        stored["value"] = value
    return stored


def deployed_secret(worker: dict[str, Any] | None, name: str) -> dict[str, Any] | None:
    """The stored form of secret `name` in the version serving all traffic (None without one)."""
    if not worker or not worker["deployments"]:
        return None
    live = worker["deployments"][-1]["versions"]
    top = max(live, key=lambda v: v["percentage"])["version_id"]
    version = next((v for v in worker["versions"] if v["id"] == top), None)
    found = version["secrets"].get(name) if version else None
    return dict(found) if found else None


