"""No private name crosses a module boundary: the half of the import contract lint-imports
cannot see.

import-linter (pyproject.toml, [tool.importlinter], run by `./dev test`) checks which module
imports which; it cannot see names. This test reads every module of engine/ and cli/ with
`ast` and fails on `from X import _name` or `module._name` where X (or `module`) is another
module of creditlab. Importing a public name under a private alias (`import histories as
_histories`) is fine; dunder names (`__version__`) are not private.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from conftest import ROOT

# Where each source folder is installed (pyproject.toml, [tool.setuptools.package-dir]).
PACKAGES = {
    ROOT / "engine" / "_package": "creditlab",
    ROOT / "engine": "creditlab.engine",
    ROOT / "cli": "creditlab.cli",
}


def module_name(path: Path) -> tuple[str, bool]:
    """The dotted name `path` is imported as, and whether it is a package's __init__."""
    for folder, package in PACKAGES.items():  # _package first: it lies inside engine/
        if path.is_relative_to(folder):
            parts = list(path.relative_to(folder).with_suffix("").parts)
            is_package = parts[-1] == "__init__"
            if is_package:
                parts.pop()
            return ".".join([package, *parts]), is_package
    raise ValueError(f"{path} is in no package")


def sources() -> list[Path]:
    return sorted(p for folder in ("engine", "cli") for p in (ROOT / folder).rglob("*.py"))


def is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def imported_from(node: ast.ImportFrom, module: str, is_package: bool) -> str:
    """The absolute name of the module a `from ... import` reads, relative ones resolved."""
    if node.level == 0:
        return node.module or ""
    base = module.split(".")
    base = base[: len(base) - node.level + (1 if is_package else 0)]
    return ".".join([*base, *([node.module] if node.module else [])])


def private_crossings(source: str, module: str, is_package: bool = False) -> list[str]:
    """Every private name `source` (the text of `module`) takes from another creditlab module."""
    tree = ast.parse(source)
    found: list[tuple[int, int, str]] = []
    modules: dict[str, str] = {}  # a local name bound to a creditlab module -> that module
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            origin = imported_from(node, module, is_package)
            if origin.split(".")[0] != "creditlab" or origin == module:
                continue
            for alias in node.names:
                if is_private(alias.name):
                    found.append((node.lineno, node.col_offset,
                                  f"line {node.lineno}: from {origin} import {alias.name}"))
                else:
                    modules[alias.asname or alias.name] = f"{origin}.{alias.name}"
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "creditlab" and alias.asname:
                    modules[alias.asname] = alias.name
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute) and is_private(node.attr)
                and isinstance(node.value, ast.Name) and node.value.id in modules):
            found.append((node.lineno, node.col_offset,
                          f"line {node.lineno}: {modules[node.value.id]}.{node.attr}"))
    return [text for _, _, text in sorted(found)]


def test_the_check_sees_private_names() -> None:
    source = (
        "from creditlab.engine.checks.lint import _Checker, WHY\n"
        "from . import _helpers\n"
        "from .output import console as _console\n"
        "from creditlab import __version__\n"
        "from creditlab.engine.views import frames\n"
        "import creditlab.engine.describe as describe\n"
        "frames._parquet(1); describe.number(2); describe._x\n"
    )
    assert private_crossings(source, "creditlab.cli.main") == [
        "line 1: from creditlab.engine.checks.lint import _Checker",
        "line 2: from creditlab.cli import _helpers",
        "line 7: creditlab.engine.views.frames._parquet",
        "line 7: creditlab.engine.describe._x",
    ]


def test_relative_imports_resolve_from_the_module() -> None:
    node = ast.parse("from ..scoring import ledger").body[0]
    assert isinstance(node, ast.ImportFrom)
    assert imported_from(node, "creditlab.engine.views.report", False) == \
        "creditlab.engine.scoring"
    assert imported_from(node, "creditlab.engine.views", True) == "creditlab.engine.scoring"


def test_every_source_folder_is_read() -> None:
    names = {module_name(p)[0] for p in sources()}
    assert {"creditlab", "creditlab.engine", "creditlab.cli.main",
            "creditlab.engine.scoring.durable.reduce"} <= names


@pytest.mark.parametrize("path", sources(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_private_name_is_imported_across_modules(path: Path) -> None:
    module, is_package = module_name(path)
    found = private_crossings(path.read_text(encoding="utf-8"), module, is_package)
    assert not found, (f"{path.relative_to(ROOT)} ({module}) takes private names from other "
                       "modules; make them public there (and list them in __all__), or keep "
                       "them where they are used:\n" + "\n".join(found))
