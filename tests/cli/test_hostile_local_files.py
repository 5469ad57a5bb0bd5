"""Property-based: every kind of local input mcpdeploy reads, generated malformed, against the served sandbox.

Whatever the input, a run never ends as a bug (exit 1, a traceback): it succeeds, or stops with exit 8 (a file
is invalid) or 64 (usage), naming what to fix. And when it stops, it stopped before its first request to Xano or
Cloudflare and left every file of the project byte for byte as it was, so there is nothing half-done to repair.

The generated documents mix valid structure with the values that broke earlier versions: a section given as a
scalar, TOML dates where JSON is needed, booleans where numbers are, numbers too long for Python to read,
nesting deeper than a parser's recursion, control and non-ASCII characters, bytes that are not UTF-8, and files
that are folders, link loops, links to nothing or to /dev/null. Examples are derandomized, so CI sees the same
cases on every run.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from hypothesis.control import currently_in_test_context

from mcpdeploy.project.secrets import generate_key
from mcpdeploy.sandbox import credentials
from mcpdeploy.sandbox.core import Sandbox

SETTINGS = settings(max_examples=30, derandomize=True, database=None, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
FEW = settings(SETTINGS, max_examples=15)
SOME = settings(SETTINGS, max_examples=20)  # each example that gets through provisions for real

DEEP = 150  # deeper than tomlkit (100) and the JSONC reader allow, shallow enough to generate quickly
LONG_NUMBER = "9" * 5000  # past Python's 4,300-digit limit for reading integers

# ------------------------------------------------------------------------------------------- values as text

# Each literal is written into the document as it stands: some (a 5,000-digit number, a deep nesting) cannot
# even be produced by a serializer in this process.
TOML_LITERALS = [
    "true", "false", "0", "-1", "101", "100", "30", "3.5", "nan", "inf", LONG_NUMBER,
    "1979-05-27", "07:32:00", "1979-05-27T07:32:00Z", '"x"', '""', '"usage-queue"', '"USAGE_QUEUE"', '"w"',
    '"a\\u0000b"', '"line\\nbreak"', '"é"', "[]", '[1, "a"]', "{}", "{ a = 1 }", "[" * DEEP + "]" * DEEP,
]
JSON_LITERALS = [
    "true", "false", "null", "0", "-1", "101", "100", "30", "3.5", "1e999", LONG_NUMBER, '"x"', '""',
    '"usage-queue"', '"USAGE_QUEUE"', '"w"', '"a\\u0000b"', '"\\ud800"', '"é"', "[]", '[1, "a"]', "{}",
    "[" * DEEP + "]" * DEEP, '{"a":' * DEEP + "1" + "}" * DEEP,
]
JUNK_LINES = ["[", "= 1", "a = ", '"unclosed', "[[x]", "a.b = 1\na = 2", "}", "/*", "\ufeff", "\t\r"]


# Values a run accepts, so that generated documents also get past the checks into planning and applying.
VALID = {"max_batch_size": "10", "max_batch_timeout": "0", "queue": '"usage-queue"', "binding": '"USAGE_QUEUE"',
         "name": '"w"', "api_group": '"mcp"', "auth_type": '"api_key"', "api_key": '"k"', "max_disable": '"30m"',
         "when": '"2024-01-01"', "base_url": '"https://api.example.com"'}


def toml_value(key: str = "") -> st.SearchStrategy[str]:
    hostile = st.sampled_from(TOML_LITERALS)
    return st.one_of(st.just(VALID[key]), hostile) if key in VALID else hostile


def json_value(key: str = "") -> st.SearchStrategy[str]:
    hostile = st.sampled_from(JSON_LITERALS)
    return st.one_of(st.just(VALID[key]), hostile) if key in VALID else hostile


def junk_bytes() -> st.SearchStrategy[bytes]:
    """Not UTF-8 (or not text at all): a stray Latin-1 byte, a truncated sequence, random binary."""
    return st.one_of(st.sampled_from([b"\xff", b"name = \"caf\xe9\"\n", b"\xc3", b"\x00\x01\x02"]),
                     st.binary(min_size=1, max_size=40))


# -------------------------------------------------------------------------------------------- mcpdeploy.toml

SECTIONS = {
    "xano": ["instance_url", "workspace_id", "branch", "api_group", "metadata_token_file", "project_dir"],
    "cloudflare": ["queue", "binding", "max_batch_size", "max_batch_timeout", "api_token_file", "worker_name"],
    "secrets": ["credentials_file"],
    "smoke": ["mcp_url", "api_key_file"],
    "auth": ["max_disable"],
}


@st.composite
def mcpdeploy_toml(draw: st.DrawFn) -> str | bytes:
    lines: list[str] = []
    top = draw(st.lists(st.sampled_from(["schemas", *SECTIONS]), max_size=1))
    if draw(st.integers(0, 9)) == 0:
        top.append(draw(st.sampled_from(["project_dir", "env_name"])))
    lines += [f"{key} = {draw(toml_value())}" for key in top]
    for prefix in draw(st.lists(st.sampled_from(["", "env.staging."]), max_size=2)):
        section = draw(st.sampled_from(sorted(SECTIONS)))
        if f"{prefix}{section}" in {f"{p}{k}" for p in ("", "env.staging.") for k in top}:
            continue
        lines.append(f"[{prefix}{section}]")
        for key in draw(st.lists(st.sampled_from(SECTIONS[section]), max_size=3, unique=True)):
            lines.append(f"{key} = {draw(toml_value(key))}")
    if draw(st.integers(0, 4)) == 0:
        lines.insert(draw(st.integers(0, len(lines))), draw(st.sampled_from(JUNK_LINES)))
    text = "\n".join(lines) + "\n"
    if draw(st.integers(0, 9)) == 0:
        return text.encode() + draw(junk_bytes())
    return text


# ------------------------------------------------------------------------------------------ wrangler config


@st.composite
def queue_entry(draw: st.DrawFn, value: Callable[[], st.SearchStrategy[str]], toml: bool) -> str:
    if draw(st.integers(0, 5)) == 0:
        return draw(value())
    keys = draw(st.lists(st.sampled_from(["queue", "binding", "max_batch_size", "max_batch_timeout"]),
                         max_size=4, unique=True))
    members = [f"{key} = {draw(value(key))}" if toml else f'"{key}": {draw(value(key))}' for key in keys]
    return "{ " + ", ".join(members) + " }" if toml else "{" + ", ".join(members) + "}"


@st.composite
def wrangler_document(draw: st.DrawFn, kind: str) -> str | bytes:
    toml = kind == "toml"
    value = toml_value if toml else json_value
    members: list[tuple[str, str]] = [("name", draw(st.sampled_from(['"w"', '"w"', *(["1"] if toml else ["null"])])))]
    for where in draw(st.lists(st.sampled_from(["queues", "env"]), max_size=2, unique=True)):
        if draw(st.integers(0, 5)) == 0:
            members.append((where, draw(value())))
            continue
        queues = []
        for kind_name in draw(st.lists(st.sampled_from(["producers", "consumers"]), max_size=2, unique=True)):
            entries = draw(st.lists(queue_entry(value, toml), max_size=2))
            sep = " = " if toml else ": "
            key = kind_name if toml else f'"{kind_name}"'
            queues.append(f"{key}{sep}[" + ", ".join(entries) + "]")
        table = "{ " + ", ".join(queues) + " }" if toml else "{" + ", ".join(queues) + "}"
        if where == "env":
            table = ("{ staging = { queues = " + table + " } }") if toml else ('{"staging": {"queues": ' + table + "}}")
        members.append((where, table))
    if toml:
        text = "\n".join(f"{key} = {val}" for key, val in members) + "\n"
    else:
        comma = "," if kind == "jsonc" and draw(st.booleans()) else ""
        comment = "// the Worker\n" if kind == "jsonc" else ""
        text = comment + "{\n" + ",\n".join(f'  "{key}": {val}' for key, val in members) + comma + "\n}\n"
    if draw(st.integers(0, 4)) == 0:
        text += draw(st.sampled_from(JUNK_LINES)) + "\n"
    if draw(st.integers(0, 9)) == 0:
        return text.encode() + draw(junk_bytes())
    return text


# --------------------------------------------------------------------------------------- credentials, .dev.vars

SERVICE_NAMES = ['"xano"', '"xano"', '"stripe"', '"x y"', '""', '"' + "a" * 65 + '"', '"é"', '"a/b"']
AUTH_TYPES = ['"api_key"', '"api_key"', '"api_key"', '"a b"', '""', "1", "true", '"é"']


@st.composite
def credentials_document(draw: st.DrawFn, kind: str) -> str | bytes:
    toml = kind == "toml"
    value = toml_value if toml else json_value
    services = []
    for name in draw(st.lists(st.sampled_from(SERVICE_NAMES), min_size=1, max_size=2, unique=True)):
        fields = {"auth_type": draw(st.sampled_from(AUTH_TYPES))}
        if draw(st.integers(0, 4)):
            creds = [(key, draw(value(key))) for key in draw(st.lists(st.sampled_from(["api_key", "base_url", "when"]),
                                                                  max_size=3, unique=True))]
            if toml:
                fields["credentials"] = "{ " + ", ".join(f"{k} = {v}" for k, v in creds) + " }"
            else:
                fields["credentials"] = "{" + ", ".join(f'"{k}": {v}' for k, v in creds) + "}"
        else:
            fields["credentials"] = draw(value())
        if toml:
            services.append(f"[{name}]\n" + "\n".join(f"{k} = {v}" for k, v in fields.items()))
        else:
            services.append(f"{name}: {{" + ", ".join(f'"{k}": {v}' for k, v in fields.items()) + "}")
    text = "\n".join(services) + "\n" if toml else "{" + ", ".join(services) + "}\n"
    if draw(st.integers(0, 9)) == 0:
        return text.encode() + draw(junk_bytes())
    return text


@st.composite
def dev_vars_document(draw: st.DrawFn) -> str | bytes:
    key = generate_key()
    services = [
        '{"xano":' * DEEP + "1" + "}" * DEEP, '{"xano": ' + LONG_NUMBER + "}", "{not json", "[]",
        '{"xano":{"service_name":"xano","auth_type":"none","credentials_encrypted":"v1:000000000000:AAAA:AAAA"}}',
        '{"xano":{"auth_type":"none","credentials_encrypted":"encrypted:{\\"base_url\\": 1}"}}',
        '{"xano":{"credentials_encrypted":"encrypted:' + "[" * DEEP + '"}}',
    ]
    lines = ["not an assignment"] if draw(st.integers(0, 9)) == 0 else []
    for _ in range(draw(st.integers(1, 4))):
        lines.append(draw(st.sampled_from([
            "SERVICE_CREDENTIALS='" + draw(st.sampled_from(services)) + "'",
            f"SERVICE_CREDENTIALS_KEY={draw(st.sampled_from([key, 'short', 'é' * 44, '']))}",
            "OTHER=kept # a comment", "export A='multi\nline'", 'B="unclosed', "# comment", "",
        ])))
    text = draw(st.sampled_from(["\n", "\r\n"])).join(lines) + "\n"
    if draw(st.integers(0, 9)) == 0:
        return text.encode() + draw(junk_bytes())
    return text


# ------------------------------------------------------------------------------------------- the harness

# Instead of its content, a file may be one of these, each a way reading or writing it has failed.
SHAPES = ["folder", "link loop", "link to nothing", "link to /dev/null"]


def place(path: Path, content: str | bytes) -> None:
    """Write `content` at `path`, or give `path` one of the SHAPES."""
    if content == "folder":
        path.mkdir()
    elif content == "link loop":
        path.symlink_to(path.name)
    elif content == "link to nothing":
        path.symlink_to(path.parent / "missing-target")
    elif content == "link to /dev/null":
        path.symlink_to(os.devnull)
    elif isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, "utf-8")


def file_content(documents: st.SearchStrategy[str | bytes]) -> st.SearchStrategy[str | bytes]:
    return st.one_of(documents, documents, documents, st.sampled_from(SHAPES))


def empty(project: Path) -> None:
    for child in project.iterdir():
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child)
        else:
            child.unlink()


def snapshot(project: Path) -> dict[str, Any]:
    """Every file of the project (links as links), and the keys; mcpdeploy's journal and locks aside."""
    found: dict[str, Any] = {}
    for folder, dirs, files in os.walk(project):
        relative = Path(folder).relative_to(project)
        if relative.parts[:1] == (".mcpdeploy",) and relative.parts[:2] != (".mcpdeploy", "keys"):
            continue
        for name in [*dirs, *files]:
            path = Path(folder, name)
            key = str(relative / name)
            if path.is_symlink():
                found[key] = ("link", os.readlink(path))
            elif path.is_dir():
                found[key] = "folder"
            else:
                found[key] = path.read_bytes()
    return found


