"""The layers of ``bot/`` as data: which part may import which, and which libraries.

handlers/jobs → views → services → db → domain: no import runs back up. The domain is pure
(no Telegram, no SQL, no network); handlers reach the database only through services (the
handling context they need is bot/replay.py). Read with :mod:`ast` like the import-cycle
check (tests/test_import_cycles.py), so every import counts, late or type-only.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.test_import_cycles import ROOT, import_graph, module_name

#: For each layer (a module or a package of bot/), the parts of bot/ it may import (a name
#: covers the module or package and everything below it). A layer always may import itself.
MAY_IMPORT: dict[str, set[str]] = {
    # Pure rules: only pure geometry besides themselves.
    "bot.domain": {"bot.geo.coords", "bot.geo.area"},
    "bot.db": {"bot.domain", "bot.version"},  # (the version: upgrades refuse a newer database)
    # The handling context: the journal's statement that records an effect, nothing else.
    "bot.replay": {"bot.db.journal", "bot.db.sql"},
    "bot.i18n": {"bot.domain"},
    "bot.services": {"bot.db", "bot.domain", "bot.config", "bot.geo", "bot.i18n", "bot.replay"},
    "bot.views": {
        "bot.domain",
        "bot.i18n",
        "bot.geo.coords",
        "bot.geo.gazetteer",
        "bot.services",
        "bot.configdiff",  # what a reload changed (pure), told to the officers
    },
    "bot.handlers": {
        "bot.domain",
        "bot.i18n",
        "bot.views",
        "bot.services",
        "bot.replay",
        "bot.inbound",
        "bot.transport",
    },
    # Background work: the outbox sender, the ticker, the outage watch (which watches the
    # transport's reachability and the inbound journal).
    "bot.jobs": {
        "bot.db",
        "bot.domain",
        "bot.i18n",
        "bot.services",
        "bot.views",
        "bot.config",
        "bot.inbound",
        "bot.transport",
    },
}

#: Libraries a layer must not import (the standard library's sqlite3 included).
MUST_NOT_USE: dict[str, set[str]] = {
    "bot.domain": {"telegram", "aiosqlite", "sqlite3", "httpx", "geopy", "starlette"},
    "bot.db": {"telegram", "httpx", "geopy", "starlette"},
    "bot.services": {"telegram", "sqlite3", "starlette"},  # (weather.py fetches with httpx)
    "bot.views": {"aiosqlite", "sqlite3", "httpx", "geopy", "starlette"},
    "bot.handlers": {"aiosqlite", "sqlite3", "httpx", "geopy", "starlette"},
}


def _under(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


def layer_of(module: str) -> str | None:
    return next((layer for layer in MAY_IMPORT if _under(module, layer)), None)


def wrong_imports(graph: dict[str, dict[str, int]]) -> list[str]:
    """``module (line n) → target`` for each import of bot/ that its layer does not allow."""
    wrong = []
    for module, edges in sorted(graph.items()):
        layer = layer_of(module)
        if layer is None:
            continue
        allowed = {layer, *MAY_IMPORT[layer]}
        for target, line in sorted(edges.items()):
            if not any(_under(target, a) for a in allowed):
                wrong.append(f"{module} (line {line}) → {target}")
    return wrong


def libraries(path: Path) -> dict[str, int]:
    """``{top-level library: line}`` of every import outside bot/ in a file."""
    found: dict[str, int] = {}
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            names = [node.module]
        for name in names:
            top = name.split(".")[0]
            if top != "bot":
                found.setdefault(top, node.lineno)
    return found


def forbidden_libraries(root: Path) -> list[str]:
    wrong = []
    for path in sorted((root / "bot").rglob("*.py")):
        module = module_name(root, path)
        for layer, banned in MUST_NOT_USE.items():
            if _under(module, layer):
                for library, line in sorted(libraries(path).items()):
                    if library in banned:
                        wrong.append(f"{module} (line {line}) imports {library}")
    return wrong


def test_each_layer_imports_only_what_it_may() -> None:
    graph = import_graph(ROOT, "bot")
    assert {layer_of(m) for m in graph} >= set(MAY_IMPORT)  # every layer was read
    assert wrong_imports(graph) == []


def test_no_layer_uses_a_library_it_must_not() -> None:
    assert forbidden_libraries(ROOT) == []


def test_handlers_reach_no_store() -> None:
    """Spelled out, because it is the rule most easily broken: no handler imports bot/db."""
    graph = import_graph(ROOT, "bot")
    handlers = {m: e for m, e in graph.items() if _under(m, "bot.handlers")}
    assert len(handlers) >= 6
    assert [(m, t) for m, e in handlers.items() for t in e if _under(t, "bot.db")] == []


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("from bot.db.tips import TipStore\n", ["bot.handlers.x (line 1) → bot.db.tips"]),
        ("def late():\n    from bot.db import repo\n", ["bot.handlers.x (line 2) → bot.db.repo"]),
        ("from bot.services.result import Result\n", []),
    ],
)
def test_the_rules_catch_a_wrong_import(tmp_path: Path, source: str, expected: list[str]) -> None:
    """The checker itself, on a small tree: a handler importing a store is caught (even late);
    one importing a service is not."""
    for folder in ("bot/handlers", "bot/db", "bot/services"):
        (tmp_path / folder).mkdir(parents=True)
        (tmp_path / folder / "__init__.py").write_text("")
    (tmp_path / "bot" / "__init__.py").write_text("")
    (tmp_path / "bot/db/tips.py").write_text("")
    (tmp_path / "bot/db/repo.py").write_text("")
    (tmp_path / "bot/services/result.py").write_text("")
    (tmp_path / "bot/handlers/x.py").write_text(source)
    assert wrong_imports(import_graph(tmp_path, "bot")) == expected


def test_the_library_check_catches_sqlite_in_the_domain(tmp_path: Path) -> None:
    (tmp_path / "bot/domain").mkdir(parents=True)
    (tmp_path / "bot/domain/rules.py").write_text("import math\nimport sqlite3\n")
    (tmp_path / "bot/domain/ok.py").write_text("from bot.domain import rules\n")
    assert forbidden_libraries(tmp_path) == ["bot.domain.rules (line 2) imports sqlite3"]
