"""bot.config: parsing config.toml, the documented defaults, and errors an operator can act on.

Every bad file must raise :class:`ConfigError` whose message names the file, the key and the fix.
All ids and names below are invented.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from pathlib import Path

import pytest

from bot.config import (
    TOKEN_ENV,
    Config,
    ConfigError,
    GeocoderConfig,
    GroupConfig,
    ReportingConfig,
    RosterConfig,
    ServiceAreaConfig,
    StationConfig,
    TelegramConfig,
    load_config,
    parse_config,
    require_token,
)

EXAMPLE = Path(__file__).resolve().parent.parent / "config.example.toml"

# A small valid file; the bad files below are each one edit away from it.
VALID = """\
[telegram]
token = ""
base_url = "http://127.0.0.1:9/bot"
poll_timeout = 30

[station]
name = "Test Station"
hotline = "0000-1111111"
timezone = "Asia/Shanghai"
language = "en"

[service_area]
south = 29.50
west = 114.50
north = 30.35
east = 115.60

[[groups]]
key = "g1"
name = "Alpha"
chat_id = -1009000000001
leader = 510001
members = [510002, 510003]

[[groups]]
key = "g2"
name = "Bravo"
chat_id = -1009000000002
leader = 520001
members = [520002, 520003]

[roster]
anchor = 2026-11-21
handover = "08:30"
order = ["g1", "g2"]

[roster.overrides]

[officers]
user_ids = [590001]
"""


def edit(old: str, new: str, text: str = VALID) -> str:
    """``text`` with ``old`` replaced once (and a check that the edit really happened)."""
    assert text.count(old) == 1, f"{old!r} is not in the template exactly once"
    return text.replace(old, new)


def write(tmp_path: Path, text: str, name: str = "config.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def error_of(tmp_path: Path, text: str) -> str:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_config(path, env={})
    # Raised `from None` (or outside any handler): no chained exception to print.
    assert info.value.__cause__ is None
    assert info.value.__context__ is None or info.value.__suppress_context__
    message = str(info.value)
    assert str(path) in message
    assert "→" in message, "every message ends in a fix"
    assert "Traceback" not in message
    return message


# -- the example file ----------------------------------------------------------------------


def test_example_parses() -> None:
    config = load_config(EXAMPLE, env={})
    assert isinstance(config, Config)


def test_example_documents_the_defaults() -> None:
    config = load_config(EXAMPLE, env={})
    assert config.telegram == TelegramConfig()
    # The one difference: the database path, made absolute against the file's folder.
    assert config.station.database == str(EXAMPLE.parent / "warmline.sqlite3")
    assert config.station.model_copy(update={"database": "warmline.sqlite3"}) == StationConfig()
    assert config.service_area == ServiceAreaConfig()
    assert config.geocoder == GeocoderConfig()
    assert config.reporting == ReportingConfig()
    assert config.roster.anchor == RosterConfig().anchor == dt.date(2026, 11, 21)
    assert config.roster.handover == RosterConfig().handover == "08:30"


def test_example_values() -> None:
    config = load_config(EXAMPLE, env={})
    assert config.telegram.token == ""
    assert config.station.hotline == "0714-0000000"
    assert config.station.timezone == "Asia/Shanghai"
    assert config.station.language == "zh"
    assert config.station.code_prefix == "HS"
    area = config.service_area
    assert (area.south, area.west, area.north, area.east) == (29.50, 114.50, 30.35, 115.60)
    assert [g.key for g in config.groups] == ["g1", "g2"]
    g1, g2 = config.groups
    assert (g1.name, g1.chat_id, g1.leader, g1.members) == (
        "第一小组",
        -1001000000001,
        100001,
        [100002, 100003, 100004],
    )
    assert (g2.name, g2.chat_id, g2.leader) == ("第二小组", -1001000000002, 200001)
    assert config.group("g2") is g2
    assert config.roster.order == ["g1", "g2"]
    assert config.roster_order() == ["g1", "g2"]
    assert config.roster.overrides == {}
    assert config.officers.user_ids == [900001]
    assert config.geocoder.provider == "nominatim"


def test_example_shows_every_option() -> None:
    data = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
    for section, field in Config.model_fields.items():
        assert section in data, f"[{section}] is missing from config.example.toml"
        model = field.annotation
        if section == "groups":
            for group in data["groups"]:
                assert set(group) == set(GroupConfig.model_fields)
            continue
        assert set(data[section]) == set(model.model_fields), section  # type: ignore[union-attr]


def test_minimal_file_gets_the_defaults() -> None:
    text = """\
