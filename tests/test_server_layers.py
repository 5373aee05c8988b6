"""The JSON API never imports the pages: what both need (the options form fields, the labeling
context) lives beneath both, so the two packages form no import cycle. Pages may use the API's
schemas, the shapes they show."""

from __future__ import annotations

import ast
from pathlib import Path

SERVER = Path(__file__).parent.parent / "server"


def _imports(path: Path) -> set[str]:
    """The modules ``path`` imports, relative imports made absolute under ``scholia.server``."""
    package = ["scholia", "server", *path.parent.relative_to(SERVER).parts]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join([*base, *(node.module.split(".") if node.module else [])])
            found.add(module)
            found |= {f"{module}.{alias.name}" for alias in node.names}
    return found


def test_the_api_never_imports_the_pages() -> None:
    offending = {
        str(path.relative_to(SERVER)): sorted(
            m for m in _imports(path) if m.startswith("scholia.server.pages")
        )
        for path in sorted((SERVER / "api").glob("*.py"))
    }
    assert {k: v for k, v in offending.items() if v} == {}
