"""`.dev.vars`: written so that dotenv 16 (what wrangler uses) reads back exactly what we meant."""

from __future__ import annotations

import json
import re
import stat
from pathlib import Path

import pytest

from mcpdeploy.errors import InputFileError, UsageError
from mcpdeploy.files.devvars import json_safe, plan_dev_vars, read_dev_vars, render_value
from mcpdeploy.files.edits import apply_edit

# An independent reader written from the rules of wrangler's .dev.vars format (dotenv), to check our writer
# against something other than our own parser: KEY=value / export KEY=value / KEY: value; single and
# backtick quotes literal; double quotes expand \n and \r only; unquoted values stop at # and are trimmed.
_DOTENV_LINE = re.compile(
    r"^[ \t]*(?:export[ \t]+)?([\w.-]+)(?:[ \t]*=[ \t]*|:[ \t]+)"
    r"(?:'((?:\\'|[^'])*)'|\"((?:\\\"|[^\"])*)\"|`((?:\\`|[^`])*)`|([^#\n]*))[ \t]*(?:#[^\n]*)?$",
    re.M | re.A,
)


def dotenv_reference_parse(text: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for match in _DOTENV_LINE.finditer(re.sub(r"\r\n?", "\n", text)):
        key, single, double, backtick, bare = match.groups()
        if double is not None:
            found[key] = double.replace("\\n", "\n").replace("\\r", "\r")
        else:
            found[key] = next(v for v in (single, backtick, (bare or "").strip()) if v is not None)
    return found


TRICKY_VALUES = [
    "plain",
    "",
    "  padded  ",
    "it's",
    'say "hi"',
    "back`tick",
    "hash # not a comment",
    "$HOME and ${VAR} stay literal",
    "line1\nline2",
    "trailing backslash \\",
    "literal \\n stays two characters",
    "é ü 中文",
]
TRICKY_JSON = [
    {"api_key": "sk-test-123", "base_url": "https://x.n7c.xano.io"},
    {"n": "a`b'c#d\ne"},
    {"q": "\"'`#$\\n", "nested": {"list": [1, 2.5, None, True]}},
    {"k": "ends with backslash \\"},
]


@pytest.mark.parametrize("value", TRICKY_VALUES)
def test_every_value_is_read_back_exactly(project: Path, value: str) -> None:
    apply_edit(plan_dev_vars(project, env=None, values={"VALUE": value}), project / "b")
    text = (project / ".dev.vars").read_text()

    assert read_dev_vars(project / ".dev.vars") == {"VALUE": value}
    assert dotenv_reference_parse(text) == {"VALUE": value}


@pytest.mark.parametrize("document", TRICKY_JSON)
def test_json_round_trips_through_the_single_quote_form(project: Path, document: object) -> None:
    compact = json.dumps(document, separators=(",", ":"), ensure_ascii=False)
    apply_edit(plan_dev_vars(project, env=None, values={"SERVICE_CREDENTIALS": compact}), project / "b")
    text = (project / ".dev.vars").read_text()

    assert "SERVICE_CREDENTIALS='" in text
    for reader in (lambda: read_dev_vars(project / ".dev.vars"), lambda: dotenv_reference_parse(text)):
        read_back = reader()["SERVICE_CREDENTIALS"]
        assert read_back == json_safe(compact)
        assert json.loads(read_back) == document


def test_a_value_no_quoting_can_carry_is_refused_by_name_only() -> None:
    with pytest.raises(UsageError) as caught:
        render_value("TOKEN", "'\"`#-secret-part")
    assert "TOKEN" in caught.value.message
    assert "secret-part" not in caught.value.message


def test_other_lines_and_comments_are_kept_byte_for_byte(project: Path) -> None:
    original = (
        "# local values\n"
        "export LOG_LEVEL=debug # chatty\n"
        "\n"
        "SERVICE_CREDENTIALS='{\"old\":1}' # rotated monthly\n"
        "MULTI='first\nsecond'\n"
        "OTHER: kept\n"
    )
    path = project / ".dev.vars"
    path.write_text(original)

    edit = plan_dev_vars(project, env=None, values={"SERVICE_CREDENTIALS": '{"new":2}', "SERVICE_CREDENTIALS_KEY": "k"})
    apply_edit(edit, project / "b")

    assert path.read_text() == (
        "# local values\n"
        "export LOG_LEVEL=debug # chatty\n"
        "\n"
        "SERVICE_CREDENTIALS='{\"new\":2}' # rotated monthly\n"
        "MULTI='first\nsecond'\n"
        "OTHER: kept\n"
        "SERVICE_CREDENTIALS_KEY='k'\n"
    )
    assert edit.summary == ["update SERVICE_CREDENTIALS in .dev.vars", "add SERVICE_CREDENTIALS_KEY to .dev.vars",
                            "restrict .dev.vars to mode 0600 (was 0644)"]
    assert read_dev_vars(path) == {"LOG_LEVEL": "debug", "SERVICE_CREDENTIALS": '{"new":2}',
                                   "MULTI": "first\nsecond", "OTHER": "kept", "SERVICE_CREDENTIALS_KEY": "k"}


def test_a_multi_line_value_is_replaced_whole(project: Path) -> None:
    path = project / ".dev.vars"
    path.write_text("A=1\nCERT='line one\nline two'\nB=2\n")

    apply_edit(plan_dev_vars(project, env=None, values={"CERT": "new"}), project / "b")

    assert path.read_text() == "A=1\nCERT='new'\nB=2\n"


def test_file_is_private_and_unchanged_values_change_no_byte(project: Path) -> None:
    values = {"SERVICE_CREDENTIALS": '{"xano":{"a":"b"}}', "SERVICE_CREDENTIALS_KEY": "k3y"}
    first = plan_dev_vars(project, env=None, values=values)
    assert first.summary[0] == "create .dev.vars (mode 0600)"
    apply_edit(first, project / "b")
    path = project / ".dev.vars"
    written = path.read_bytes()

    second = plan_dev_vars(project, env=None, values=values)

    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert not second.changed and second.after == written


def test_too_open_permissions_alone_are_a_change_and_get_fixed(project: Path) -> None:
    path = project / ".dev.vars"
    path.write_text("A='1'\n")
    path.chmod(0o644)

    edit = plan_dev_vars(project, env=None, values={"A": "1"})
    assert edit.changed and edit.summary == ["restrict .dev.vars to mode 0600 (was 0644)"]
    apply_edit(edit, project / "b")

    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_text() == "A='1'\n"


def test_crlf_files_keep_their_line_breaks(project: Path) -> None:
    path = project / ".dev.vars"
    path.write_bytes(b"# windows\r\nA=1\r\n")

    apply_edit(plan_dev_vars(project, env=None, values={"B": "2"}), project / "b")

    assert path.read_bytes() == b"# windows\r\nA=1\r\nB='2'\r\n"


def test_environment_file_and_the_no_merge_note(project: Path) -> None:
    (project / ".dev.vars").write_text("A=1\n")

    edit = plan_dev_vars(project, env="staging", values={"B": "2"})

    assert edit.path == project / ".dev.vars.staging"
    assert "note: `wrangler dev --env staging` reads only .dev.vars.staging, not .dev.vars" in edit.summary


def test_a_malformed_line_is_reported_with_its_number(project: Path) -> None:
    path = project / ".dev.vars"
    path.write_text("A=1\n\nthis is not an assignment\n")

    with pytest.raises(InputFileError) as caught:
        read_dev_vars(path)
    assert caught.value.line == 3
    with pytest.raises(InputFileError):
        plan_dev_vars(project, env=None, values={"A": "2"})
    assert path.read_text() == "A=1\n\nthis is not an assignment\n"


def test_dotenv_reading_rules() -> None:
    path = Path(".dev.vars")
    from mcpdeploy.files.devvars import parse_dev_vars

    text = (
        "UNQUOTED_HASH=abc #def\n"
        'MULTILINE="line1\\nline2"\n'
        "SINGLE_QUOTED='x\\ny'\n"
        'ESCAPED="a\\"b"\n'
        "COLON: value\n"
        "EMPTY=\n"
        "DUP=first\n"
        "DUP=second\n"
    )
    values = {var.key: var.value for var in parse_dev_vars(text, path)}
    assert values == {
        "UNQUOTED_HASH": "abc",
        "MULTILINE": "line1\nline2",
        "SINGLE_QUOTED": "x\\ny",
        "ESCAPED": 'a\\"b',
        "COLON": "value",
        "EMPTY": "",
        "DUP": "second",
    }


def test_summary_names_keys_never_values(project: Path) -> None:
    planted = "sk-planted-devvars-91ab"
    (project / ".dev.vars").write_text(f"SERVICE_CREDENTIALS='{planted}-old'\n")

    edit = plan_dev_vars(project, env=None, values={"SERVICE_CREDENTIALS": planted, "SERVICE_CREDENTIALS_KEY": planted})

    assert edit.summary
    assert not any(planted in line for line in edit.summary)