[[groups]]
key = "solo"
name = "Solo"
chat_id = -1009000000009
leader = 530001

[roster]
order = ["solo"]
"""
    config = parse_config(text, "/srv/warmline/minimal.toml", env={})
    assert config.station.database == "/srv/warmline/warmline.sqlite3"
    assert config.station.model_copy(update={"database": "warmline.sqlite3"}) == StationConfig()
    assert config.service_area == ServiceAreaConfig()
    assert config.telegram == TelegramConfig()
    assert config.roster.anchor == dt.date(2026, 11, 21)
    assert config.roster.handover == "08:30"
    assert config.groups[0].members == []
    assert config.officers.user_ids == []


def test_overrides_parse_to_dates() -> None:
    text = edit(
        "[roster.overrides]\n", '[roster.overrides]\n"2026-12-24" = "g2"\n2026-12-25 = "g1"\n'
    )
    config = parse_config(text, env={})
    assert config.roster.overrides == {dt.date(2026, 12, 24): "g2", dt.date(2026, 12, 25): "g1"}


def test_leader_may_also_be_listed_as_member_of_own_group() -> None:
    # A leader listed among the members is simply the leader (issue 10, item 1).
    config = parse_config(edit("members = [510002, 510003]", "members = [510001, 510002]"), env={})
    assert config.groups[0].leader == 510001
    assert config.groups[0].members == [510002]


# -- the token -----------------------------------------------------------------------------


def test_env_token_overrides_file_token() -> None:
    text = edit('token = ""', 'token = "111:from-file"')
    assert parse_config(text, env={}).telegram.token == "111:from-file"
    config = parse_config(text, env={TOKEN_ENV: "222:from-env"})
    assert config.telegram.token == "222:from-env"
    assert require_token(config, "config.toml") == "222:from-env"


def test_env_token_fills_an_empty_file_token(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, VALID), env={TOKEN_ENV: "333:env"})
    assert config.telegram.token == "333:env"


def test_empty_env_token_does_not_override() -> None:
    text = edit('token = ""', 'token = "111:from-file"')
    assert parse_config(text, env={TOKEN_ENV: ""}).telegram.token == "111:from-file"


def test_require_token_on_empty_token() -> None:
    config = parse_config(VALID, "/srv/warmline/config.toml", env={})
    with pytest.raises(ConfigError) as info:
        require_token(config, "/srv/warmline/config.toml")
    message = str(info.value)
    assert "/srv/warmline/config.toml" in message
    assert "telegram.token" in message
    assert TOKEN_ENV in message
    assert "@BotFather" in message


# -- bad files -----------------------------------------------------------------------------

NO_GROUPS = VALID.split("[[groups]]")[0] + '[roster]\norder = ["g1"]\n'


HOTLINE = 'hotline = "0000-1111111"'


def line_of(line: str, text: str = VALID) -> int:
    return text.splitlines().index(line) + 1


# (id, file text, fragments the message must contain: the key path and the fix)
BAD_FILES = [
    pytest.param(
        NO_GROUPS,
        ["groups", "missing", "add at least one [[groups]] table"],
        id="missing-groups",
    ),
    pytest.param(
        edit('name = "Bravo"\n', ""),
        ["[[groups]] #2 (key = 'g2').name", "missing", 'add name = "'],
        id="missing-group-name",
    ),
    pytest.param(
        edit("leader = 520001\n", ""),
        ["[[groups]] #2 (key = 'g2').leader", "add leader =", "/whoami"],
        id="missing-group-leader",
    ),
    pytest.param(
        edit("chat_id = -1009000000002\n", ""),
        ["[[groups]] #2 (key = 'g2').chat_id", "add chat_id =", "/whoami"],
        id="missing-group-chat-id",
    ),
    pytest.param(
        edit("poll_timeout = 30", 'poll_timeout = "thirty"'),
        ["telegram.poll_timeout", "write a whole number"],
        id="wrong-type-int",
    ),
    pytest.param(
        edit("south = 29.50", 'south = "far"'),
        ["service_area.south", "write a number"],
        id="wrong-type-float",
    ),
    pytest.param(
        edit("members = [520002, 520003]", 'members = "520002"'),
        ["[[groups]] #2 (key = 'g2').members", "write a list of Telegram user ids"],
        id="wrong-type-list",
    ),
    pytest.param(
        edit('hotline = "0000-1111111"', 'hotline = "0000-1111111"\nhotlien = "typo"'),
        ["station.hotlien", "unknown key", "did you mean `hotline`?"],
        id="unknown-key",
    ),
    pytest.param(
        VALID + "\n[stations]\nname = 'typo'\n",
        ["stations", "unknown section [stations]", "did you mean [station]?"],
        id="unknown-section",
    ),
    pytest.param(
        edit("members = [520002, 520003]", "members = [520002, 510003]"),
        [
            "user 510003 is in two groups",
            "[[groups]] #1 (key = 'g1').members",
            "[[groups]] #2 (key = 'g2').members",
            "remove them from one of the two",
        ],
        id="user-in-two-groups",
    ),
    pytest.param(
        edit("leader = 520001", "leader = 510002"),
        ["510002", "[[groups]] #2 (key = 'g2').leader", "a person belongs to one patrol group"],
        id="member-is-other-groups-leader",
    ),
    pytest.param(
        edit('key = "g2"', 'key = "g1"'),
        ["[[groups]] #1 (key = 'g1')", "[[groups]] #2 (key = 'g1')", "its own key"],
        id="duplicate-group-key",
    ),
    pytest.param(
        edit("chat_id = -1009000000002", "chat_id = -1009000000001"),
        ["[[groups]] #2 (key = 'g2').chat_id", "-1009000000001", "its own chat"],
        id="shared-chat-id",
    ),
    pytest.param(
        edit('order = ["g1", "g2"]', "order = []"),
        ["roster.order", "the roster is empty", 'order = ["g1"]'],
        id="empty-roster",
    ),
    pytest.param(
        edit('order = ["g1", "g2"]\n', ""),
        ["roster.order", "the roster is empty", "list the group keys"],
        id="no-roster-order",
    ),
    pytest.param(
        edit("[roster]", "[roster"),
        ["not valid TOML", f"line {line_of('[roster]')}", "[roster", 'end it with "]"'],
        id="invalid-toml",
    ),
    pytest.param(
        edit('hotline = "0000-1111111"', 'hotline = "0000-1111111'),
        ["not valid TOML", f"line {line_of(HOTLINE)}", "not closed", "double quote"],
        id="invalid-toml-unclosed-string",
    ),
    pytest.param(
        edit('timezone = "Asia/Shanghai"', 'timezone = "Asia/Nowhere"'),
        ["station.timezone", "'Asia/Nowhere'", 'IANA time zone name such as "Asia/Shanghai"'],
        id="unknown-timezone",
    ),
    pytest.param(
        edit("chat_id = -1009000000002", "chat_id = 1009000000002"),
        ["[[groups]] #2 (key = 'g2').chat_id", "negative", "/whoami in the group"],
        id="positive-chat-id",
    ),
    pytest.param(
        edit("south = 29.50", "south = 30.35"),
        ["service_area", "south = 30.35", "north = 30.35", "swap the two values"],
        id="south-equals-north",
    ),
    pytest.param(
        edit("south = 29.50", "south = 31.0"),
        ["service_area", "south", "smaller than north", "swap the two values"],
        id="south-above-north",
    ),
    pytest.param(
        edit("west = 114.50", "west = 116.0"),
        ["service_area", "west", "smaller than east", "swap the two values"],
        id="west-beyond-east",
    ),
    pytest.param(
        edit('order = ["g1", "g2"]', 'order = ["g1", "g3"]'),
        ["roster.order", "unknown group key 'g3'", "use one of g1, g2"],
        id="unknown-key-in-roster-order",
    ),
    pytest.param(
        edit("[roster.overrides]\n", '[roster.overrides]\n"2026-12-24" = "g9"\n'),
        ["roster.overrides.2026-12-24", "unknown group key 'g9'", "use one of g1, g2"],
        id="unknown-key-in-roster-overrides",
    ),
    pytest.param(
        edit("[roster.overrides]\n", '[roster.overrides]\n"2026-13-01" = "g1"\n'),
        ["roster.overrides.2026-13-01", "is not a date", "YYYY-MM-DD, such as 2026-11-21"],
        id="bad-override-date",
    ),
    pytest.param(
        edit('handover = "08:30"', 'handover = "8.30"'),
        ["roster.handover", '"8.30" is not a time of day', '"HH:MM"', 'handover = "08:30"'],
        id="bad-handover",
    ),
    pytest.param(
        edit('key = "g2"', 'key = "Group 2"'),
        ["[[groups]] #2 (key = 'Group 2').key", 'lowercase letters, digits or "_"'],
        id="bad-group-key",
    ),
    pytest.param(
        edit('language = "en"', 'language = "fr"'),
        ["station.language", "not one of the allowed values", 'write "zh" or "en"'],
        id="bad-language",
    ),
    pytest.param(
        'station = "Test Station"\n' + edit("[station]\n", "[station_]\n"),
        ["station: ", "write it as a table, e.g. [station]"],
        id="section-not-a-table",
    ),
    pytest.param(
        edit('[[groups]]\nkey = "g2"', '[groups]\nkey = "g2"').replace(
            '[[groups]]\nkey = "g1"', "#"
        ),
        ["groups", "[[groups]] table (double brackets)"],
        id="groups-as-single-table",
    ),
]


@pytest.mark.parametrize(("text", "fragments"), BAD_FILES)
def test_bad_file_names_file_key_and_fix(tmp_path: Path, text: str, fragments: list[str]) -> None:
    message = error_of(tmp_path, text)
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in:\n{message}"


def test_missing_groups_message_is_not_just_field_required(tmp_path: Path) -> None:
    message = error_of(tmp_path, NO_GROUPS)
    assert "Field required" not in message
    assert message.endswith("(see config.example.toml)")


def test_empty_groups_list(tmp_path: Path) -> None:
    text = "groups = []\n" + NO_GROUPS
    message = error_of(tmp_path, text)
    assert "groups: no patrol group is configured" in message
    assert "add at least one [[groups]] table" in message


def test_pattern_errors_do_not_show_the_regex(tmp_path: Path) -> None:
    message = error_of(tmp_path, edit('hotline = "0000-1111111"', 'code_prefix = "hs"'))
    assert "should match pattern" not in message
    assert "A-Z]{1" not in message
    assert '"hs" is not in the expected format' in message


def test_several_problems_are_reported_together(tmp_path: Path) -> None:
    text = edit("poll_timeout = 30", "poll_timeout = 99")
    text = edit('timezone = "Asia/Shanghai"', 'timezone = "Mars/Olympus"', text)
    text = edit("chat_id = -1009000000001", "chat_id = 5", text)
    message = error_of(tmp_path, text)
    assert "3 problem(s)" in message
    assert "telegram.poll_timeout" in message
    assert "station.timezone" in message
    assert "[[groups]] #1 (key = 'g1').chat_id" in message


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nowhere" / "config.toml"
    with pytest.raises(ConfigError) as info:
        load_config(path, env={})
    message = str(info.value)
    assert str(path) in message
    assert "no such file" in message
    assert "copy config.example.toml" in message
    assert info.value.__suppress_context__


def test_directory_instead_of_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path, env={})
    message = str(info.value)
    assert str(tmp_path) in message
    assert "check the path" in message


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_bytes(VALID.encode() + b"# \xff\xfe not UTF-8\n")
    with pytest.raises(ConfigError) as info:
        load_config(path, env={})
    assert str(path) in str(info.value)
    assert "not saved as UTF-8" in str(info.value)


def test_parse_config_names_the_given_path() -> None:
    with pytest.raises(ConfigError, match=r"^/etc/warmline\.toml: "):
        parse_config(edit('order = ["g1", "g2"]', "order = []"), "/etc/warmline.toml", env={})
