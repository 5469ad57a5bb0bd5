"""`mcpdeploy rollback` on the project's sandbox, as a person or a CI job runs it at 3 a.m.: deploy twice with
`mcpdeploy sandbox deploy-worker`, then look (--dry-run), roll back (--yes), meet 10220 after a secrets change, and
see that neither a secrets push nor a second rollback sends traffic back to the bad code."""

from __future__ import annotations

import json
from pathlib import Path

from mcpdeploy.sandbox import credentials
from mcpdeploy.sandbox.core import Sandbox
from mcpdeploy.state.lock import Lock

SANDBOX_STATE = Path(".mcpdeploy") / "sandbox" / "state.json"


def deploy(cli, message: str) -> str:  # type: ignore[no-untyped-def]
    result = cli("sandbox", "deploy-worker", "--json", "-m", message)
    assert result.exit_code == 0, result.stderr
    version_id: str = json.loads(result.stdout)["version_id"]
    return version_id


def live_version(project: Path) -> str:
    deployments = Sandbox(project / ".mcpdeploy" / "sandbox").state["cloudflare"]["scripts"]["mcp-server"][
        "deployments"]
    versions = deployments[-1]["versions"]
    assert len(versions) == 1 and versions[0]["percentage"] == 100
    return str(versions[0]["version_id"])


def change_a_secret(project: Path) -> None:
    """What provision's secrets push (or `wrangler secret put`) does: a new version of the live code with a
    different secret, deployed."""
    from mcpdeploy.providers.cloudflare import CloudflareClient
    from mcpdeploy.providers.http import HttpOptions
    from mcpdeploy.sandbox.transport import SandboxTransport

    sandbox = Sandbox(project / ".mcpdeploy" / "sandbox")
    with CloudflareClient("http://sandbox/client/v4", credentials.CLOUDFLARE_API_TOKEN,
                          credentials.CLOUDFLARE_ACCOUNT_ID, HttpOptions(transport=SandboxTransport(sandbox))) as api:
        api.put_secrets_bulk("mcp-server", {"SERVICE_CREDENTIALS": "rotated"})


def test_dry_run_names_the_older_version_and_changes_nothing(cli, project: Path) -> None:  # type: ignore[no-untyped-def]
    first = deploy(cli, "first")
    second = deploy(cli, "second")
    state_before = (project / SANDBOX_STATE).read_bytes()

    result = cli("rollback", "--sandbox", "--dry-run")
    document = json.loads(cli("rollback", "--sandbox", "--dry-run", "--json").stdout)

    assert result.exit_code == 0, result.stderr
    assert f"live:    version {second}" in result.stderr
    assert f"target:  version {first} (#1)" in result.stderr and '"first"' in result.stderr
    assert "Dry run: nothing was changed." in result.stderr
    assert (document["outcome"], document["target"]["version_id"], document["current"]["version_id"]) == (
        "would_roll_back", first, second)
    assert document["http"]["writes"] == 0
    assert (project / SANDBOX_STATE).read_bytes() == state_before
    assert not (project / ".mcpdeploy" / "journal").exists()


def test_rollback_yes_puts_the_older_version_at_100_percent(cli, project: Path) -> None:  # type: ignore[no-untyped-def]
    first = deploy(cli, "first")
    deploy(cli, "second")

    result = cli("rollback", "--sandbox", "--yes", "--json", "-m", "second broke sessions")

    assert result.exit_code == 0, result.stderr
    assert live_version(project) == first
    document = json.loads(result.stdout)
    assert (document["outcome"], document["target"]["version_id"]) == ("rolled_back", first)
    assert f"Rolled back mcp-server: version {first} now serves 100% of traffic" in result.stderr
    history = json.loads(cli("history", "--json").stdout)["runs"]
    assert (history[0]["run_id"], history[0]["command"], history[0]["outcome"]) == (
        document["run_id"], "rollback", "succeeded")


