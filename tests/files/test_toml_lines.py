"""Finding the line of any key or array entry, which is what lets schema errors name the exact line."""

from __future__ import annotations

from mcpdeploy.files.toml_lines import key_lines, line_of

DOCUMENT = """\
#:schema ./schema-format.json
[table]
name = "things"   # trailing comment

[[fields]]
name = "a"

[[fields]]
name = "b"
description = \"\"\"spans
[[fields]] inside a string
lines\"\"\"
filters = [
  "trim",
  "lower",
]

[[endpoints]]
verb = "POST"
fallback = { when = "now", where = "client_ip" }

[endpoints.extra]
deep = [[1, 2], [3]]

[[endpoints]]
verb = "GET"
"""


def test_keys_and_array_of_tables_entries_are_numbered_as_in_the_parsed_data() -> None:
    lines = key_lines(DOCUMENT)
    assert lines[("table", "name")] == 3
    assert lines[("fields", 0)] == 5
    assert lines[("fields", 1)] == 8
    assert lines[("fields", 1, "name")] == 9
    assert lines[("endpoints", 1)] == 25
    assert lines[("endpoints", 1, "verb")] == 26


def test_a_string_spanning_lines_does_not_shift_what_follows() -> None:
    lines = key_lines(DOCUMENT)
    assert lines[("fields", 1, "description")] == 10
    assert lines[("fields", 1, "filters")] == 13
    assert ("fields", 2) not in lines


def test_elements_of_inline_arrays_and_tables_have_their_own_lines() -> None:
    lines = key_lines(DOCUMENT)
    assert lines[("fields", 1, "filters", 1)] == 15
    assert lines[("endpoints", 0, "fallback", "where")] == 20
    assert lines[("endpoints", 0, "extra", "deep", 1)] == 23


def test_a_missing_key_falls_back_to_its_entry() -> None:
    lines = key_lines(DOCUMENT)
    assert line_of(lines, ("fields", 0, "type")) == 5
    assert line_of(lines, ("nowhere",)) is None