def check_run(cli: Any, box: Sandbox, project: Path, *args: str, allowed: tuple[int, ...] = (0, 8, 64),
              before_any_request: bool = True) -> Any:
    before, requests = snapshot(project), len(box.requests)
    result = cli(*args)
    assert "unexpected error" not in result.stderr and "Traceback" not in result.stderr, result.stderr
    assert result.exit_code in allowed, result.stderr
    if currently_in_test_context():
        event(f"exit {result.exit_code}")
    if result.exit_code in (8, 64):
        assert result.stderr.startswith("error: ") or "\nerror: " in result.stderr, result.stderr
    if result.exit_code != 0:
        assert snapshot(project) == before, f"a failed run changed files: {result.stderr}"
        if before_any_request and result.exit_code != 6:  # 6: a service refused it, so a request was made
            assert len(box.requests) == requests, f"refused only after {len(box.requests) - requests} request(s): " \
                                                  f"{result.stderr}"
    return result


@pytest.fixture
def box(served_cloudflare: Sandbox) -> Sandbox:
    return served_cloudflare


# ------------------------------------------------------------------------------------------------- the tests


@SETTINGS
@given(config=file_content(mcpdeploy_toml()), env=st.sampled_from([None, "staging"]))
def test_any_mcpdeploy_toml(cli, box: Sandbox, project: Path, config: str | bytes, env: str | None) -> None:
    empty(project)
    place(project / "mcpdeploy.toml", config)
    result = check_run(cli, box, project, "provision", "--yes", *(["--env", env] if env else []))
    if result.exit_code == 8:
        assert "mcpdeploy.toml" in result.stderr


