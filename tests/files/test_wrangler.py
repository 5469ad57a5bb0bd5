"""Planning the queue blocks in the Worker's wrangler config: an edit that keeps everything the user wrote."""

from __future__ import annotations

from pathlib import Path

import pytest

from mcpdeploy.errors import InputFileError, UsageError
from mcpdeploy.files.edits import apply_edit
from mcpdeploy.files.wrangler import find_wrangler_config, plan_queue_bindings, read_queue_consumer_settings

COMMENTED = """\
# Worker for the team's MCP server
name = "team-mcp" # shown in the dashboard
main = "src/index.ts"
compatibility_date = "2025-06-01"

# Sessions cache
[[kv_namespaces]]
binding = "SESSIONS" # do not rename
id = "0f2ac74b498b48028cb68387c421e279"

[vars]
# public, not secret
LOG_LEVEL = "info"

# Audit events go to their own queue
[[queues.producers]]
queue = "audit-queue"
binding = "AUDIT"

[env.staging]
name = "team-mcp-staging"

[env.staging.vars]
LOG_LEVEL = "debug"
"""

EXPECTED_TOP_LEVEL = COMMENTED.replace(
    '''binding = "AUDIT"

[env.staging]''',
    '''binding = "AUDIT"

[[queues.producers]]
queue = "usage-queue"
binding = "USAGE_QUEUE"

[[queues.consumers]]
queue = "usage-queue"
max_batch_size = 100
max_batch_timeout = 30

[env.staging]''',
)


def write(project: Path, name: str, text: str) -> Path:
    path = project / name
    path.write_text(text)
    return path


def test_queue_blocks_are_added_and_every_comment_and_table_kept(project: Path) -> None:
    path = write(project, "wrangler.toml", COMMENTED)

    edit = plan_queue_bindings(project, env=None, queue="usage-queue")
    apply_edit(edit, project / ".mcpdeploy" / "backups")

    assert path.read_text() == EXPECTED_TOP_LEVEL
    assert edit.summary == [
        "add [[queues.producers]]: queue = 'usage-queue', binding = 'USAGE_QUEUE'",
        "add [[queues.consumers]]: queue = 'usage-queue', max_batch_size = 100, max_batch_timeout = 30",
    ]


def test_planning_is_pure_and_a_second_run_changes_no_byte(project: Path) -> None:
    path = write(project, "wrangler.toml", COMMENTED)
    first = plan_queue_bindings(project, env=None, queue="usage-queue")
    assert path.read_text() == COMMENTED  # planning wrote nothing
    apply_edit(first, project / "backups")
    written = path.read_bytes()

    second = plan_queue_bindings(project, env=None, queue="usage-queue")

    assert not second.changed
    assert second.after == written
    assert second.summary == []
    assert apply_edit(second, project / "backups") is None


def test_apply_keeps_a_private_backup_of_the_previous_file(project: Path) -> None:
    write(project, "wrangler.toml", COMMENTED)
    backup = apply_edit(plan_queue_bindings(project, env=None, queue="usage-queue"), project / "backups")

    assert backup is not None and backup.read_text() == COMMENTED
    assert backup.stat().st_mode & 0o777 == 0o600


def test_environment_gets_its_own_blocks_because_queues_are_not_inherited(project: Path) -> None:
    path = write(project, "wrangler.toml", COMMENTED)

    apply_edit(plan_queue_bindings(project, env="staging", queue="usage-queue-staging"), project / "b")

    text = path.read_text()
    assert text.startswith(COMMENTED.rstrip("\n"))  # the top level is untouched
    assert text.endswith(
        '''LOG_LEVEL = "debug"

[[env.staging.queues.producers]]
queue = "usage-queue-staging"
binding = "USAGE_QUEUE"

[[env.staging.queues.consumers]]
queue = "usage-queue-staging"
max_batch_size = 100
max_batch_timeout = 30
'''
    )
    assert read_queue_consumer_settings(project, "staging", "usage-queue-staging") == {
        "queue": "usage-queue-staging", "max_batch_size": 100, "max_batch_timeout": 30,
    }
    assert read_queue_consumer_settings(project, None, "usage-queue-staging") is None


def test_a_new_environment_section_is_created_and_reported(project: Path) -> None:
    write(project, "wrangler.toml", COMMENTED)

    edit = plan_queue_bindings(project, env="production", queue="usage-queue-prod")

    assert edit.summary[0] == "add [env.production] (queues are not inherited from the top level)"
    assert "[[env.production.queues.consumers]]" in edit.after.decode()


