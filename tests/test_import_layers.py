"""The import contracts in pyproject.toml hold for the tree, and the core's layers contract
really fails on an import that goes upward, whether at module level, inside a function or
under ``TYPE_CHECKING`` (a contract that could not fail would prove nothing).

The failing cases run ``lint-imports`` on a scratch copy of core/ under another package name,
with the contract read from pyproject.toml, so the tree itself is never touched."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def _lint_imports(*args: str, cwd: Path, pythonpath: Path | None = None) -> tuple[int, str]:
    env = dict(os.environ)
    if pythonpath is not None:
        env["PYTHONPATH"] = str(pythonpath)
    done = subprocess.run(
        [str(LINT_IMPORTS), "--no-logo", "--no-cache", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return done.returncode, done.stdout + done.stderr


def test_the_tree_keeps_every_import_contract() -> None:
    status, output = _lint_imports(cwd=ROOT)
    assert status == 0, output
    assert "0 broken" in output


def _core_contract() -> dict[str, object]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    (contract,) = [c for c in config["contracts"] if c["id"] == "core-layers"]
    assert "ignore_imports" not in contract, "the layers hold without exceptions"
    return dict(contract)


def _toml_list(values: list[str]) -> str:
    return "[" + ", ".join(f'"{v}"' for v in values) + "]"


UPWARD = {
    # item_state (pure types) must not import lifecycle (records).
    "module level": "from . import lifecycle\n",
    "inside a function": "\n\ndef _late() -> None:\n    from . import lifecycle  # noqa\n",
    "under TYPE_CHECKING": (
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from . import lifecycle\n"
    ),
}


@pytest.mark.parametrize("where", UPWARD)
def test_the_core_layers_contract_fails_on_an_upward_import(where: str, tmp_path: Path) -> None:
    contract = _core_contract()
    shutil.copytree(
        ROOT / "core", tmp_path / "layered_core", ignore=shutil.ignore_patterns("__pycache__")
    )
    config = tmp_path / "contracts.toml"
    config.write_text(
        "[tool.importlinter]\n"
        'root_packages = ["layered_core"]\n\n'
        "[[tool.importlinter.contracts]]\n"
        'id = "core-layers"\n'
        'name = "core layers"\n'
        'type = "layers"\n'
        'containers = ["layered_core"]\n'
        f"layers = {_toml_list(contract['layers'])}\n"  # type: ignore[arg-type]
    )
    status, output = _lint_imports(str(config), cwd=tmp_path, pythonpath=tmp_path)
    assert status == 0, f"the copy keeps the contract before the change:\n{output}"

    with (tmp_path / "layered_core" / "item_state.py").open("a") as module:
        module.write(UPWARD[where])
    status, output = _lint_imports(str(config), cwd=tmp_path, pythonpath=tmp_path)
    assert status != 0, output
    assert "layered_core.item_state is not allowed to import layered_core.lifecycle" in output
