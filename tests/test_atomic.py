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