@SETTINGS
@given(kind=st.sampled_from(["toml", "json", "jsonc"]), data=st.data())
def test_any_wrangler_config(cli, box: Sandbox, project: Path, kind: str, data: st.DataObject) -> None:
    empty(project)
    name = f"wrangler.{kind}"
    place(project / name, data.draw(file_content(wrangler_document(kind))))
    env = data.draw(st.sampled_from([None, "staging"]))
    result = check_run(cli, box, project, "provision", "--yes", *(["--env", env] if env else []))
    if result.exit_code == 8:
        assert name in result.stderr


@SETTINGS
@given(kind=st.sampled_from(["toml", "json"]), data=st.data())
def test_any_credentials_file(cli, box: Sandbox, project: Path, kind: str, data: st.DataObject) -> None:
    empty(project)
    (project / "mcpdeploy.toml").write_text(f'[secrets]\ncredentials_file = "creds.{kind}"\n')
    place(project / f"creds.{kind}", data.draw(file_content(credentials_document(kind))))
    result = check_run(cli, box, project, "provision", "--yes")
    if result.exit_code == 8:
        assert f"creds.{kind}" in result.stderr


@SOME
@given(dev_vars=file_content(dev_vars_document()), command=st.sampled_from(["provision", "decrypt"]))
def test_any_dev_vars(cli, box: Sandbox, project: Path, dev_vars: str | bytes, command: str) -> None:
    empty(project)
    keys = project / ".mcpdeploy" / "keys"
    keys.mkdir(parents=True)
    (keys / "default.key").write_text(generate_key() + "\n")
    (keys / "default.key").chmod(0o600)
    place(project / ".dev.vars", dev_vars)
    args = ("provision", "--yes") if command == "provision" else ("secrets", "decrypt")
    result = check_run(cli, box, project, *args)
    if result.exit_code == 8:
        assert ".dev.vars" in result.stderr


