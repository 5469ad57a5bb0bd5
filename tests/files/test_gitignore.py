""".gitignore keeps .dev.vars* and .mcpdeploy/ (keys, backups) out of commits."""

from __future__ import annotations

from pathlib import Path

from mcpdeploy.files.edits import apply_edit
from mcpdeploy.files.gitignore import plan_gitignore


def test_missing_patterns_are_appended_after_the_users_lines(project: Path) -> None:
    path = project / ".gitignore"
    path.write_text("node_modules/\n.dev.vars\n")

    edit = plan_gitignore(project)
    apply_edit(edit, project / "b")

    assert path.read_text() == (
        "node_modules/\n.dev.vars\n\n"
        "# Local secrets and mcpdeploy state (keys, backups): never commit them\n"
        ".dev.vars*\n.mcpdeploy/\n"
    )
    assert edit.summary == ["add .dev.vars* to .gitignore", "add .mcpdeploy/ to .gitignore"]
    assert not plan_gitignore(project).changed


def test_patterns_already_covered_are_not_repeated(project: Path) -> None:
    path = project / ".gitignore"
    path.write_text("/.dev.vars*\n!.dev.vars.example\n.mcpdeploy\n")

    assert not plan_gitignore(project).changed


def test_a_new_gitignore_is_created(project: Path) -> None:
    apply_edit(plan_gitignore(project), project / "b")
    lines = (project / ".gitignore").read_text().splitlines()
    assert lines[1:] == [".dev.vars*", ".mcpdeploy/"]


def test_file_without_final_newline(project: Path) -> None:
    (project / ".gitignore").write_text(".mcpdeploy/")
    edit = plan_gitignore(project)
    assert edit.after.decode().startswith(".mcpdeploy/\n\n# Local secrets")
    assert edit.after.decode().endswith("\n.dev.vars*\n")
