"""The house rules of docs/architecture.md, read from the code's own imports.

Every import counts — inside functions and under `TYPE_CHECKING` too — because a circle hidden
behind a lazy import is still a circle for whoever has to change one of its files.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PRODUCT = (
    *("schemas", "organs", "pipeline", "storage", "search", "accounts"),
    *("exchange", "workers", "app"),
)
OURS = (*PRODUCT, "corpus", "bench", "pages2")
MAX_LINES = 700

# package -> packages of ours it must never import (../shared/DESIGN.md §1)
FORBIDDEN = {
    "schemas": set(OURS) - {"schemas"},
    "organs": {"pipeline", "storage", "search", "exchange", "workers", "app", "corpus", "bench"},
    "pipeline": {"storage", "search", "exchange", "workers", "app", "corpus", "bench"},
    "storage": {"pipeline", "search", "exchange", "workers", "app", "corpus", "bench"},
    "search": {"pipeline", "storage", "exchange", "workers", "app", "corpus", "bench"},
    "accounts": set(OURS) - {"accounts", "schemas", "storage"},
    "exchange": {"workers", "app", "corpus", "bench"},
    "workers": {"app", "corpus", "bench"},
    "app": {"corpus", "bench"},
}
for _below in ("organs", "pipeline", "storage", "search"):  # the floors under accounts/
    FORBIDDEN[_below].add("accounts")
for _never in FORBIDDEN.values():  # the second page set is benchmark material, like corpus/
    _never.add("pages2")


def _modules() -> dict[str, Path]:
    found = {}
    for package in PRODUCT:
        for path in sorted((ROOT / package).rglob("*.py")) if (ROOT / package).is_dir() else []:
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


def _imports(path: Path, known: dict[str, Path]) -> set[str]:
    """Our modules that `path` imports, anywhere in the file."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return {name for name in names if name in known}


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    known = _modules()
    return {name: _imports(path, known) - {name} for name, path in known.items()}


def _circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_import_circles(graph: dict[str, set[str]]) -> None:
    assert _circles(graph) == []


def test_packages_import_only_downwards(graph: dict[str, set[str]]) -> None:
    wrong = sorted(
        f"{module} imports {target}"
        for module, targets in graph.items()
        for target in targets
        if target.split(".")[0] in FORBIDDEN.get(module.split(".")[0], set())
    )
    assert wrong == []


def test_environment_read_only_by_settings() -> None:
    readers = sorted(
        str(path.relative_to(ROOT))
        for path in _modules().values()
        if "os.environ" in (text := path.read_text(encoding="utf-8")) or "getenv(" in text
    )
    assert set(readers) <= {"app/config.py"}


def test_product_modules_are_small_or_say_why() -> None:
    too_long = []
    for path in _modules().values():
        text = path.read_text(encoding="utf-8")
        if text.count("\n") > MAX_LINES:
            opening = ast.get_docstring(ast.parse(text)) or ""
            if " because " not in opening:
                too_long.append(f"{path.relative_to(ROOT)}: {text.count(chr(10))} lines")
    assert too_long == []
