"""wrangler.toml, .dev.vars and .gitignore kept elsewhere and linked into the Worker's folder: provision writes
through the link (the target gets the new bytes, atomically, from a temp file beside it) and the link stays a link.
A link that leads nowhere usable is refused before anything is written or sent."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mcpdeploy.sandbox.core import Sandbox

FILES = ("wrangler.toml", ".dev.vars", ".gitignore")
STARTS = {"wrangler.toml": 'name = "w"\n# kept\n', ".dev.vars": "OTHER=kept\n", ".gitignore": "node_modules/\n"}


def link_into(project: Path, shared: Path, name: str, content: str) -> Path:
    target = shared / f"{name.lstrip('.')}.shared"
    target.write_text(content)
    (project / name).symlink_to(target)
    return target


@settings(max_examples=8, derandomize=True, database=None, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(linked=st.sets(st.sampled_from(FILES), min_size=1), relative=st.booleans())
def test_linked_files_are_written_through_their_links(cli, served_cloudflare: Sandbox, project: Path,
                                                      tmp_path: Path, linked: set[str], relative: bool) -> None:
    for child in project.iterdir():
        if child.is_symlink() or child.is_file():
            child.unlink()
    shared = tmp_path / "shared"
    shared.mkdir(exist_ok=True)
    targets = {}
    for name in linked:
        targets[name] = link_into(project, shared, name, STARTS[name])
        if relative:
            (project / name).unlink()
            (project / name).symlink_to(os.path.relpath(targets[name], project))
    result = cli("provision", "--yes")
    assert result.exit_code == 0, result.stderr
    for name, target in targets.items():
        assert (project / name).is_symlink(), f"{name} was replaced by a regular file"
        written = target.read_text()
        assert written.startswith(STARTS[name].splitlines()[0]) and written != STARTS[name]
    assert "queues" in targets.get("wrangler.toml", project / "wrangler.toml").read_text()
    assert not [p for p in [*project.iterdir(), *shared.iterdir()] if p.name.endswith(".tmp")]
    again = cli("provision", "--yes")
    assert again.exit_code == 0 and "No changes" in again.stderr


def test_a_link_to_dev_null_is_refused_and_dev_null_is_untouched(cli, served_cloudflare: Sandbox,
                                                                   project: Path) -> None:
    (project / ".dev.vars").symlink_to(os.devnull)
    result = cli("provision", "--yes")
    assert result.exit_code == 8
    assert ".dev.vars" in result.stderr and "not a regular file" in result.stderr
    assert Path(os.devnull).is_char_device() and (project / ".dev.vars").is_symlink()
    assert served_cloudflare.requests == []


@pytest.mark.parametrize("value", ["true", "false"])
def test_a_batch_size_given_as_a_boolean_is_refused_not_written_as_1(cli, served_cloudflare: Sandbox,
                                                                     project: Path, value: str) -> None:
    (project / "mcpdeploy.toml").write_text(f"[cloudflare]\nmax_batch_size = {value}\n")
    result = cli("provision", "--yes")
    assert result.exit_code == 8, result.stderr
    assert "mcpdeploy.toml:2" in result.stderr and "max_batch_size" in result.stderr
    assert not (project / "wrangler.toml").exists()
    assert served_cloudflare.requests == []
