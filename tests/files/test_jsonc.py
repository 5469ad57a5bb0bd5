"""The JSONC editor: values and members change, every comment and the file's layout stay."""

from __future__ import annotations

from pathlib import Path

import pytest

from mcpdeploy.errors import InputFileError
from mcpdeploy.files import jsonc

HERE = Path("wrangler.jsonc")


def add(text: str, key: str, value: object, *path: str) -> str:
    node = jsonc.parse(text, HERE)
    for part in path:
        child = node.get(part)
        assert child is not None
        node = child
    return jsonc.add_member(text, node, key, value)


def test_values_and_comments_are_read() -> None:
    root = jsonc.parse('// top\n{ "a": [1, 2.5, true, null], /* b */ "b": {"c": "d\\"e"}, }\n', HERE)
    assert root.value == {"a": [1, 2.5, True, None], "b": {"c": 'd"e'}}


def test_member_added_after_a_trailing_line_comment_keeps_the_comment_on_its_member() -> None:
    text = '{\n  "name": "w" // the Worker\n}\n'
    assert add(text, "main", "src/index.js") == '{\n  "name": "w", // the Worker\n  "main": "src/index.js"\n}\n'


def test_trailing_comma_style_is_kept() -> None:
    text = '{\n  "name": "w",\n}\n'
    assert add(text, "main", "x.js") == '{\n  "name": "w",\n  "main": "x.js",\n}\n'


def test_one_line_object_grows_on_its_line() -> None:
    assert add('{"a": {"b": 1}}', "c", 2, "a") == '{"a": {"b": 1, "c": 2}}'


def test_empty_object_opens_up_with_the_files_indentation() -> None:
    text = '{\n    "a": {}\n}\n'
    assert add(text, "b", [1], "a") == '{\n    "a": {\n        "b": [\n            1\n        ]\n    }\n}\n'


def test_replacing_a_value_keeps_what_follows_it() -> None:
    text = '{ "n": 10 /* old */ }'
    node = jsonc.parse(text, HERE).get("n")
    assert node is not None
    assert jsonc.replace_value(text, node, 100) == '{ "n": 100 /* old */ }'


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ('{\n "a": 1\n "b": 2\n}', 3),
        ('{\n "a": tru\n}', 2),
        ('{\n /* never closed\n}', 2),
        ('{\n "a": "x\n"}', 2),
        ('{"a": 1}\n{"b": 2}', 2),
    ],
)
def test_syntax_errors_name_the_line(text: str, line: int) -> None:
    with pytest.raises(InputFileError) as caught:
        jsonc.parse(text, HERE)
    assert caught.value.line == line
