"""Config messages in plain words (issue 10, item 4).

Every problem a station's admin can write into config.toml is reported in the words of the
file — the key as written, the value written, what it should be, a did-you-mean for a misspelt
key or section — never in pydantic's or tomllib's ("Extra inputs are not permitted", "Input
should be a valid integer", "Invalid value"). The shape stays: the file, the key, "→ fix",
exit status 2, no traceback. All ids and names are invented.
"""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import tomllib
import typing
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from bot.config import Config, ConfigError, parse_config
from bot.configmsg import _model_of
from tests.startproc import toml
from tests.test_config import VALID, edit

ROOT = Path(__file__).resolve().parent.parent
PATH = "/srv/warmline/config.toml"

# Library wording that must never reach an admin.
JARGON = (
    "Input should",
    "Extra inputs",
    "Field required",
    "String should",
    "List should",
    "Value error",
    "Datetimes provided",
    "valid integer",
    "unable to parse",
    "should match pattern",
    "Invalid value",
    "Invalid statement",
    "Expected '='",
    "Expected newline",
    "Unclosed array",
    "Unclosed inline",
    "Cannot overwrite",
    "Cannot declare",
    "Illegal character",
    "Unterminated string",
    "Unescaped",
    "at end of document",
    "[key]",
    "type=",
    "pydantic",
    "errors.pydantic.dev",
)


def problem(text: str) -> str:
    """The message for a bad file, after the checks every message must pass."""
    with pytest.raises(ConfigError) as info:
        parse_config(text, PATH, env={})
    message = str(info.value)
    assert message.startswith(f"{PATH}: "), message
    assert "→" in message, message
    assert "Traceback" not in message
    for word in JARGON:
        assert word not in message, f"{word!r} in:\n{message}"
    return message


