from __future__ import annotations

from mcpdeploy import __version__


def test_version_prints_on_stdout(cli) -> None:
    result = cli("--version")
    assert result.exit_code == 0
    assert result.stdout == f"mcpdeploy {__version__}\n"


def test_unknown_option_is_a_usage_error_with_exit_64(cli) -> None:
    result = cli("--no-such-flag")
    assert result.exit_code == 64
    assert "no-such-flag" in result.stderr
    assert result.stdout == ""


def test_an_error_before_any_document_still_gives_json_on_stdout_with_json(cli, project) -> None:  # type: ignore[no-untyped-def]
    import json

    result = cli("plan", "--json")  # nothing configured: a usage error before any request
    assert result.exit_code == 64
    document = json.loads(result.stdout)
    assert document["ok"] is False
    assert document["error"]["exit_code"] == 64
    assert "XANO_INSTANCE_URL" in document["error"]["message"]


def test_a_usage_error_with_json_also_gives_a_json_document(cli) -> None:  # type: ignore[no-untyped-def]
    import json

    result = cli("plan", "--json", "--no-such-flag")
    assert result.exit_code == 64
    assert json.loads(result.stdout)["error"]["exit_code"] == 64
