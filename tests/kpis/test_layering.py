"""The engine is pure and the apps depend one way (style.md's sketch)."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


@pytest.mark.parametrize("module", ["kpis/rating.py", "kpis/periods.py", "kpis/spc.py"])
def test_the_engine_modules_import_only_the_standard_library_and_each_other(module):
    for name in imported_modules(ROOT / module):
        top = name.split(".")[0]
        assert top in sys.stdlib_module_names or name in {"kpis", "kpis.periods", "kpis.rating", "kpis.spc"}, (
            f"{module} imports {name}"
        )


def test_kpis_knows_nothing_of_contracts_people_or_reports():
    for path in (ROOT / "kpis").rglob("*.py"):
        for name in imported_modules(path):
            assert name.split(".")[0] not in {"contracts", "retained_services", "reports"}, (
                f"{path.relative_to(ROOT)} imports {name}"
            )


def test_contracts_and_retained_services_do_not_import_reports():
    for app in ("contracts", "retained_services"):
        for path in (ROOT / app).rglob("*.py"):
            for name in imported_modules(path):
                assert name.split(".")[0] != "reports", f"{path.relative_to(ROOT)} imports {name}"
