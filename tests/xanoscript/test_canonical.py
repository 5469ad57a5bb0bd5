"""Endpoints are compared by what they mean: every way Xano was recorded rewriting an echo compares equal, and
any real difference is a change, shown as a short diff."""

from __future__ import annotations

import pytest

from mcpdeploy.providers.xanoscript import render_all
from mcpdeploy.spec.loader import default_schema_dir, load_spec
from mcpdeploy.xanoscript.canonical import compare_queries

DOCUMENTS = render_all(load_spec(default_schema_dir()))
CREATE = DOCUMENTS["api_mcp_sessions_post.xs"]
UPDATE = DOCUMENTS["api_mcp_sessions_session_id_put.xs"]

# What Xano sends back for the create endpoint, by the recorded rules: the description as a leading comment,
# the group's name first, a bare name, bare simple defaults, objects laid out by length, a guid, no final newline.
CREATE_AS_ECHOED = """// Create an MCP session
query mcp_sessions verb=POST {
  api_group = "mcp"

  input {
    text session_id filters=trim
    text user_id filters=trim
    json client_info?
    text status?=active filters=trim
  }

  stack {
    db.add mcp_sessions {
      data = {
        client_info: $input.client_info
        created_at : now
        last_active: now
        session_id : $input.session_id
        status     : $input.status
        updated_at : now
        user_id    : $input.user_id
      }
    } as $session
  }

  response = $session
  guid = "b1c9a4f0-2a53-4a55-9f3c-5d1f0e7d8a11"
}"""


def test_the_recorded_echo_of_an_endpoint_means_what_was_sent() -> None:
    assert compare_queries(CREATE_AS_ECHOED, CREATE).same


@pytest.mark.parametrize("rewrite", [
    pytest.param(lambda d: d.replace('query "mcp_sessions"', "query mcp_sessions"), id="bare name"),
    pytest.param(lambda d: d.replace('  description = "Create an MCP session"\n', "")
                 .replace("query", "// Create an MCP session\nquery", 1), id="description as comment"),
    pytest.param(lambda d: d.replace("{\n  description", '{\n  api_group = "mcp"\n\n  description'), id="api_group"),
    pytest.param(lambda d: d.replace('status?="active"', "status?=active"), id="bare default"),
    pytest.param(lambda d: d.replace("  response = $session\n", '  response = $session\n  guid = "x1"\n'),
                 id="guid"),
    pytest.param(lambda d: d.replace("    text user_id filters=trim\n", "")
                 .replace("    json client_info?\n", "    json client_info?\n    text user_id filters=trim\n"),
                 id="input order"),
    pytest.param(lambda d: d.replace("\n\n", "\n").replace("  ", "    ").rstrip("\n"), id="layout"),
])
def test_each_recorded_rewrite_compares_equal(rewrite) -> None:  # type: ignore[no-untyped-def]
    rewritten = rewrite(CREATE)
    assert rewritten != CREATE
    assert compare_queries(rewritten, CREATE).same


def test_a_one_line_object_and_a_multi_line_one_are_the_same_object() -> None:
    one_line = UPDATE.replace("field_name = \"id\"", "field_name = \"id\"")
    start = one_line.index("      data = {")
    end = one_line.index("      }\n", start) + len("      }\n")
    entries = [line.strip().replace(" :", ":") for line in one_line[start:end].splitlines()[1:-1]]
    entries = [" ".join(entry.split()) for entry in entries]
    squeezed = one_line[:start] + "      data = {" + ", ".join(entries) + "}\n" + one_line[end:]
    assert squeezed != UPDATE
    assert compare_queries(squeezed, UPDATE).same


@pytest.mark.parametrize(("before", "after", "shown"), [
    ('error = "Session not found"', 'error = "Session  not found"', "Session  not found"),
    ("first_notnull:now", "first_notnull:$existing.last_active", "last_active"),
    ("text? status? filters=trim", "text? status?", "status"),
    ("text? status?", "text status?", "status"),
    ('description = "Touch an MCP session', 'description = "Touch a session', "Touch"),
    ("response = $session", "response = $existing", "response"),
])
def test_any_real_difference_is_a_change_shown_as_a_short_diff(before: str, after: str, shown: str) -> None:
    assert before in UPDATE
    comparison = compare_queries(UPDATE.replace(before, after), UPDATE)

    assert not comparison.same
    assert any(line.startswith("-") and shown in line for line in comparison.diff)
    assert any(line.startswith("+") for line in comparison.diff)
    assert len(comparison.diff) <= 25


def test_logic_that_cannot_be_read_is_a_difference_not_a_crash() -> None:
    comparison = compare_queries("query broken verb=GET {", UPDATE)
    assert not comparison.same
    assert "could not be read" in comparison.diff[0]