def test_existing_entries_are_updated_in_place_keeping_their_comments(project: Path) -> None:
    path = write(project, "wrangler.toml", """\
name = "w"

[[queues.producers]]
binding = "USAGE_QUEUE"
queue = "old-usage-queue" # renamed later

[[queues.consumers]]
queue = "usage-queue"
max_batch_size = 10 # tuned for the free plan
max_retries = 3
""")

    edit = plan_queue_bindings(project, env=None, queue="usage-queue", max_batch_timeout=5)
    apply_edit(edit, project / "b")

    assert path.read_text() == """\
name = "w"

[[queues.producers]]
binding = "USAGE_QUEUE"
queue = "usage-queue" # renamed later

[[queues.consumers]]
queue = "usage-queue"
max_batch_size = 100 # tuned for the free plan
max_retries = 3
max_batch_timeout = 5
"""
    assert edit.summary == [
        "update [[queues.producers]] binding = 'USAGE_QUEUE': queue 'old-usage-queue' -> 'usage-queue'",
        "update [[queues.consumers]] queue = 'usage-queue': max_batch_size 10 -> 100",
        "update [[queues.consumers]] queue = 'usage-queue': max_batch_timeout unset -> 5",
    ]
    assert read_queue_consumer_settings(project, None, "usage-queue") == {
        "queue": "usage-queue", "max_batch_size": 100, "max_retries": 3, "max_batch_timeout": 5,
    }


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"max_batch_size": 0}, "max_batch_size = 0 is out of range: Cloudflare Queues accept 1 to 100 messages"),
        ({"max_batch_size": 500}, "max_batch_size = 500 is out of range"),
        ({"max_batch_timeout": 90}, "max_batch_timeout = 90 is out of range: Cloudflare Queues accept 0 to 60 seconds"),
        ({"max_batch_timeout": -1}, "max_batch_timeout = -1 is out of range"),
        ({"queue": "Usage_Queue"}, "queue name 'Usage_Queue' is not valid"),
        ({"binding": "usage-queue"}, "queue binding 'usage-queue' must be a JavaScript identifier"),
    ],
)
def test_values_cloudflare_would_refuse_are_stopped_before_writing(
    project: Path, settings: dict[str, object], message: str
) -> None:
    path = write(project, "wrangler.toml", COMMENTED)
    arguments: dict[str, object] = {"queue": "usage-queue", **settings}

    with pytest.raises(UsageError) as caught:
        plan_queue_bindings(project, env=None, **arguments)  # type: ignore[arg-type]

    assert message in caught.value.message
    assert path.read_text() == COMMENTED


def test_range_edges_are_accepted(project: Path) -> None:
    write(project, "wrangler.toml", 'name = "w"\n')
    for size, timeout in ((1, 0), (100, 60)):
        edit = plan_queue_bindings(project, env=None, queue="q", max_batch_size=size, max_batch_timeout=timeout)
        assert f"max_batch_size = {size}" in edit.after.decode()


def test_invalid_toml_is_reported_with_its_line_and_left_as_it_was(project: Path) -> None:
    broken = 'name = "w"\nmain = "src/index.ts"\n[vars\nA = "1"\n'
    path = write(project, "wrangler.toml", broken)

    with pytest.raises(InputFileError) as caught:
        plan_queue_bindings(project, env=None, queue="usage-queue")

    assert caught.value.path == path
    assert caught.value.line == 3
    assert str(caught.value).startswith(f"{path}:3: invalid TOML")
    assert path.read_bytes() == broken.encode()


def test_no_config_creates_wrangler_toml_from_the_starter(project: Path) -> None:
    edit = plan_queue_bindings(project, env=None, queue="usage-queue", name="team-mcp")
    apply_edit(edit, project / "b")

    text = (project / "wrangler.toml").read_text()
    assert edit.before is None
    assert edit.summary[0] == "create wrangler.toml from the starter template"
    assert 'name = "team-mcp"' in text
    assert 'compatibility_date = "' in text
    assert text.rstrip().endswith("max_batch_timeout = 30")
    assert not plan_queue_bindings(project, env=None, queue="usage-queue", name="team-mcp").changed


def test_starter_without_a_name_says_to_set_one(project: Path) -> None:
    edit = plan_queue_bindings(project, env=None, queue="usage-queue")
    assert "set `name`" in edit.summary[0]
    assert 'name = "my-mcp-server"' in edit.after.decode()


def test_wrangler_json_and_jsonc_win_over_toml_like_in_wrangler(project: Path) -> None:
    write(project, "wrangler.toml", COMMENTED)
    assert find_wrangler_config(project) == project / "wrangler.toml"
    write(project, "wrangler.jsonc", '{"name": "w"}\n')
    assert find_wrangler_config(project) == project / "wrangler.jsonc"
    write(project, "wrangler.json", '{"name": "w"}\n')
    assert find_wrangler_config(project) == project / "wrangler.json"

    edit = plan_queue_bindings(project, env=None, queue="usage-queue")

    assert edit.path == project / "wrangler.json"
    assert (project / "wrangler.toml").read_text() == COMMENTED


