"""`mcpdeploy secrets keygen|encrypt|decrypt` as a user runs them."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from mcpdeploy.project.secrets import decrypt_service_credentials, key_id, load_key

PLANTED = "sk-planted-7d1e0b9a"
PLAINTEXT = {"xano": {"auth_type": "api_key", "credentials": {"api_key": PLANTED, "base_url": "https://x.xano.io"}}}


def test_keygen_prints_path_and_key_id_only(project: Path, cli) -> None:  # type: ignore[no-untyped-def]
    result = cli("secrets", "keygen", "--json")

    assert result.exit_code == 0
    report = json.loads(result.stdout)
    key = load_key(project, None, environ={})
    assert key is not None and key not in result.stdout + result.stderr
    assert report["path"] == str(project / ".mcpdeploy" / "keys" / "default.key")
    assert report["key_id"] == key_id(key)

    again = cli("secrets", "keygen")
    assert again.exit_code == 64
    assert "already exists" in again.stderr and "--force" in again.stderr


def test_encrypt_reads_stdin_and_prints_service_credentials(
    project: Path, cli, monkeypatch: pytest.MonkeyPatch  # type: ignore[no-untyped-def]
) -> None:
    cli("secrets", "keygen")
    monkeypatch.setattr("sys.stdin", io.StringIO(json.dumps(PLAINTEXT)))

    result = cli("secrets", "encrypt", "--in", "-")

    assert result.exit_code == 0, result.stderr
    key = load_key(project, None, environ={})
    assert decrypt_service_credentials(result.stdout, key)["xano"]["credentials"]["api_key"] == PLANTED
    assert PLANTED not in result.stdout + result.stderr


def test_encrypt_accepts_toml(project: Path, cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    cli("secrets", "keygen")
    source = tmp_path / "creds.toml"
    source.write_text('[xano]\nauth_type = "api_key"\n[xano.credentials]\napi_key = "k"\n')

    result = cli("secrets", "encrypt", "--in", str(source))

    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["xano"]["auth_type"] == "api_key"


def test_encrypt_without_a_key_says_how_to_make_one(project: Path, cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    source = tmp_path / "creds.json"
    source.write_text(json.dumps(PLAINTEXT))

    result = cli("secrets", "encrypt", "--in", str(source), "--env", "staging")

    assert result.exit_code == 64
    assert "no credentials key for environment staging" in result.stderr
    assert "mcpdeploy secrets keygen --env staging" in result.stderr


def test_invalid_input_names_the_problem_not_the_values(project: Path, cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    cli("secrets", "keygen")
    source = tmp_path / "creds.json"
    source.write_text(json.dumps({"xano": {"credentials": {"api_key": PLANTED}, "extra": PLANTED}}))

    result = cli("secrets", "encrypt", "--in", str(source))

    assert result.exit_code == 8
    assert "service 'xano'" in result.stderr and "auth_type: Field required" in result.stderr
    assert PLANTED not in result.stdout + result.stderr


def test_decrypt_reads_dev_vars_and_reports_a_wrong_key(project: Path, cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from mcpdeploy.project.secrets import ServiceCredential, build_service_credentials, generate_key

    foreign = build_service_credentials(generate_key(), {"xano": ServiceCredential(auth_type="api_key",
                                                                                   credentials={"k": PLANTED})})
    (project / ".dev.vars").write_text(f"SERVICE_CREDENTIALS='{foreign}'\n")
    cli("secrets", "keygen")

    result = cli("secrets", "decrypt")

    assert result.exit_code == 8
    assert "credentials for service 'xano' were encrypted with key" in result.stderr
    assert PLANTED not in result.stdout + result.stderr


def test_legacy_checklist_value_is_shown_with_a_warning(project: Path, cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    legacy = tmp_path / "legacy.json"
    legacy.write_text(json.dumps({"xano": {"service_name": "xano", "auth_type": "api_key",
                                           "credentials_encrypted": f'encrypted:{{"api_key":"{PLANTED}"}}'}}))

    result = cli("secrets", "decrypt", "--in", str(legacy))

    assert result.exit_code == 0
    assert "warning: SERVICE_CREDENTIALS['xano'] uses the legacy 'encrypted:' form, which is NOT encrypted" in (
        result.stderr)
    assert "api_key: ***" in result.stdout
    assert PLANTED not in result.stdout + result.stderr


def test_planted_secret_appears_nowhere_but_where_asked(
    project: Path, cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch  # type: ignore[no-untyped-def]
) -> None:
    """Keygen, encrypt, decrypt (masked, human and JSON): no output and no file written holds the value."""
    source = tmp_path / "outside-the-project" / "creds.json"
    source.parent.mkdir()
    source.write_text(json.dumps(PLAINTEXT))
    outputs = [cli("secrets", "keygen")]
    encrypted = cli("secrets", "encrypt", "--in", str(source))
    outputs.append(encrypted)
    (project / "service-credentials.json").write_text(encrypted.stdout)
    outputs.append(cli("secrets", "decrypt", "--in", "service-credentials.json"))
    outputs.append(cli("secrets", "decrypt", "--in", "service-credentials.json", "--json"))
    monkeypatch.setattr("sys.stdin", io.StringIO(encrypted.stdout))
    outputs.append(cli("secrets", "decrypt", "--in", "-"))

    assert [o.exit_code for o in outputs] == [0, 0, 0, 0, 0]
    for output in outputs:
        assert PLANTED not in output.stdout and PLANTED not in output.stderr
    written = [p for p in project.rglob("*") if p.is_file()]
    assert {p.name for p in written} == {"default.key", "service-credentials.json"}
    for path in written:
        assert PLANTED.encode() not in path.read_bytes(), path

    shown = cli("secrets", "decrypt", "--in", "service-credentials.json", "--show-values", "--json")
    assert json.loads(shown.stdout)["services"]["xano"]["credentials"]["api_key"] == PLANTED
