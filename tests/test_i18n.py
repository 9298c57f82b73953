"""Every message exists in both catalogs with the same placeholders; every key used exists."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from bot.domain.campaign import Leg
from bot.domain.dashboard import MarkerState
from bot.domain.draft import Step
from bot.domain.rewards import Ineligible, PayMethod, RewardState
from bot.domain.tips import Flag, Outcome, People, Seen, State, Supply
from bot.i18n import CATALOGS, en, normalize_language, placeholders, t, zh
from bot.i18n import keys as keys_module

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


# -- Every key the code names is written out, exists, and every catalog key is used -----------
_KEY = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_+]+)+$")
#: The first word of every catalog key ("submit", "card", "reward"…).
_FAMILIES = {key.split(".")[0] for key in zh.MESSAGES}


def _code_files(*, sql: bool = False) -> list[Path]:
    """Every module of bot/ that may name a catalog key: not the catalogs themselves, and
    (unless ``sql``) not bot/db, whose strings are SQL (``ledger.at`` is a column there; a
    key it names, e.g. to leave a notice out of a count, still counts as used)."""
    return [
        path
        for path in sorted(ROOT.rglob("*.py"))
        if (sql or (path.parent.name != "db" and path.parent.parent.name != "db"))
        and not (path.parent.name == "i18n" and path.name in ("zh.py", "en.py"))
    ]


def _string_constants(files: list[Path]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                found.setdefault(node.value, []).append(f"{path.name}:{node.lineno}")
    return found


def _unknown_keys(files: list[Path]) -> dict[str, list[str]]:
    """Strings shaped like a key of a catalog family that are not a key of both catalogs."""
    return {
        s: where
        for s, where in _string_constants(files).items()
        if _KEY.match(s)
        and s.split(".")[0] in _FAMILIES
        and (s not in zh.MESSAGES or s not in en.MESSAGES)
    }


def _built_keys(files: list[Path]) -> list[str]:
    """An f-string or a ``+`` that starts with a family's prefix builds a key no test can see."""
    built = []
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            head = None
            if isinstance(node, ast.JoinedStr) and node.values:
                first = node.values[0]
                head = first.value if isinstance(first, ast.Constant) else None
            elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
                left = node.left
                head = left.value if isinstance(left, ast.Constant) else None
            if isinstance(head, str) and re.match(r"^[a-z_]+\.", head):
                if head.split(".")[0] in _FAMILIES:
                    built.append(f"{path.name}:{node.lineno} {head!r}")
    return built


def test_every_key_named_in_bot_exists_in_both_catalogs() -> None:
    """Any string of bot/ shaped like a key of a catalog family must be a key of both."""
    constants = _string_constants(_code_files())
    assert len([s for s in constants if s in zh.MESSAGES]) > 300  # the scan found the keys
    assert _unknown_keys(_code_files()) == {}


def test_every_catalog_key_is_used() -> None:
    """No dead message: each key of the catalogs is written out somewhere in bot/."""
    constants = _string_constants(_code_files(sql=True))
    assert sorted(set(zh.MESSAGES) - set(constants)) == []


def test_no_key_is_built_from_pieces() -> None:
    """Keys are looked up in a table of bot/i18n/keys.py, never built from a value."""
    assert _built_keys(_code_files()) == []


def test_the_key_checks_see_what_they_look_for(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The scanners themselves: a misspelt key, a key only one catalog has, an f-string key
    and a ``+`` key are each caught; a known key and a file name are not."""
    sample = tmp_path / "sample.py"
    sample.write_text(
        'a = t(lang, "card.urgent")\n'
        'b = t(lang, "card.urgnet")\n'
        'c = t(lang, f"state.{s}")\n'
        'd = "ledger." + w\n'
        'e = "warmline.sqlite3"\n'
        'f = t(lang, "card.normal")\n'
    )
    assert set(_unknown_keys([sample])) == {"card.urgnet"}
    assert sorted(_built_keys([sample])) == ["sample.py:3 'state.'", "sample.py:4 'ledger.'"]
    monkeypatch.delitem(en.MESSAGES, "card.normal")
    assert set(_unknown_keys([sample])) == {"card.urgnet", "card.normal"}


@pytest.mark.parametrize(
    ("table", "enum"),
    [
        (keys_module.STATE, State),
        (keys_module.REPORTER_STATE, State),
        (keys_module.OUTCOME, Outcome),
        (keys_module.REPORTER_OUTCOME, Outcome),
        (keys_module.SUPPLY, Supply),
        (keys_module.FLAG, Flag),
        (keys_module.SEEN, Seen),
        (keys_module.PEOPLE, People),
        (keys_module.WRONG, Step),
        (keys_module.REWARD_STATE, RewardState),
        (keys_module.PAY, PayMethod),
        (keys_module.NO_REWARD, Ineligible),
        (keys_module.LEG, Leg),
        (keys_module.MARKER, MarkerState),
    ],
)
def test_each_key_table_covers_its_enum(table: dict, enum: type) -> None:
    assert set(table) == set(enum)
    assert all(key in zh.MESSAGES and key in en.MESSAGES for key in table.values())

