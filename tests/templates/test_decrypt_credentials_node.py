"""The Worker-side helper (templates/worker/decrypt-credentials.mjs) opens what Python encrypted, under Node."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from mcpdeploy.project.secrets import ServiceCredential, build_service_credentials, generate_key

pytestmark = [
    pytest.mark.node,
    pytest.mark.skipif(shutil.which("node") is None, reason="node is not on PATH"),
]

HELPER = Path(__file__).resolve().parents[2] / "templates" / "worker" / "decrypt-credentials.mjs"
RUNNER = """
import { decryptServiceCredentials } from %s;
const input = JSON.parse(await new Response(process.stdin).text());
try {
  const opened = await decryptServiceCredentials(input.document, input.key, input.options);
  process.stdout.write(JSON.stringify({ ok: opened }));
} catch (error) {
  process.stdout.write(JSON.stringify({ error: error.message }));
}
"""
KEY = generate_key()
SERVICES = {
    "xano": ServiceCredential(auth_type="api_key",
                              credentials={"api_key": "sk-'quote\"#$\\n", "base_url": "https://x.n7c.xano.io"}),
    "analytics": ServiceCredential(auth_type="bearer", credentials={"token": "tök€n", "scopes": ["a", "b"]}),
}


def run_helper(tmp_path: Path, document: str, key: str, options: dict[str, str] | None = None) -> dict[str, object]:
    script = tmp_path / "run.mjs"
    script.write_text(RUNNER % json.dumps(HELPER.as_uri()))
    payload = json.dumps({"document": document, "key": key, "options": options or {}})
    done = subprocess.run(["node", str(script)], input=payload, capture_output=True, text=True, check=True)
    result: dict[str, object] = json.loads(done.stdout)
    return result


def test_node_decrypts_what_python_encrypted(tmp_path: Path) -> None:
    document = build_service_credentials(KEY, SERVICES)

    result = run_helper(tmp_path, document, KEY)

    assert result == {"ok": {
        name: {"service_name": name, "auth_type": service.auth_type, "credentials": service.credentials}
        for name, service in SERVICES.items()
    }}


def test_environment_binding_must_match(tmp_path: Path) -> None:
    document = build_service_credentials(KEY, SERVICES, environment="staging")

    assert "ok" in run_helper(tmp_path, document, KEY, {"environment": "staging"})
    assert "authentication failed" in str(run_helper(tmp_path, document, KEY)["error"])


def test_tampered_ciphertext_fails_clearly(tmp_path: Path) -> None:
    document = json.loads(build_service_credentials(KEY, SERVICES))
    head, sealed = document["xano"]["credentials_encrypted"].rsplit(":", 1)
    raw = bytearray(base64.b64decode(sealed))
    raw[-1] ^= 0x80  # flip a bit of the tag
    document["xano"]["credentials_encrypted"] = f"{head}:{base64.b64encode(bytes(raw)).decode()}"

    result = run_helper(tmp_path, json.dumps(document), KEY)

    assert result == {"error": "SERVICE_CREDENTIALS[xano]: authentication failed (the value was altered, "
                               "or it was made for another service or environment)"}


def test_value_swapped_between_services_fails(tmp_path: Path) -> None:
    document = json.loads(build_service_credentials(KEY, SERVICES))
    document["xano"]["credentials_encrypted"] = document["analytics"]["credentials_encrypted"]

    assert "SERVICE_CREDENTIALS[xano]: authentication failed" in str(
        run_helper(tmp_path, json.dumps(document), KEY)["error"])


def test_wrong_key_and_unknown_version_fail_clearly(tmp_path: Path) -> None:
    document = build_service_credentials(KEY, SERVICES)
    other = generate_key()

    wrong = str(run_helper(tmp_path, document, other)["error"])
    assert "encrypted with key" in wrong and KEY not in wrong and other not in wrong
    future = document.replace('"v1:', '"v2:')
    assert "unknown format or version" in str(run_helper(tmp_path, future, KEY)["error"])