def test_rolling_back_twice_to_the_same_version_does_nothing_the_second_time(cli, project: Path) -> None:  # type: ignore[no-untyped-def]
    first = deploy(cli, "first")
    deploy(cli, "second")
    assert cli("rollback", "--sandbox", "--yes", "--to", first).exit_code == 0
    state_before = (project / SANDBOX_STATE).read_bytes()

    again = cli("rollback", "--sandbox", "--yes", "--to", first, "--json")

    assert again.exit_code == 0
    assert "Nothing to do: it already serves 100% of traffic" in again.stderr
    assert json.loads(again.stdout)["outcome"] == "already_there"
    assert (project / SANDBOX_STATE).read_bytes() == state_before


def test_after_a_secrets_push_the_dry_run_names_the_good_code_and_lists_what_it_skipped(cli, project: Path) -> None:  # type: ignore[no-untyped-def]
    good = deploy(cli, "good")
    bad = deploy(cli, "bad")
    change_a_secret(project)  # the bad code again, with new secrets, live

    result = cli("rollback", "--sandbox", "--dry-run")
    document = json.loads(cli("rollback", "--sandbox", "--dry-run", "--json").stdout)

    assert result.exit_code == 0, result.stderr
    assert f"skipped: version {bad}" in result.stderr and "only secrets differ" in result.stderr
    assert f"target:  version {good} (#1)" in result.stderr
    assert document["target"]["version_id"] == good
    assert [(s["version_id"], s["reason"]) for s in document["skipped"]] == [(bad, "same_code_as_live")]


def test_a_secrets_change_stops_the_rollback_until_forced(cli, project: Path) -> None:  # type: ignore[no-untyped-def]
    first = deploy(cli, "first")
    second = deploy(cli, "second")
    change_a_secret(project)  # second's code with new secrets, live; the target is the first
    live_before = live_version(project)

    refused = cli("rollback", "--sandbox", "--yes")

    assert refused.exit_code == 6
    assert "secrets differ from the current ones" in refused.stderr and "SERVICE_CREDENTIALS" in refused.stderr
    assert f"mcpdeploy rollback --sandbox --to {first} --force --yes" in refused.stderr
    assert live_version(project) == live_before

    forced = cli("rollback", "--sandbox", "--to", first, "--force", "--yes")  # the command the hint gave
    assert forced.exit_code == 0, forced.stderr
    assert "forced past changed secrets" in forced.stderr
    assert live_version(project) == first

    explicit = cli("rollback", "--sandbox", "--yes", "--to", second, "--force")  # --to still goes anywhere
    assert explicit.exit_code == 0 and live_version(project) == second


def test_rolling_back_twice_goes_further_back_not_to_the_version_rolled_away_from(cli, project: Path) -> None:  # type: ignore[no-untyped-def]
    first = deploy(cli, "first")
    good = deploy(cli, "good")
    bad = deploy(cli, "bad")

    once = cli("rollback", "--sandbox", "--yes", "-m", "bad build broke sessions")  # own words: known by its versions
    assert once.exit_code == 0, once.stderr
    assert live_version(project) == good
    twice = cli("rollback", "--sandbox", "--yes", "--json")

    assert twice.exit_code == 0, twice.stderr
    assert live_version(project) == first
    document = json.loads(twice.stdout)
    assert [(s["version_id"], s["reason"]) for s in document["skipped"]] == [
        (bad, "rolled_back_from"), (good, "live_version")]
    assert "a later rollback moved traffic away from this code" in twice.stderr


def test_rolling_back_twice_with_nothing_older_says_so_instead_of_flipping_back(cli, project: Path) -> None:  # type: ignore[no-untyped-def]
    good = deploy(cli, "good")
    deploy(cli, "bad")
    change_a_secret(project)
    assert cli("rollback", "--sandbox", "--yes", "--force").exit_code == 0
    assert live_version(project) == good
    state_before = (project / SANDBOX_STATE).read_bytes()

    again = cli("rollback", "--sandbox", "--yes", "--force", "--json")

    assert again.exit_code == 0, again.stderr
    assert json.loads(again.stdout)["outcome"] == "nothing_to_roll_back_to"
    assert "every earlier deployment that sent 100% of traffic to a single version was skipped" in again.stderr
    assert live_version(project) == good
    assert (project / SANDBOX_STATE).read_bytes() == state_before


