from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.smoke.servers import RunningServer, fixture_servers, stop_fixture_servers


@pytest.fixture(scope="session")
def servers() -> Iterator[dict[str, RunningServer]]:
    """The real SDK servers and the misbehaving ones, started once for the whole session."""
    yield fixture_servers()
    stop_fixture_servers()
