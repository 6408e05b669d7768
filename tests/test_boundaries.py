"""The layers keep their boundaries, read from the source with `ast`.

`reference/` (a correct server) imports nothing from `harness`, `suites` or `tests`; `suites/`
import, of the project's own packages, only `harness` (a suite module may also use its own
package). Third-party and standard-library imports are free. Every import counts, including
those under `if TYPE_CHECKING:` and inside functions.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
FIRST_PARTY = {"harness", "suites", "reference", "tests", "conftest"}
ALLOWED = {
    "reference": {"reference"},
    "suites": {"harness", "suites"},
}


def imported_packages(source: str, own: str) -> set[str]:
    """The top-level names a module imports; a relative import counts as its package `own`."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                found.add(own)
            elif node.module:
                found.add(node.module.split(".")[0])
    return found


def _modules(package: str) -> list[Path]:
    return sorted((REPO / package).rglob("*.py"))


@pytest.mark.parametrize(
    "module",
    [path for package in ALLOWED for path in _modules(package)],
    ids=lambda path: str(path.relative_to(REPO)),
)
def test_module_imports_only_what_its_layer_may(module: Path) -> None:
    layer = module.relative_to(REPO).parts[0]
    imported = imported_packages(module.read_text(encoding="utf-8"), layer)
    crossing = sorted((imported & FIRST_PARTY) - ALLOWED[layer])
    assert crossing == [], f"{layer}/ may not import {crossing}"


def test_the_import_reader_sees_every_form() -> None:
    """Plain, dotted, aliased, from-, nested, TYPE_CHECKING and relative imports are all seen."""
    source = (
        "import os.path\n"
        "from typing import TYPE_CHECKING\n"
        "import harness.client as c\n"
        "if TYPE_CHECKING:\n"
        "    from tests.faults import catalog\n"
        "def f():\n"
        "    import reference.app\n"
        "    from . import sibling\n"
    )
    assert imported_packages(source, "suites") == {
        "os",
        "typing",
        "harness",
        "tests",
        "reference",
        "suites",
    }
