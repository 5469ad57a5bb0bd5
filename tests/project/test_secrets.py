"""SERVICE_CREDENTIALS encryption: AES-256-GCM values bound to their service, keys kept privately."""

from __future__ import annotations

import base64
import json
import re
import stat
from pathlib import Path

import pytest

from mcpdeploy.errors import InputFileError, UsageError
from mcpdeploy.project.secrets import (
    CredentialsDecryptError,
    PlaintextCredentialsWarning,
    ServiceCredential,
    build_service_credentials,
    create_key_file,
    decrypt_credentials,
    decrypt_service_credentials,
    derive_fingerprint_key,
    encrypt_credentials,
    fingerprint,
    generate_key,
    key_id,
    load_key,
    load_or_create_key,
    same_plaintext,
)
from mcpdeploy.project.settings import EnvVars

KEY = generate_key()
OTHER_KEY = generate_key()
PLANTED = "sk-planted-4f1c9e"
XANO = ServiceCredential(auth_type="api_key", credentials={"api_key": PLANTED, "base_url": "https://x.xano.io"})


def test_round_trip_and_documented_format() -> None:
    value = encrypt_credentials(KEY, "xano", XANO.credentials)

    version, value_key_id, nonce, sealed = value.split(":")
    assert version == "v1" and value_key_id == key_id(KEY) and re.fullmatch(r"[0-9a-f]{12}", value_key_id)
    assert len(base64.b64decode(nonce)) == 12
    assert len(base64.b64decode(sealed)) == len(json.dumps(XANO.credentials, separators=(",", ":"))) + 16
    assert PLANTED not in value
    assert decrypt_credentials(KEY, "xano", value) == XANO.credentials


def test_every_value_gets_a_fresh_nonce() -> None:
    first, second = (encrypt_credentials(KEY, "xano", XANO.credentials) for _ in range(2))
    assert first != second
    assert first.split(":")[2] != second.split(":")[2]


def test_tampered_value_fails_naming_the_service_not_the_key() -> None:
    value = encrypt_credentials(KEY, "xano", XANO.credentials)
    head, sealed = value.rsplit(":", 1)
    raw = bytearray(base64.b64decode(sealed))
    raw[0] ^= 1
    tampered = f"{head}:{base64.b64encode(bytes(raw)).decode()}"

    with pytest.raises(CredentialsDecryptError) as caught:
        decrypt_credentials(KEY, "xano", tampered)

    assert "'xano'" in caught.value.message and "failed authentication" in caught.value.message
    assert KEY not in str(caught.value) and KEY not in (caught.value.hint or "")


def test_wrong_key_is_reported_by_key_id() -> None:
    value = encrypt_credentials(KEY, "xano", XANO.credentials)

    with pytest.raises(CredentialsDecryptError) as caught:
        decrypt_credentials(OTHER_KEY, "xano", value)

    assert f"encrypted with key {key_id(KEY)}, but the key in use is {key_id(OTHER_KEY)}" in caught.value.message
    assert OTHER_KEY not in caught.value.message


def test_value_moved_to_another_service_or_environment_does_not_open() -> None:
    value = encrypt_credentials(KEY, "xano", XANO.credentials, environment="staging")

    for service, environment in (("stripe", "staging"), ("xano", "production"), ("xano", None)):
        with pytest.raises(CredentialsDecryptError, match="made for another service or environment"):
            decrypt_credentials(KEY, service, value, environment=environment)
    assert decrypt_credentials(KEY, "xano", value, environment="staging") == XANO.credentials


def test_unknown_version_is_refused() -> None:
    value = encrypt_credentials(KEY, "xano", XANO.credentials).replace("v1:", "v9:", 1)
    with pytest.raises(CredentialsDecryptError, match="unknown format"):
        decrypt_credentials(KEY, "xano", value)


def test_bad_key_is_a_usage_error_that_does_not_echo_it() -> None:
    with pytest.raises(UsageError) as caught:
        encrypt_credentials("bm90LWEta2V5", "xano", {})
    assert "32 bytes" in caught.value.message and "bm90LWEta2V5" not in caught.value.message


