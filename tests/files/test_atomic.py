"""Files are replaced in one step; a file that cannot be written is reported by name and left as it was."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from mcpdeploy.errors import InputFileError
from mcpdeploy.files.atomic import write_atomic


def test_a_write_replaces_the_file_and_keeps_its_mode(tmp_path: Path) -> None:
    path = tmp_path / ".dev.vars"
    path.write_text("OLD=1\n")
    path.chmod(0o600)
    write_atomic(path, "NEW=2\n")
    assert path.read_text() == "NEW=2\n"
    assert path.stat().st_mode & 0o777 == 0o600
    assert [p.name for p in tmp_path.iterdir()] == [".dev.vars"]  # no temp file left behind


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes through folder permissions")
def test_a_folder_that_cannot_be_written_is_an_input_error_naming_the_file(tmp_path: Path) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    path = folder / "wrangler.toml"
    path.write_text("name = 'x'\n")
    folder.chmod(0o500)
    try:
        with pytest.raises(InputFileError, match=r"wrangler\.toml: cannot write it"):
            write_atomic(path, "changed")
    finally:
        folder.chmod(0o700)
    assert path.read_text() == "name = 'x'\n"


def test_a_path_whose_folder_is_a_file_is_an_input_error_naming_the_file(tmp_path: Path) -> None:
    (tmp_path / "not-a-folder").write_text("")
    with pytest.raises(InputFileError, match="cannot write it"):
        write_atomic(tmp_path / "not-a-folder" / "wrangler.toml", "x")


def test_a_killed_write_leaves_a_private_temp_file_the_ignore_rule_covers_and_the_next_write_removes(
        tmp_path: Path) -> None:
    import fnmatch
    import signal
    import subprocess
    import sys
    import time

    path = tmp_path / ".dev.vars"
    path.write_text("SERVICE_CREDENTIALS=old\n")
    path.chmod(0o600)
    writer = subprocess.Popen([sys.executable, "-c", (
        "import sys; from pathlib import Path; from mcpdeploy.files.atomic import write_atomic; "
        "write_atomic(Path(sys.argv[1]), b'SERVICE_CREDENTIALS=' + b'x' * 400_000_000)"), str(path)])
    deadline = time.monotonic() + 20
    leftovers: list[Path] = []
    while not leftovers and time.monotonic() < deadline and writer.poll() is None:
        leftovers = [p for p in tmp_path.iterdir() if p.name != ".dev.vars"]
    writer.send_signal(signal.SIGKILL)
    writer.wait()
    assert leftovers, "the writer finished before it could be killed mid-write"

    [leftover] = [p for p in tmp_path.iterdir() if p.name != ".dev.vars"]
    assert fnmatch.fnmatch(leftover.name, ".dev.vars*")  # what mcpdeploy puts in .gitignore
    assert leftover.stat().st_mode & 0o777 == 0o600
    assert path.read_text() == "SERVICE_CREDENTIALS=old\n"
    os.utime(leftover, (time.time() - 3600, time.time() - 3600))  # a run killed an hour ago
    write_atomic(path, "SERVICE_CREDENTIALS=new\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == [".dev.vars"]


def test_a_temp_file_of_a_write_still_in_progress_is_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "wrangler.toml"
    in_progress = tmp_path / "wrangler.toml.abcd1234.mcpdeploy.tmp"
    in_progress.write_text("half")
    write_atomic(path, "name = 'x'\n")
    assert in_progress.exists()
