"""Worker rollback as plain functions, against the sandbox's Cloudflare API: which version is chosen (wrangler's
rule, minus secrets-only versions and code a rollback moved away from), what a plan reads and never writes, how
10220 stops a rollback unless forced, and what the journal keeps."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from mcpdeploy.errors import LockHeld, UsageError
from mcpdeploy.providers.cloudflare import CloudflareClient
from mcpdeploy.providers.cloudflare_models import Deployment, WorkerVersion
from mcpdeploy.providers.http import HttpOptions
from mcpdeploy.redaction import Redactor
from mcpdeploy.rollback.worker import (
    RollbackOutcome,
    RollbackPlan,
    SecretsChangedRefusal,
    choose_previous_deployment,
    execute_rollback,
    plan_rollback,
    previous_stable_deployment,
    run_worker_rollback,
)
from mcpdeploy.sandbox import credentials
from mcpdeploy.sandbox.core import Sandbox
from mcpdeploy.sandbox.transport import SandboxTransport
from mcpdeploy.state.journal import Journal
from mcpdeploy.state.lock import Lock

WORKER = "mcp-server"
FORCE_COMMAND = "mcpdeploy rollback --to V --force"


@pytest.fixture
def sandbox() -> Sandbox:
    return Sandbox(None)


@pytest.fixture
def client(sandbox: Sandbox) -> Iterator[CloudflareClient]:
    options = HttpOptions(transport=SandboxTransport(sandbox), sleep=lambda _: None)
    with CloudflareClient("http://sandbox/client/v4", credentials.CLOUDFLARE_API_TOKEN,
                          credentials.CLOUDFLARE_ACCOUNT_ID, options) as cloudflare:
        yield cloudflare


def deploy(client: CloudflareClient, message: str) -> str:
    version, _ = client.upload_worker(WORKER, "export default {}", message)
    return version.id


def live_version(client: CloudflareClient) -> str | None:
    return client.list_deployments(WORKER)[0].sole_version_id


def deployment(created_on: str, *split: tuple[str, float], **annotations: str) -> Deployment:
    return Deployment.model_validate({"id": f"d-{created_on}", "created_on": created_on,
                                      "versions": [{"version_id": v, "percentage": p} for v, p in split],
                                      "annotations": {f"workers/{k}": v for k, v in annotations.items()}})


def versions(*created_on: str) -> list[WorkerVersion]:
    """v1, v2, … created at these moments, newest first as the API lists them."""
    made = [WorkerVersion.model_validate({"id": f"v{n}", "number": n, "metadata": {"created_on": moment}})
            for n, moment in enumerate(created_on, start=1)]
    return list(reversed(made))


def skipped(plan: RollbackPlan) -> list[tuple[str, str]]:
    return [(s.version_id, s.reason) for s in plan.skipped]


def test_the_previous_deployment_is_the_newest_older_one_with_one_version_at_100() -> None:
    live = deployment("2026-11-23T09:00:00Z", ("v4", 100))
    gradual = deployment("2026-11-22T09:00:00Z", ("v3", 50), ("v2", 50))
    stable = deployment("2026-11-21T09:00:00Z", ("v2", 100))
    oldest = deployment("2026-11-20T09:00:00Z", ("v1", 100))

    assert previous_stable_deployment([gradual, oldest, live, stable]) is stable
    assert previous_stable_deployment([live]) is None
    assert previous_stable_deployment([live, gradual]) is None


def test_timestamps_are_compared_as_times_not_strings() -> None:
    # As strings "…:00.5Z" sorts before "…:00Z"; as times it is half a second later.
    later = deployment("2026-11-23T09:00:00.5Z", ("v2", 100))
    earlier = deployment("2026-11-23T09:00:00Z", ("v1", 100))
    assert previous_stable_deployment([earlier, later]) is earlier


def test_a_version_that_only_changed_secrets_is_skipped_for_the_older_code(client: CloudflareClient) -> None:
    good = deploy(client, "good")
    bad = deploy(client, "bad")
    client.put_secrets_bulk(WORKER, {"SERVICE_CREDENTIALS": "pushed-by-provision"})  # bad's code, new secrets

    plan = plan_rollback(client, WORKER)

    assert plan.target is not None and plan.target.id == good
    assert skipped(plan) == [(bad, "same_code_as_live")]
    assert plan.to_json()["skipped"][0]["version_id"] == bad


def test_a_secrets_change_of_older_code_is_a_fine_target(client: CloudflareClient) -> None:
    deploy(client, "good")
    client.put_secrets_bulk(WORKER, {"SERVICE_CREDENTIALS": "rotated"})
    good_with_new_secrets = live_version(client)
    deploy(client, "bad")

    plan = plan_rollback(client, WORKER)

    assert plan.target is not None and plan.target.id == good_with_new_secrets
    assert plan.skipped == ()


def test_after_a_rollback_the_deployment_it_replaced_is_skipped() -> None:
    first = deployment("2026-11-20T09:00:00Z", ("v1", 100))
    good = deployment("2026-11-21T09:00:00Z", ("v2", 100))
    bad = deployment("2026-11-22T09:00:00Z", ("v3", 100))
    # Annotated as Cloudflare annotates every POST …/deployments, rollbacks included: only the versions tell.
    back_to_good = deployment("2026-11-23T09:00:00Z", ("v2", 100), triggered_by="deployment", message="fix")
    history = versions("2026-11-20T08:00:00Z", "2026-11-21T08:00:00Z", "2026-11-22T08:00:00Z")

    target, passed_over = choose_previous_deployment([first, good, bad, back_to_good], history)

    assert target is first
    assert [(s.version_id, s.reason) for s in passed_over] == [("v3", "rolled_back_from"), ("v2", "live_version")]
    assert previous_stable_deployment([first, good, bad, back_to_good]) is bad  # what wrangler would pick


def test_a_rollback_is_recognised_by_its_default_message_or_by_the_journal() -> None:
    good = deployment("2026-11-21T09:00:00Z", ("v2", 100))
    bad = deployment("2026-11-22T09:00:00Z", ("v3", 100))
    by_wrangler = deployment("2026-11-23T09:00:00Z", ("v2", 100), triggered_by="deployment", message="Rollback")
    by_us_with_own_words = deployment("2026-11-23T09:00:00Z", ("v2", 100), message="bad build broke sessions")

    assert choose_previous_deployment([good, bad, by_wrangler], [])[0] is None
    assert choose_previous_deployment([good, bad, by_us_with_own_words], [])[0] is bad
    assert choose_previous_deployment([good, bad, by_us_with_own_words], [], {by_us_with_own_words.id})[0] is None


def test_a_code_deploy_that_mentions_rollback_is_not_a_rollback() -> None:
    good = deployment("2026-11-21T09:00:00Z", ("v2", 100))
    fix = deployment("2026-11-22T09:00:00Z", ("v3", 100), triggered_by="upload", message="rollback: fix exit code")
    assert choose_previous_deployment([good, fix], [])[0] is good


def test_a_bad_version_deployed_again_after_the_rollback_is_a_target_again() -> None:
    good = deployment("2026-11-20T09:00:00Z", ("v2", 100))
    bad = deployment("2026-11-21T09:00:00Z", ("v3", 100))
    back = deployment("2026-11-22T09:00:00Z", ("v2", 100), triggered_by="deployment")
    redeployed = deployment("2026-11-23T09:00:00Z", ("v3", 100))  # someone decided it was fine after all
    newer = deployment("2026-11-24T09:00:00Z", ("v4", 100))
    live = deployment("2026-11-25T09:00:00Z", ("v4", 100))
    history = versions("2026-11-19T08:00:00Z", "2026-11-20T08:00:00Z", "2026-11-21T08:00:00Z",
                       "2026-11-24T08:00:00Z")

    target, passed_over = choose_previous_deployment([good, bad, back, redeployed, newer, live], history)

    assert target is redeployed
    assert [(s.version_id, s.reason) for s in passed_over] == [("v4", "live_version")]


def test_a_rollback_is_recognised_by_its_versions_whatever_its_annotation_or_message() -> None:
    history = versions("2026-11-20T08:00:00Z", "2026-11-21T08:00:00Z", "2026-11-22T08:00:00Z")
    first = deployment("2026-11-20T09:00:00Z", ("v1", 100))
    good = deployment("2026-11-21T09:00:00Z", ("v2", 100))
    bad = deployment("2026-11-22T09:00:00Z", ("v3", 100))
    for annotated in ({"triggered_by": "deployment", "message": "bad build broke sessions"},
                     {"triggered_by": "deployment"}, {}):
        back_to_good = deployment("2026-11-23T09:00:00Z", ("v2", 100), **annotated)

        target, passed_over = choose_previous_deployment([first, good, bad, back_to_good], history)

        assert target is first, annotated
        assert (passed_over[0].version_id, passed_over[0].reason) == ("v3", "rolled_back_from")


def test_deploying_a_newer_version_that_is_not_the_newest_is_not_a_rollback() -> None:
    # v2 and v3 uploaded with `wrangler versions upload`; v2 deployed on purpose: traffic moved forward.
    history = versions("2026-11-20T08:00:00Z", "2026-11-21T08:00:00Z", "2026-11-21T08:30:00Z")
    first = deployment("2026-11-20T09:00:00Z", ("v1", 100))
    forward = deployment("2026-11-22T09:00:00Z", ("v2", 100), triggered_by="deployment", message="Rollback")

    target, passed_over = choose_previous_deployment([first, forward], history)

    assert target is first and passed_over == []


def test_a_rollback_someone_made_outside_mcpdeploy_is_not_undone_by_the_next_one(
        client: CloudflareClient) -> None:
    first = deploy(client, "first")
    good = deploy(client, "good")
    deploy(client, "bad")
    client.create_deployment(WORKER, good, "bad build broke sessions")  # as `wrangler rollback -m` or the dashboard

    plan = plan_rollback(client, WORKER)  # no journal entry: only Cloudflare's deployments and versions

    assert client.list_deployments(WORKER)[0].annotations["workers/triggered_by"] == "deployment"
    assert plan.target is not None and plan.target.id == first
    assert [reason for _, reason in skipped(plan)] == ["rolled_back_from", "live_version"]


def test_a_plan_names_the_older_version_and_writes_nothing(client: CloudflareClient, sandbox: Sandbox) -> None:
    first = deploy(client, "first")
    second = deploy(client, "second")
    writes_before = len(sandbox.writes())

    plan = plan_rollback(client, WORKER)

    assert plan.live_version_id == second
    assert plan.target is not None and plan.target.id == first
    assert plan.target_message == "first"
    assert not plan.already_there and not plan.nothing_to_roll_back_to
    assert len(sandbox.writes()) == writes_before


def test_with_a_single_deployment_there_is_nothing_to_roll_back_to(client: CloudflareClient) -> None:
    deploy(client, "only")
    plan = plan_rollback(client, WORKER)
    assert plan.nothing_to_roll_back_to and plan.target is None


def test_to_must_name_an_existing_version(client: CloudflareClient) -> None:
    deploy(client, "first")
    with pytest.raises(UsageError, match="--to 0000: mcp-server has no such version"):
        plan_rollback(client, WORKER, to="0000")


def test_to_the_live_version_is_already_there(client: CloudflareClient) -> None:
    deploy(client, "first")
    second = deploy(client, "second")
    assert plan_rollback(client, WORKER, to=second).already_there


def test_a_message_is_kept_whole_up_to_1000_bytes(client: CloudflareClient) -> None:
    deploy(client, "first")
    deploy(client, "second")
    text = "sessions table is broken since the deploy at 2am, rolling back to the build before it " * 10
    plan = plan_rollback(client, WORKER, message=text[:990])
    assert not plan.message_cut and plan.message == text[:990].strip()


def test_a_longer_message_is_cut_between_two_characters_and_says_so(client: CloudflareClient) -> None:
    deploy(client, "first")
    deploy(client, "second")
    plan = plan_rollback(client, WORKER, message="é" * 600)  # 1200 bytes of two-byte characters

    assert plan.message_cut
    assert plan.message == "é" * 498 + "…" and len(plan.message.encode("utf-8")) == 999


def test_execute_sends_all_traffic_to_the_target_and_records_what_was_live(client: CloudflareClient,
                                                                           tmp_path: Path) -> None:
    first = deploy(client, "first")
    second = deploy(client, "second")
    plan = plan_rollback(client, WORKER, message="back to first")
    journal = Journal(tmp_path, None)

    with journal.start("rollback", ["rollback"], None, {}) as run:
        result = execute_rollback(client, plan, run, force=False, force_command=FORCE_COMMAND)

    assert live_version(client) == first
    assert result.deployment.message == "back to first" and not result.forced
    change = journal.run("last").changes[0]
    assert (change.kind, change.action, change.outcome) == ("worker_deployment", "rollback", "done")
    assert change.ids["version_id"] == first and change.ids["deployment_id"] == result.deployment.id
    assert change.before is not None and change.before["version_id"] == second


def test_changed_secrets_stop_the_rollback_unless_forced(client: CloudflareClient, sandbox: Sandbox,
                                                         tmp_path: Path) -> None:
    first = deploy(client, "first")
    deploy(client, "second")
    client.put_secrets_bulk(WORKER, {"SERVICE_CREDENTIALS": "v2-credentials"})
    plan = plan_rollback(client, WORKER)  # the secret change deployed second's code again; target: the first
    assert plan.target is not None and plan.target.id == first
    journal = Journal(tmp_path, None)
    deployments_before = len(client.list_deployments(WORKER))

    with pytest.raises(SecretsChangedRefusal) as refused, journal.start("rollback", [], None, {}) as run:
        execute_rollback(client, plan, run, force=False, force_command=FORCE_COMMAND)

    assert "SERVICE_CREDENTIALS" in refused.value.message and "Nothing was changed" in refused.value.message
    assert refused.value.hint is not None and FORCE_COMMAND in refused.value.hint
    assert len(client.list_deployments(WORKER)) == deployments_before
    assert journal.run(run.run_id).outcome == "failed"

    forced_plan = plan_rollback(client, WORKER)
    with journal.start("rollback", [], None, {}) as run:
        result = execute_rollback(client, forced_plan, run, force=True, force_command=FORCE_COMMAND)
    assert result.forced and live_version(client) == first
    assert any(r.query.get("force") == "true" for r in sandbox.writes())


def test_a_run_under_a_held_lock_stops_before_reading_anything(client: CloudflareClient, sandbox: Sandbox,
                                                               tmp_path: Path) -> None:
    deploy(client, "first")
    deploy(client, "second")
    requests_before = len(sandbox.requests)
    with Lock(tmp_path, None, command="provision"), pytest.raises(LockHeld):
        rollback(client, tmp_path)
    assert len(sandbox.requests) == requests_before


def test_a_run_with_nothing_to_do_is_journaled_without_writing(client: CloudflareClient, sandbox: Sandbox,
                                                               tmp_path: Path) -> None:
    deploy(client, "first")
    second = deploy(client, "second")
    writes_before = len(sandbox.writes())

    outcome = rollback(client, tmp_path, to=second)

    assert outcome.result is None and outcome.plan.already_there
    assert len(sandbox.writes()) == writes_before
    assert Journal(tmp_path, None).run(str(outcome.run_id)).outcome == "no_changes"


def rollback(client: CloudflareClient, state_dir: Path, *, to: str | None = None) -> RollbackOutcome:
    def never(plan: RollbackPlan) -> None:
        raise AssertionError(f"no confirmation expected for {plan.worker}")

    return run_worker_rollback(client, state_dir, None, Redactor(), worker=WORKER, to=to, message=None, force=False,
                               argv=["rollback"], force_command=lambda plan: FORCE_COMMAND, show_plan=lambda plan: None,
                               confirm=never, on_warning=lambda text: None)
