"""Every message exists in both catalogs with the same placeholders; every key used exists."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.domain.draft import Step
from bot.domain.rewards import Ineligible, PayMethod, RewardState
from bot.domain.tips import Flag, Outcome, People, Seen, State, Supply
from bot.i18n import CATALOGS, en, normalize_language, placeholders, t, zh

ROOT = Path(__file__).resolve().parents[1] / "bot"


def test_same_keys_in_both_catalogs() -> None:
    assert set(zh.MESSAGES) - set(en.MESSAGES) == set()
    assert set(en.MESSAGES) - set(zh.MESSAGES) == set()


@pytest.mark.parametrize("key", sorted(zh.MESSAGES))
def test_placeholders_match(key: str) -> None:
    assert placeholders(zh.MESSAGES[key]) == placeholders(en.MESSAGES[key]), key


@pytest.mark.parametrize("lang", sorted(CATALOGS))
def test_messages_are_well_formed_html(lang: str) -> None:
    allowed = {"b", "i", "u", "s", "code", "pre", "a"}
    for key, text in CATALOGS[lang].items():
        tags = re.findall(r"</?([a-zA-Z-]+)[^>]*>", text)
        assert set(tags) <= allowed, (key, tags)
        for tag in allowed:
            opened = len(re.findall(rf"<{tag}(\s[^>]*)?>", text))
            assert opened == text.count(f"</{tag}>"), (key, tag)
        # A bare "<" or "&" would break Telegram's HTML parser.
        stripped = re.sub(r"</?[a-zA-Z-]+[^>]*>", "", text)
        assert "<" not in stripped and ">" not in stripped, key
        assert not re.search(r"&(?!amp;|lt;|gt;|quot;)", stripped), key


def _keys_used_in_code() -> set[str]:
    """Literal keys passed to t(...) anywhere under bot/."""
    used: set[str] = set()
    pattern = re.compile(r"""\bt\(\s*[a-z_]+,\s*"([a-z_.0-9+]+)\"""")
    for path in ROOT.rglob("*.py"):
        if "i18n" in path.parts:
            continue
        used.update(pattern.findall(path.read_text(encoding="utf-8")))
    # "map." + key and the like are prefixes: their families are checked below.
    return {key for key in used if not key.endswith(".")}


def test_every_literal_key_used_in_code_exists() -> None:
    used = _keys_used_in_code()
    assert len(used) > 50  # the scan really found the call sites
    assert used - set(zh.MESSAGES) == set()


def test_every_enum_key_exists() -> None:
    families = {
        "state": State,
        "outcome": Outcome,
        "reporter_outcome": Outcome,
        "reporter_state": State,
        "flag": Flag,
        "people": People,
        "seen": Seen,
        "supply": Supply,
        "reward.none": Ineligible,
        "reward_state": RewardState,
        "pay": PayMethod,
    }
    for prefix, enum in families.items():
        for member in enum:
            assert f"{prefix}.{member.value}" in zh.MESSAGES, f"{prefix}.{member.value}"
    for link in ("amap", "tencent", "baidu", "osm"):
        assert f"map.{link}" in zh.MESSAGES
    for step in Step:
        assert f"wrong.{step.value}" in zh.MESSAGES


def test_language_choice() -> None:
    assert normalize_language("zh-hans") == "zh"
    assert normalize_language("zh_TW") == "zh"
    assert normalize_language("en-GB") == "en"
    assert normalize_language("fr", default="en") == "en"
    assert normalize_language(None) == "zh"
    assert t("en", "submit.received", code="HS-0001").count("HS-0001") == 1
    assert "HS-0001" in t("zh", "submit.received", code="HS-0001")
