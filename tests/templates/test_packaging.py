"""A non-editable install carries only what package-data lists: every template file `mcpdeploy init` copies must
be shipped."""

from __future__ import annotations

from pathlib import Path

import tomlkit

REPO = Path(__file__).resolve().parents[2]
TEMPLATE = REPO / "templates" / "worker"


def test_the_package_ships_every_template_file() -> None:
    config = tomlkit.parse((REPO / "pyproject.toml").read_text()).unwrap()["tool"]["setuptools"]
    packages, data = set(config["packages"]), config["package-data"]
    for path in TEMPLATE.rglob("*"):
        if not path.is_file() or "node_modules" in path.parts:
            continue
        package = ".".join(["mcpdeploy", "bundled", "templates", *path.relative_to(TEMPLATE.parent).parent.parts])
        assert package in packages, f"{package} is not listed in [tool.setuptools] packages"
        assert any(Path(path.name).match(glob) for glob in data.get(package, [])), f"{path} is not in package-data"