# (file text, fragments of the message: the key, what is wrong, the fix)
MALFORMED = [
    # misspelt keys and sections, at every level
    pytest.param(
        edit('handover = "08:30"', 'handvoer = "08:30"'),
        ["roster.handvoer", "unknown key", "did you mean `handover`?"],
        id="roster.handvoer",
    ),
    pytest.param(
        edit("[roster]", "[rooster]"),
        ["rooster", "unknown section [rooster]", "did you mean [roster]?"],
        id="[rooster]",
    ),
    pytest.param(
        edit("[roster.overrides]", "[roster.overides]"),
        ["roster.overides", "did you mean [roster.overrides]?"],
        id="[roster.overides]",
    ),
    pytest.param(
        edit("members = [510002, 510003]", "memebrs = [510002, 510003]"),
        ["[[groups]] #1 (key = 'g1').memebrs", "did you mean `members`?"],
        id="groups.memebrs",
    ),
    pytest.param(
        edit("[officers]", "[oficers]"),
        ["did you mean [officers]?"],
        id="[oficers]",
    ),
    pytest.param(
        VALID + '\n[sumary]\ntime = "08:00"\n',
        ["did you mean [summary]?"],
        id="[sumary]",
    ),
    # the right key in the wrong place
    pytest.param(
        'token = "123:invented"\n' + VALID,
        ["token: unknown key", "`token` belongs in [telegram]", "move it below the [telegram]"],
        id="token-above-every-section",
    ),
    pytest.param(
        edit('hotline = "0000-1111111"', 'hotline = "0000-1111111"\npoll_timeout = 5'),
        ["station.poll_timeout", "belongs in [telegram], not [station]"],
        id="key-in-the-wrong-section",
    ),
    pytest.param(
        edit('hotline = "0000-1111111"', 'hotline = "0000-1111111"\nzzz = 1'),
        ["station.zzz", "remove it or check its spelling", "[station] has:", "`hotline`"],
        id="unknown-key-no-near-name",
    ),
    # times: "HH:MM" is the format; H:MM is accepted (see below)
    pytest.param(
        edit('handover = "08:30"', 'handover = "25:00"'),
        ["roster.handover", '"25:00" is not a time of day', '"HH:MM"', 'handover = "08:30"'],
        id="handover-25:00",
    ),
    pytest.param(
        VALID + '\n[patrol]\nreminder_times = ["9:00", "21:60"]\n',
        ["patrol.reminder_times[1]", '"21:60" is not a time of day', '"HH:MM"'],
        id="reminder-21:60",
    ),
    pytest.param(
        VALID + "\n[summary]\ntime = 8\n",
        ["summary.time", "8 is not a time of day", 'time = "08:00"'],
        id="summary-time-a-number",
    ),
    pytest.param(
        edit('handover = "08:30"', "handover = 08:30"),
        ["line 34", "the time 08:30 is not in quotes", 'double quotes, e.g. "08:30"'],
        id="unquoted-time",
    ),
    # numbers, ranges, booleans, text, lists, dates, choices, tables
    pytest.param(
        edit("poll_timeout = 30", 'poll_timeout = "thirty"'),
        ["telegram.poll_timeout", '"thirty" is not a whole number', "poll_timeout = 30"],
        id="int-from-text",
    ),
    pytest.param(
        edit("poll_timeout = 30", "poll_timeout = 2.5"),
        ["telegram.poll_timeout", "2.5 is not a whole number"],
        id="int-from-fraction",
    ),
    pytest.param(
        edit("poll_timeout = 30", "poll_timeout = 99"),
        ["telegram.poll_timeout", "99 is too large", "from 0 to 50"],
        id="int-too-large",
    ),
    pytest.param(
        VALID + "\n[reward]\namount = 0\n",
        ["reward.amount", "0 is too small", "greater than 0 and at most 100000"],
        id="amount-zero",
    ),
    pytest.param(
        edit("south = 29.50", 'south = "south"'),
        ["service_area.south", '"south" is not a number'],
        id="float-from-text",
    ),
    pytest.param(
        edit("south = 29.50", "south = nan"),
        ["service_area.south", "nan is not a number"],
        id="nan",
    ),
    pytest.param(
        VALID + "\n[telegram.x]\n",
        ["unknown section [telegram.x]"],
        id="unknown-sub-section",
    ),
    pytest.param(
        edit("poll_timeout = 30", 'rate_limiter = "yes please"'),
        ["telegram.rate_limiter", '"yes please" is not true or false', "without quotes"],
        id="bool",
    ),
    pytest.param(
        edit('name = "Alpha"', "name = 5"),
        ["[[groups]] #1 (key = 'g1').name", "5 is not text", "double quotes"],
        id="text-from-number",
    ),
    pytest.param(
        edit('name = "Alpha"', 'name = ""'),
        ["[[groups]] #1 (key = 'g1').name", "must not be empty"],
        id="empty-text",
    ),
    pytest.param(
        edit('name = "Alpha"', 'name = "' + "长" * 70 + '"'),
        ["[[groups]] #1 (key = 'g1').name", "is too long", "at most 64"],
        id="text-too-long",
    ),
    pytest.param(
        edit("members = [510002, 510003]", "members = 510002"),
        ["[[groups]] #1 (key = 'g1').members", "510002 is not a list", "[100002, 100003]"],
        id="list-from-number",
    ),
    pytest.param(
        edit("members = [510002, 510003]", 'members = ["Zhao"]'),
        ["[[groups]] #1 (key = 'g1').members[0]", '"Zhao" is not a whole number'],
        id="list-item",
    ),
    pytest.param(
        edit("anchor = 2026-11-21", 'anchor = "21/11/2026"'),
        ["roster.anchor", '"21/11/2026" is not a date', "YYYY-MM-DD"],
        id="date-from-text",
    ),
    pytest.param(
        edit("anchor = 2026-11-21", "anchor = 2026-11-21T08:30:00"),
        ["roster.anchor", "has a time of day", "only the date"],
        id="date-with-time",
    ),
    pytest.param(
        edit("anchor = 2026-11-21", "anchor = 2026-02-30"),
        ["line 33", "not a real date", "YYYY-MM-DD"],
        id="impossible-date",
    ),
    pytest.param(
        edit("[roster.overrides]\n", '[roster.overrides]\n"2026-12-32" = "g1"\n'),
        ["roster.overrides.2026-12-32", "is not a date"],
        id="override-date-key",
    ),
    pytest.param(
        edit('language = "en"', 'language = "fr"'),
        ["station.language", '"fr" is not one of the allowed values', 'write "zh" or "en"'],
        id="choice",
    ),
    pytest.param(
        edit("[officers]\nuser_ids = [590001]", "[[officers]]\nuser_ids = [590001]"),
        ["officers", "written as [[officers]] (double brackets)", "single brackets"],
        id="double-brackets",
    ),
    pytest.param(
        'station = "Test"\n' + edit("[station]\n", "[station_]\n"),
        ["station: ", '"Test" is not a table', "[station]"],
        id="section-as-a-value",
    ),
    pytest.param(
        edit(
            'code_prefix = "HS"' if 'code_prefix = "HS"' in VALID else 'language = "en"',
            'language = "en"\ncode_prefix = "hs"',
        ),
        ["station.code_prefix", '"hs" is not in the expected format', "capital letters"],
        id="pattern",
    ),
    # addresses and the token
    pytest.param(
        edit('base_url = "http://127.0.0.1:9/bot"', 'base_url = "api.telegram.org/bot"'),
        ["telegram.base_url", "is not a web address", '"https://"'],
        id="base-url-without-scheme",
    ),
    pytest.param(
        edit('token = ""', 'token = "paste the token here"'),
        ["telegram.token", "does not look like a bot token", "@BotFather"],
        id="token-shape",
    ),
    pytest.param(
        VALID + '\n[geocoder]\ndomain = "https://nominatim.example.org"\n',
        ["geocoder.domain", "is not a host name", "goes in scheme"],
        id="geocoder-domain-with-scheme",
    ),
    # TOML syntax, as people write it wrong
    pytest.param(
        edit('name = "Test Station"', "name = Test Station"),
        ["line 7", "this value is not understood", "double quotes"],
        id="unquoted-text",
    ),
    pytest.param(
        edit('order = ["g1", "g2"]', 'order = ["g1"，"g2"]'),
        ["line 35", "a list is not closed", "full-width punctuation (，)", "English mode"],
        id="full-width-comma",
    ),
    pytest.param(
        edit('name = "Test Station"', "name ＝ “Test Station”"),
        ["line 7", "full-width punctuation", "＝", "“"],
        id="full-width-equals-and-quotes",
    ),
    pytest.param(
        edit('name = "Test Station"', 'name = "Test Station'),
        ["line 7", "a text in quotes is not closed", 'double quote (")'],
        id="unclosed-quote",
    ),
    pytest.param(
        edit('hotline = "0000-1111111"', 'hotline = "0000-1111111"\nhotline = "0000-2"'),
        ["line 9", "written twice", "keep only one"],
        id="key-twice",
    ),
    pytest.param(
        VALID + "\n[station]\n",
        ["written twice"],
        id="section-twice",
    ),
    pytest.param(
        edit("members = [510002, 510003]", "members = [510002, 510003"),
        ["line 23", "a list is not closed"],
        id="unclosed-list",
    ),
    pytest.param(
        edit("[roster]", "[roster"),
        ["line 32", "a [section] line is not closed", 'end it with "]"'],
        id="unclosed-section",
    ),
    pytest.param(
        edit('[[groups]]\nkey = "g1"', '[[groups]\nkey = "g1"'),
        ["a [[section]] line is not closed", 'end it with "]]"'],
        id="unclosed-array-of-tables",
    ),
    pytest.param(
        edit('hotline = "0000-1111111"', 'hotline: "0000-1111111"'),
        ["line 8", "a line without a key and a value", "key = value"],
        id="colon-instead-of-equals",
    ),
    pytest.param(
        edit('hotline = "0000-1111111"', 'hotline = "0000-1111111"\ndatabase = "C:\\data\\w.db"'),
        ["a backslash", "single quotes"],
        id="backslash",
    ),
]


