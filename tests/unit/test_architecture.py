"""The house plan holds: imports point down (import-linter's contracts in pyproject.toml) and no
package imports its sibling back.

The contracts are checked on the tree as it is, and once more on a copy with one upward import
and one circle written into it, to see that the checker refuses what it is there to refuse.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = ROOT / "pyproject.toml"
PRODUCTION = ROOT / "production"
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def _lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    """Run lint-imports on the `production` package found in `root`, with its pyproject.toml."""
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--config", "pyproject.toml"], cwd=root,
        # One report line per contract, however narrow the terminal the suite runs in.
        env={"PYTHONPATH": str(root), "PATH": str(LINT_IMPORTS.parent), "COLUMNS": "400"},
        capture_output=True, text=True, timeout=120, check=False)


def _contracts(result: subprocess.CompletedProcess[str], verdict: str) -> list[str]:
    """Return the names of the contracts the report gives `verdict` (KEPT or BROKEN)."""
    return [line.removesuffix(verdict).strip() for line in result.stdout.splitlines()
            if line.endswith(f" {verdict}")]


def test_every_import_contract_is_kept() -> None:
    result = _lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert _contracts(result, "BROKEN") == []
    assert len(_contracts(result, "KEPT")) == 4  # layers, no circles, pure domain, adapters


def test_every_top_level_module_of_production_sits_in_a_layer() -> None:
    contracts = tomllib.loads(PYPROJECT.read_text())["tool"]["importlinter"]["contracts"]
    layers = next(c for c in contracts if c["type"] == "layers")["layers"]
    placed = {name.strip() for layer in layers for name in layer.replace("|", " ").split()}
    modules = {f"production.{path.stem}" for path in PRODUCTION.iterdir()
               if (path.suffix == ".py" and path.stem != "__init__")
               or (path / "__init__.py").exists()}
    assert modules - placed == set(), "a new top-level module needs a place in the layers"


def _lint_copy(tmp_path: Path, edit: str, line: str) -> subprocess.CompletedProcess[str]:
    """Run lint-imports on a copy of production/ with `line` appended to the module `edit`."""
    copy = tmp_path / "production"
    shutil.copytree(PRODUCTION, copy, ignore=shutil.ignore_patterns("__pycache__"))
    with (copy / edit).open("a") as module:
        module.write(f"\n{line}\n")
    shutil.copy(PYPROJECT, tmp_path / "pyproject.toml")
    return _lint_imports(tmp_path)


@pytest.mark.parametrize(("edit", "line", "broken"), [
    # The domain reaching up into a use case.
    ("domain/text.py", "from production.services import intake", "Layers"),
    # A query module reaching up into the C.A.R.E. package, as care_state.py once did.
    ("database/queries/care_state.py", "from production.care import executor", "Layers"),
    # One adapter importing another: siblings of a layer are independent.
    ("channels/whatsapp.py", "from production.database.queries import whatsapp", "Layers"),
    # The pool importing a query module that imports the pool: a circle inside database/.
    ("database/pool.py", "from production.database.queries import messages", "No package circle"),
    # The domain doing I/O.
    ("domain/identity.py", "import asyncpg", "The domain does no I/O"),
])
def test_an_upward_import_or_a_circle_breaks_a_contract(
    tmp_path: Path, edit: str, line: str, broken: str,
) -> None:
    result = _lint_copy(tmp_path, edit, line)
    assert result.returncode == 1, result.stdout + result.stderr
    assert any(name.startswith(broken) for name in _contracts(result, "BROKEN")), result.stdout


def test_the_untouched_copy_keeps_every_contract(tmp_path: Path) -> None:
    """The copy itself is sound: what breaks above is the line written into it."""
    result = _lint_copy(tmp_path, "domain/text.py", "# nothing imported")
    assert result.returncode == 0, result.stdout + result.stderr
    assert len(_contracts(result, "KEPT")) == 4
