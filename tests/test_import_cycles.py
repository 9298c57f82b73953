"""No import cycle anywhere in ``bot/``.

Every ``import`` and ``from … import`` in every module counts — at module level, inside
functions (a late import hides a cycle from Python, not from a reader), under
``if TYPE_CHECKING:`` — read with :mod:`ast`, so nothing is executed. An edge goes to the most
specific module named (``from bot.sandbox import httpd`` → ``bot.sandbox.httpd``;
``from bot.config import Config`` → ``bot.config``); a package is not counted as imported by
its own submodules.
"""

from __future__ import annotations

import ast
import itertools
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def import_graph(root: Path, package: str) -> dict[str, dict[str, int]]:
    """``{module: {imported module: line of the first such import}}`` for every module of
    ``package`` (a folder under ``root``), limited to modules of that package."""
    files = {module_name(root, p): p for p in sorted((root / package).rglob("*.py"))}

    def known(name: str) -> str | None:
        while name and name not in files:
            name = name.rpartition(".")[0]
        return name or None

    graph: dict[str, dict[str, int]] = {}
    for module, path in files.items():
        edges: dict[str, int] = {}
        package_parts = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            targets: list[str | None] = []
            if isinstance(node, ast.Import):
                targets = [known(alias.name) for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package_parts[: len(package_parts) - (node.level - 1)]
                    source = ".".join([*base, *([node.module] if node.module else [])])
                else:
                    source = node.module or ""
                for alias in node.names:
                    submodule = f"{source}.{alias.name}"
                    targets.append(submodule if submodule in files else known(source))
            for target in targets:
                if target is not None and target != module:
                    edges.setdefault(target, node.lineno)
        graph[module] = edges
    return graph


def cycles(graph: dict[str, dict[str, int]]) -> list[list[str]]:
    """For each group of modules that import each other (directly or not), its shortest
    cycle from its first module: ``[a, b, …, a]``."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[set[str]] = []

    def visit(module: str) -> None:  # Tarjan's strongly connected components
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for target in graph[module]:
            if target not in index:
                visit(target)
                low[module] = min(low[module], low[target])
            elif target in on_stack:
                low[module] = min(low[module], index[target])
        if low[module] == index[module]:
            group = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.add(member)
                if member == module:
                    break
            if len(group) > 1:
                groups.append(group)

    for module in sorted(graph):
        if module not in index:
            visit(module)

    found = []
    for group in groups:
        start = min(group)
        # The shortest way back to the start, within the group (breadth first).
        paths = {start: [start]}
        queue = [start]
        while queue:
            module = queue.pop(0)
            for target in sorted(graph[module]):
                if target == start:
                    queue = []
                    found.append([*paths[module], start])
                    break
                if target in group and target not in paths:
                    paths[target] = [*paths[module], target]
                    queue.append(target)
    return sorted(found)


def describe(graph: dict[str, dict[str, int]], cycle: list[str]) -> str:
    return "\n  ".join(f"{a} (line {graph[a][b]}) → {b}" for a, b in itertools.pairwise(cycle))


def test_bot_has_no_import_cycle() -> None:
    graph = import_graph(ROOT, "bot")
    assert len(graph) > 50 and "bot.sandbox.demo" in graph  # the whole package was read
    found = cycles(graph)
    assert not found, "import cycles in bot/:\n  " + "\n\n  ".join(
        describe(graph, cycle) for cycle in found
    )


def test_the_check_sees_late_relative_and_type_only_imports(tmp_path: Path) -> None:
    """The checker itself: a cycle hidden in a function, a relative import or a
    TYPE_CHECKING block is found; a package importing its own submodules is not a cycle."""
    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("from pkg.sub import leaf\n")
    (pkg / "sub" / "__init__.py").write_text("")
    (pkg / "sub" / "leaf.py").write_text("import os\n")
    (pkg / "a.py").write_text("def late():\n    from pkg import b\n")
    (pkg / "b.py").write_text("from . import c\n")
    (pkg / "c.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg.a import late\n"
    )
    graph = import_graph(tmp_path, "pkg")
    assert graph["pkg"] == {"pkg.sub.leaf": 1}
    assert graph["pkg.a"] == {"pkg.b": 2} and graph["pkg.b"] == {"pkg.c": 1}
    assert cycles(graph) == [["pkg.a", "pkg.b", "pkg.c", "pkg.a"]]
    assert "pkg.a (line 2) → pkg.b" in describe(graph, cycles(graph)[0])