KEY_CONTENTS = st.one_of(
    st.builds(lambda: generate_key() + "\n"), st.just("short\n"), st.just("é" * 44), junk_bytes(),
    st.binary(min_size=32, max_size=32).map(lambda raw: raw.hex()), st.sampled_from(SHAPES),
)
GITIGNORE_CONTENTS = st.one_of(st.just(".dev.vars\n"), st.text(max_size=30), junk_bytes(), st.sampled_from(SHAPES))


@SETTINGS
@given(key=KEY_CONTENTS, mode=st.sampled_from([0o600, 0o644]), gitignore=st.none() | GITIGNORE_CONTENTS)
def test_any_key_file_and_gitignore(cli, box: Sandbox, project: Path, key: str | bytes, mode: int,
                                    gitignore: str | bytes | None) -> None:
    empty(project)
    keys = project / ".mcpdeploy" / "keys"
    keys.mkdir(parents=True)
    place(keys / "default.key", key)
    if (keys / "default.key").is_file() and not (keys / "default.key").is_symlink():
        (keys / "default.key").chmod(mode)
    if gitignore is not None:
        place(project / ".gitignore", gitignore)
    check_run(cli, box, project, "provision", "--yes")


TOKEN_CONTENTS = st.one_of(
    st.sampled_from([credentials.XANO_METADATA_TOKEN, credentials.XANO_METADATA_TOKEN + "\n", "", "\n",
                     "sandbox-xano-metadata-token\u200b", "tok\nen", "tök"]),
    junk_bytes(), st.sampled_from(SHAPES),
)