def test_with_one_deployment_there_is_nothing_to_roll_back_to(cli, project: Path) -> None:  # type: ignore[no-untyped-def]
    deploy(cli, "only")
    result = cli("rollback", "--sandbox", "--yes", "--json")
    assert result.exit_code == 0
    assert "Nothing to roll back to" in result.stderr and "--to VERSION_ID" in result.stderr
    assert json.loads(result.stdout)["outcome"] == "nothing_to_roll_back_to"


def test_without_a_terminal_it_needs_yes_and_changes_nothing(cli, project: Path) -> None:  # type: ignore[no-untyped-def]
    deploy(cli, "first")
    second = deploy(cli, "second")
    result = cli("rollback", "--sandbox")
    assert result.exit_code == 64
    assert "Run again with --yes" in result.stderr
    assert live_version(project) == second


def live_message(project: Path) -> str:
    deployments = Sandbox(project / ".mcpdeploy" / "sandbox").state["cloudflare"]["scripts"]["mcp-server"][
        "deployments"]
    return str(deployments[-1]["annotations"]["workers/message"])


def test_a_message_of_a_few_sentences_is_kept_whole(cli, project: Path) -> None:  # type: ignore[no-untyped-def]
    deploy(cli, "first")
    deploy(cli, "second")
    message = "sessions table is broken since the deploy at 2am, rolling back; see the incident channel"
    result = cli("rollback", "--sandbox", "--yes", "--json", "-m", message)
    assert result.exit_code == 0, result.stderr
    assert "cut to" not in result.stderr and json.loads(result.stdout)["message_cut"] is False
    assert live_message(project) == message


def test_a_message_past_1000_bytes_is_cut_and_the_output_says_so(cli, project: Path) -> None:  # type: ignore[no-untyped-def]
    deploy(cli, "first")
    deploy(cli, "second")
    message = "rollback: " + "the checkout flow fails with «session expired» " * 30  # well past 1000 bytes
    result = cli("rollback", "--sandbox", "--yes", "-m", message)
    assert result.exit_code == 0, result.stderr
    assert "cut to the 1000 bytes Cloudflare keeps" in result.stderr
    kept = live_message(project)
    assert kept.endswith("…") and len(kept.encode("utf-8")) <= 1000
    assert message.startswith(kept.removesuffix("…"))


def test_a_concurrent_run_gets_the_lock_exit_code(cli, project: Path) -> None:  # type: ignore[no-untyped-def]
    deploy(cli, "first")
    second = deploy(cli, "second")
    with Lock(project / ".mcpdeploy", None, command="provision"):
        result = cli("rollback", "--sandbox", "--yes")
    assert result.exit_code == 4
    assert "is locked by" in result.stderr and "mcpdeploy provision" in result.stderr
    assert live_version(project) == second


def test_flags_for_undoing_a_run_are_not_mixed_with_a_worker_rollback(cli, project: Path) -> None:  # type: ignore[no-untyped-def]
    assert cli("rollback", "--run", "last", "--to", "abc").exit_code == 64
    assert cli("rollback", "--allow-data-loss").exit_code == 64


def test_the_journal_and_trace_hold_no_secret(cli, project: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    first = deploy(cli, "first")
    deploy(cli, "second")
    change_a_secret(project)
    trace = tmp_path / "trace.jsonl"

    outputs = [cli("rollback", "--sandbox", "--yes", "--trace", str(trace)),
               cli("rollback", "--sandbox", "--yes", "--to", first, "--force", "--trace", str(trace), "--json")]

    planted = credentials.CLOUDFLARE_API_TOKEN  # the one secret these runs hold
    journal = (project / ".mcpdeploy" / "journal" / "default.jsonl").read_text()
    assert trace.read_text() and "force=true" in trace.read_text()
    for text in (journal, trace.read_text(), *(o.stdout + o.stderr for o in outputs)):
        assert planted not in text