@pytest.mark.parametrize(("text", "fragments"), MALFORMED)
def test_fr04_plain_words(text: str, fragments: list[str]) -> None:
    message = problem(text)
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in:\n{message}"


# -- every key, every section, every kind of value -------------------------------------------


def sections() -> list[tuple[str, type[BaseModel]]]:
    return [
        (name, model)
        for name, field in Config.model_fields.items()
        if (model := _model_of(field.annotation)) is not None
    ]


def misspell(name: str) -> str:
    """A typing slip: two different neighbouring letters swapped (or the last one doubled)."""
    for i in range(len(name) // 2, len(name) - 1):
        if name[i] != name[i + 1] and "_" not in name[i : i + 2]:
            return name[:i] + name[i + 1] + name[i] + name[i + 2 :]
    return name + name[-1]


def with_table(section: str, body: str) -> str:
    """VALID with ``body`` added to ``[section]`` (or to the first group)."""
    if section == "groups":
        return edit('[[groups]]\nkey = "g1"\n', f'[[groups]]\nkey = "g1"\n{body}\n')
    header = f"[{section}]\n"
    if header in VALID:
        return edit(header, f"{header}{body}\n")
    return VALID + f"\n{header}{body}\n"


KEYS = [
    pytest.param(section, key, id=f"{section}.{key}")
    for section, model in sections()
    for key in model.model_fields
    if misspell(key) not in model.model_fields
]


@pytest.mark.parametrize(("section", "key"), KEYS)
def test_fr04_every_misspelt_key_gets_did_you_mean(section: str, key: str) -> None:
    model = dict(sections())[section]
    sub = _model_of(model.model_fields[key].annotation) is not None or "dict" in str(
        model.model_fields[key].annotation
    )
    if sub:  # a sub-table, such as [roster.overrides]
        text = VALID + f"\n[{section}.{misspell(key)}]\n"
        expected = f"did you mean [{section}.{key}]?"
    else:
        text = with_table(section, f"{misspell(key)} = 1")
        expected = f"did you mean `{key}`?"
    message = problem(text)
    assert expected in message, message


@pytest.mark.parametrize("section", [name for name, _ in sections()])
def test_fr04_every_misspelt_section_gets_did_you_mean(section: str) -> None:
    text = VALID + f"\n[{misspell(section)}]\n"
    if section == "groups":
        text = VALID + f"\n[[{misspell(section)}]]\nkey = 'x'\n"
    message = problem(text)
    assert f"did you mean [{section}]?" in message, message


def wrong_value(annotation: Any) -> Any:
    """A value of the wrong kind for a field of this type."""
    text = str(annotation)
    origin = typing.get_origin(annotation)
    if annotation is bool:
        return "perhaps"
    if annotation is int:
        return "many"
    if annotation is float:
        return "warm"
    if annotation is dt.date:
        return "soon"
    if origin is typing.Literal:
        return "neither"
    if origin is list or "list" in text:
        return {"a": 1}
    if origin is dict or "dict" in text:
        return 5
    return [1, 2]  # text


VALUES = [
    pytest.param(section, key, id=f"{section}.{key}")
    for section, model in sections()
    for key, field in model.model_fields.items()
    if _model_of(field.annotation) is None
]


@pytest.mark.parametrize(("section", "key"), VALUES)
def test_fr04_every_wrong_value_in_plain_words(section: str, key: str) -> None:
    """Each key of each section given a value of the wrong kind: named, explained, fixed."""
    model = dict(sections())[section]
    data = tomllib.loads(VALID)
    table = data["groups"][0] if section == "groups" else data.setdefault(section, {})
    table[key] = wrong_value(model.model_fields[key].annotation)
    message = problem(toml(data))
    assert f".{key}: " in message or f"{section}.{key}" in message, message


# -- times: H:MM is accepted, written back as HH:MM --------------------------------------------


def test_fr04_times_accept_h_mm() -> None:
    text = edit('handover = "08:30"', 'handover = "8:30"')
    text += '\n[patrol]\nreminder_times = "9:00"\n[summary]\ntime = 07:45:00\n'
    text += '[weather]\ncheck_times = "7:00, 17:00"\n'
    config = parse_config(text, PATH, env={})
    assert config.roster.handover == "08:30"
    assert config.patrol.reminder_times == ["09:00"]
    assert config.summary.time == "07:45"
    assert config.weather.check_times == ["07:00", "17:00"]
    # The same time written two ways is one time, listed twice.
    message = problem(VALID + '\n[patrol]\nreminder_times = ["9:00", "09:00"]\n')
    assert "a time is listed twice" in message


def test_fr04_cli_keeps_the_shape(tmp_path: Path) -> None:
    """Through `warmline check-config`: stderr "warmline: FILE: …", exit 2, no traceback."""
    path = tmp_path / "config.toml"
    path.write_text(edit('handover = "08:30"', 'handvoer = "08:30"'), encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "bot", "check-config", "-c", str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
        check=False,
    )
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.startswith(f"warmline: {path}: the configuration has 1 problem(s):")
    assert "roster.handvoer: unknown key → did you mean `handover`?" in result.stderr
    assert "Traceback" not in result.stderr
    for word in JARGON:
        assert word not in result.stderr


def test_fr04_file_encodings(tmp_path: Path) -> None:
    """A file saved as GBK (a Chinese Windows default) names the line and says how to save
    it as UTF-8 (no codec jargon); "UTF-8 with BOM" is simply read."""
    from bot.config import load_config

    text = edit('name = "Test Station"', 'name = "黄石市救助管理站"')
    gbk = tmp_path / "gbk.toml"
    gbk.write_bytes(text.encode("gbk"))
    with pytest.raises(ConfigError) as info:
        load_config(gbk, env={})
    message = str(info.value)
    assert message.startswith(f"{gbk}: line 7: the file is not saved as UTF-8"), message
    assert "→ save it again as UTF-8" in message
    assert "codec" not in message and "byte" not in message
    bom = tmp_path / "bom.toml"
    bom.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    assert load_config(bom, env={}).station.name == "黄石市救助管理站"
    with pytest.raises(ConfigError, match="this is a folder, not a file"):
        load_config(tmp_path, env={})


@pytest.mark.parametrize(
    ("old", "new", "key"),
    [
        ("leader = 510001", "leader = -1009000000005", "[[groups]] #1 (key = 'g1').leader"),
        (
            "members = [510002, 510003]",
            "members = [510002, 0]",
            "[[groups]] #1 (key = 'g1').members",
        ),
        ("user_ids = [590001]", "user_ids = [-1009000000001]", "officers.user_ids"),
    ],
)
def test_fr04_a_group_id_where_a_person_belongs(old: str, new: str, key: str) -> None:
    """A chat id where a person's user id belongs is accepted by nothing at run time (it
    would never match anyone): the checker says so."""
    message = problem(edit(old, new))
    assert f"{key}: " in message
    assert "is not a person's user id" in message
    assert "/whoami" in message
