"""Find the emulated services: every module of `mcpdeploy.sandbox` that defines `mount(sandbox)`.

Services claim disjoint paths (`/api:meta`, `/api:<canonical>`, `/client/v4`, `/mcp`), so their order does not
matter; discovery keeps each service in its own module without a shared list to edit.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mcpdeploy.sandbox.messages import SandboxHost, SandboxService


def mount_services(sandbox: SandboxHost) -> list[SandboxService]:
    import mcpdeploy.sandbox as package

    services: list[SandboxService] = []
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda i: i.name):
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        mount = getattr(module, "mount", None)
        if callable(mount):
            services.append(mount(sandbox))
    return services
