"""The transport's one import-time tweak (issue 16, target 4): httpcore's per-lock
``import sniffio`` must not scan ``sys.path`` on every request when sniffio is missing."""

from __future__ import annotations

import asyncio
import importlib.machinery
import importlib.util

import pytest
from httpcore._synchronization import current_async_library

import bot.transport  # noqa: F401 - the import is what is under test


def test_a_missing_sniffio_is_looked_for_once_not_on_every_request(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if importlib.util.find_spec("sniffio") is not None:
        pytest.skip("sniffio is installed here: httpcore imports it once, as it should")
    looked: list[str] = []
    find_spec = importlib.machinery.PathFinder.find_spec

    def counting(name, path=None, target=None):  # type: ignore[no-untyped-def]
        looked.append(name)
        return find_spec(name, path, target)

    monkeypatch.setattr(importlib.machinery.PathFinder, "find_spec", counting)

    async def ask() -> list[str]:
        return [current_async_library() for _ in range(100)]

    assert asyncio.run(ask()) == ["asyncio"] * 100  # the same answer as before
    assert "sniffio" not in looked