def test_document_has_the_checklist_shape() -> None:
    document = json.loads(build_service_credentials(KEY, {"xano": XANO}))

    assert list(document) == ["xano"]
    assert document["xano"]["service_name"] == "xano"
    assert document["xano"]["auth_type"] == "api_key"
    assert document["xano"]["credentials_encrypted"].startswith(f"v1:{key_id(KEY)}:")
    assert decrypt_service_credentials(json.dumps(document), KEY) == {
        "xano": {"service_name": "xano", "auth_type": "api_key", "credentials": XANO.credentials},
    }


def test_legacy_plaintext_form_is_read_with_a_warning() -> None:
    legacy = json.dumps({"xano": {"service_name": "xano", "auth_type": "api_key",
                                  "credentials_encrypted": 'encrypted:{"api_key":"YOUR_KEY"}'}})

    with pytest.warns(PlaintextCredentialsWarning, match="NOT encrypted"):
        opened = decrypt_service_credentials(legacy, None)

    assert opened["xano"]["credentials"] == {"api_key": "YOUR_KEY"}
    assert not same_plaintext(legacy, KEY, {"xano": ServiceCredential(auth_type="api_key",
                                                                       credentials={"api_key": "YOUR_KEY"})})


def test_same_plaintext_lets_provision_keep_unchanged_bytes() -> None:
    existing = build_service_credentials(KEY, {"xano": XANO})
    changed = ServiceCredential(auth_type="api_key", credentials={**XANO.credentials, "api_key": "sk-new"})

    assert same_plaintext(existing, KEY, {"xano": XANO})
    assert not same_plaintext(existing, KEY, {"xano": changed})
    assert not same_plaintext(existing, KEY, {"xano": XANO, "stripe": XANO})
    assert not same_plaintext(existing, OTHER_KEY, {"xano": XANO})
    assert not same_plaintext(None, KEY, {"xano": XANO})
    assert not same_plaintext("{not json", KEY, {"xano": XANO})


def test_credentials_never_show_in_repr() -> None:
    assert PLANTED not in repr(XANO) and PLANTED not in str(XANO)


def test_fingerprint_is_keyed_and_holds_no_value() -> None:
    key = derive_fingerprint_key(KEY)
    mark = fingerprint(key, PLANTED)

    assert mark == fingerprint(key, PLANTED)
    assert mark != fingerprint(key, PLANTED + "x")
    assert mark != fingerprint(derive_fingerprint_key(OTHER_KEY), PLANTED)
    assert re.fullmatch(r"hmac-sha256:[0-9a-f]{64}", mark)


def test_key_file_is_created_once_privately(project: Path) -> None:
    key = load_or_create_key(project, None, environ={})
    path = project / ".mcpdeploy" / "keys" / "default.key"

    assert path.read_text().strip() == key
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert load_or_create_key(project, None, environ={}) == key
    assert load_or_create_key(project, "staging", environ={}) != key
    assert (project / ".mcpdeploy" / "keys" / "staging.key").exists()


def test_environment_variable_wins_over_the_file(project: Path) -> None:
    load_or_create_key(project, None, environ={})
    assert load_or_create_key(project, None, environ={EnvVars.CREDENTIALS_KEY: OTHER_KEY}) == OTHER_KEY

    with pytest.raises(UsageError) as caught:
        load_key(project, None, environ={EnvVars.CREDENTIALS_KEY: "short"})
    assert "short" not in caught.value.message


def test_key_file_readable_by_others_is_refused(project: Path) -> None:
    path, _ = create_key_file(project, None)
    path.chmod(0o644)

    with pytest.raises(InputFileError, match="readable by others") as caught:
        load_key(project, None, environ={})
    assert caught.value.hint == f"Run `chmod 600 {path}`."


def test_keygen_never_replaces_a_key_silently(project: Path) -> None:
    path, _ = create_key_file(project, None)
    old = path.read_text()

    with pytest.raises(UsageError, match="already exists"):
        create_key_file(project, None)
    _, moved = create_key_file(project, None, force=True)

    assert moved is not None and moved.read_text() == old
    assert path.read_text() != old