JSONC = """\
/**
 * Made by create-cloudflare, then edited by hand.
 */
{
\t"$schema": "node_modules/wrangler/config-schema.json",
\t"name": "team-mcp", // the Worker
\t"main": "src/index.ts",
\t"compatibility_date": "2025-06-01",
\t"observability": {
\t\t"enabled": true
\t},
\t/* queues tuned by hand */
\t"queues": {
\t\t"consumers": [
\t\t\t{ "queue": "usage-queue", "max_batch_size": 10 } // small batches for now
\t\t],
\t},
}
"""


def test_jsonc_is_edited_in_place_keeping_comments_and_trailing_commas(project: Path) -> None:
    path = write(project, "wrangler.jsonc", JSONC)

    edit = plan_queue_bindings(project, env=None, queue="usage-queue")
    apply_edit(edit, project / "b")

    assert path.read_text() == JSONC.replace(
        '''\t\t\t{ "queue": "usage-queue", "max_batch_size": 10 } // small batches for now
\t\t],
''',
        '''\t\t\t{ "queue": "usage-queue", "max_batch_size": 100, "max_batch_timeout": 30 } // small batches for now
\t\t],
\t\t"producers": [
\t\t\t{
\t\t\t\t"queue": "usage-queue",
\t\t\t\t"binding": "USAGE_QUEUE"
\t\t\t}
\t\t],
''',
    )
    assert not plan_queue_bindings(project, env=None, queue="usage-queue").changed
    assert read_queue_consumer_settings(project, None, "usage-queue") == {
        "queue": "usage-queue", "max_batch_size": 100, "max_batch_timeout": 30,
    }


def test_jsonc_environment_is_added_under_env(project: Path) -> None:
    path = write(project, "wrangler.jsonc", JSONC)

    apply_edit(plan_queue_bindings(project, env="staging", queue="usage-queue-staging"), project / "b")

    assert path.read_text() == JSONC.replace(
        "\t},\n}\n",
        """\t},
\t"env": {
\t\t"staging": {
\t\t\t"queues": {
\t\t\t\t"producers": [
\t\t\t\t\t{
\t\t\t\t\t\t"queue": "usage-queue-staging",
\t\t\t\t\t\t"binding": "USAGE_QUEUE"
\t\t\t\t\t}
\t\t\t\t],
\t\t\t\t"consumers": [
\t\t\t\t\t{
\t\t\t\t\t\t"queue": "usage-queue-staging",
\t\t\t\t\t\t"max_batch_size": 100,
\t\t\t\t\t\t"max_batch_timeout": 30
\t\t\t\t\t}
\t\t\t\t]
\t\t\t}
\t\t}
\t},
}
""",
    )
    assert read_queue_consumer_settings(project, "staging", "usage-queue-staging") == {
        "queue": "usage-queue-staging", "max_batch_size": 100, "max_batch_timeout": 30,
    }
    assert not plan_queue_bindings(project, env="staging", queue="usage-queue-staging").changed


def test_plain_wrangler_json_stays_plain_json(project: Path) -> None:
    import json

    path = write(project, "wrangler.json", '{\n  "name": "w",\n  "main": "src/index.js"\n}\n')

    apply_edit(plan_queue_bindings(project, env=None, queue="usage-queue"), project / "b")

    assert json.loads(path.read_text())["queues"] == {
        "producers": [{"queue": "usage-queue", "binding": "USAGE_QUEUE"}],
        "consumers": [{"queue": "usage-queue", "max_batch_size": 100, "max_batch_timeout": 30}],
    }
    assert '\n  "queues": {\n    "producers": [' in path.read_text()


def test_invalid_jsonc_is_reported_with_its_line(project: Path) -> None:
    broken = '{\n  "name": "w",\n  "main" "src/index.js"\n}\n'
    path = write(project, "wrangler.jsonc", broken)

    with pytest.raises(InputFileError) as caught:
        plan_queue_bindings(project, env=None, queue="usage-queue")

    assert caught.value.line == 3
    assert path.read_text() == broken


def test_edit_refuses_when_the_file_changed_after_planning(project: Path) -> None:
    path = write(project, "wrangler.toml", COMMENTED)
    edit = plan_queue_bindings(project, env=None, queue="usage-queue")
    path.write_text(COMMENTED + "\n# someone else's edit\n")

    with pytest.raises(InputFileError, match="changed since the plan read it"):
        apply_edit(edit, project / "b")

    assert path.read_text().endswith("# someone else's edit\n")
