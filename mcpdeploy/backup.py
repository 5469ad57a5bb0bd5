"""Export a Xano table's rows to a JSON-lines file before anything that could lose them, and check the export.

Rows are read through the Metadata API's content endpoint, every page; the file is written atomically (0600:
rows may hold personal data) and read back to verify that every row is there before the caller goes on.
"""

from __future__ import annotations

import json
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
    path = folder / f"{table_name}-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}.jsonl"
    write_atomic(path, "".join(json.dumps(row, sort_keys=True) + "\n" for row in rows), mode=0o600)
    try:
        read_back = [json.loads(line) for line in path.read_text("utf-8").splitlines()]
    except (OSError, ValueError) as exc:
        raise BackupFailed(f"the export of {table_name} to {path} cannot be read back: {exc}") from exc
    if read_back != rows:
        raise BackupFailed(f"the export of {table_name} to {path} does not match the {len(rows)} rows read",
                           hint="Nothing was removed. Check the disk and run again.")
    return path, len(rows)


def count_rows(client: XanoClient, table_id: int) -> int:
    return len(client.list_content(table_id))
