"""Export a Xano table's rows to a JSON-lines file before anything that could lose them, and check the export.

Rows are read through the Metadata API's content endpoint, every page; the file is written atomically (0600:
rows may hold personal data) and read back to verify that every row is there before the caller goes on.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from mcpdeploy.errors import McpdeployError
from mcpdeploy.files.atomic import write_atomic
from mcpdeploy.providers.xano import XanoClient


class BackupFailed(McpdeployError):
    """The export could not be verified: nothing destructive is done after it."""


def backup_dir(state_dir: Path, run_label: str) -> Path:
    return state_dir / "backups" / run_label


def export_rows(client: XanoClient, table_id: int, table_name: str, folder: Path) -> tuple[Path, int]:
    """Write every row of the table to `<folder>/<table>-<time>.jsonl`; return the file and the row count."""
    rows = client.list_content(table_id)
    folder.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    # Never reuse a name: two exports of one table in the same second must not replace each other.
    for attempt in range(1000):
        path = folder / f"{table_name}-{stamp}{f'-{attempt}' if attempt else ''}.jsonl"
        try:
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
            break
        except FileExistsError:
            continue
    else:
        raise BackupFailed(f"cannot find a free file name for the export of {table_name} in {folder}")
    write_atomic(path, "".join(json.dumps(row, sort_keys=True) + "\n" for row in rows), mode=0o600)
    try:
        read_back = [json.loads(line) for line in path.read_text("utf-8").splitlines()]
    except (OSError, ValueError) as exc:
        raise BackupFailed(f"the export of {table_name} to {path} cannot be read back: {exc}") from exc
    if read_back != rows:
        raise BackupFailed(f"the export of {table_name} to {path} does not match the {len(rows)} rows read",
                           hint="Nothing was removed. Check the disk and run again.")
    return path, len(rows)