@FEW
@given(token=TOKEN_CONTENTS, variable=st.sampled_from(["XANO_METADATA_TOKEN_FILE", "CLOUDFLARE_API_TOKEN_FILE"]))
def test_any_token_file(cli, box: Sandbox, project: Path, monkeypatch: pytest.MonkeyPatch, token: str | bytes,
                        variable: str) -> None:
    empty(project)
    monkeypatch.delenv(variable.removesuffix("_FILE"), raising=False)
    monkeypatch.setenv(variable, str(project / "token"))
    try:
        if isinstance(token, str) and variable.startswith("CLOUDFLARE") and token.strip():
            token = token.replace(credentials.XANO_METADATA_TOKEN, credentials.CLOUDFLARE_API_TOKEN)
        place(project / "token", token)
        if (project / "token").is_file():
            (project / "token").chmod(0o600)  # as a token file must be: otherwise every case is the same refusal
        # A private file whose content is not the token is sent, and the service refuses it (6).
        check_run(cli, box, project, "provision", "--yes", allowed=(0, 6, 8, 64))
    finally:
        monkeypatch.undo()
        os.environ.update({"XANO_INSTANCE_URL": box.url or "", "XANO_WORKSPACE_ID": "1",
                           "XANO_METADATA_TOKEN": credentials.XANO_METADATA_TOKEN,
                           "CLOUDFLARE_API_BASE_URL": f"{box.url}/client/v4",
                           "CLOUDFLARE_API_TOKEN": credentials.CLOUDFLARE_API_TOKEN,
                           "CLOUDFLARE_ACCOUNT_ID": credentials.CLOUDFLARE_ACCOUNT_ID})


@FEW
@given(key=st.one_of(st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=12),
                    st.text(st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"), min_size=1,
                            max_size=12)))
def test_any_mcp_api_key(cli, box: Sandbox, project: Path, monkeypatch: pytest.MonkeyPatch, key: str) -> None:
    monkeypatch.setenv("MCP_API_KEY", key)
    monkeypatch.setenv("MCP_URL", f"{box.url}/mcp")
    result = check_run(cli, box, project, "smoke-test", "--timeout", "5", allowed=(0, 5, 64),
                       before_any_request=False)
    if not key.strip().isascii():
        assert result.exit_code == 64 and "MCP_API_KEY" in result.stderr


@FEW
@given(state=st.one_of(st.sampled_from([b"{not json", b"[1]", b'{"xano": 1}', b"", LONG_NUMBER.encode(),
                                        b"[" * 3000 + b"]" * 3000]), junk_bytes()))
def test_a_damaged_sandbox_state_is_named_with_the_way_out(cli, project: Path, state: bytes) -> None:
    folder = project / ".mcpdeploy" / "sandbox"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "state.json").write_bytes(state)
    result = cli("plan", "--sandbox")
    assert result.exit_code == 8, result.stderr
    assert "state.json" in result.stderr and "mcpdeploy sandbox reset" in result.stderr
    assert (folder / "state.json").read_bytes() == state


@pytest.mark.parametrize("shape", SHAPES)
def test_a_wrangler_toml_that_is_not_a_file_is_refused_before_any_request(cli, box: Sandbox, project: Path,
                                                                          shape: str) -> None:
    place(project / "wrangler.toml", shape)
    for command in (("plan",), ("provision", "--yes")):
        result = check_run(cli, box, project, *command, allowed=(8,))
        assert "wrangler.toml" in result.stderr and "starter template" not in result.stderr
    assert box.requests == []


@pytest.mark.parametrize("credentials", [
    '{"x y": {"auth_type": "api_key", "credentials": {}}}',
    '{"xano": {"auth_type": "api key", "credentials": {}}}',
    '[xano]\nauth_type = "api_key"\n[xano.credentials]\nsince = 2024-01-01\n',
])
def test_credentials_that_cannot_be_encrypted_are_refused_before_any_request(cli, box: Sandbox, project: Path,
                                                                             credentials: str) -> None:
    name = "creds.toml" if credentials.startswith("[") else "creds.json"
    (project / "mcpdeploy.toml").write_text(f'[secrets]\ncredentials_file = "{name}"\n')
    (project / name).write_text(credentials)
    result = check_run(cli, box, project, "provision", "--yes", allowed=(8,))
    assert name in result.stderr
    assert box.requests == []
