"""bot.cli: ``warmline check-config`` / ``warmline run`` and ``describe``.

A bad config file exits with status 2 and a message (file, key, fix) on stderr, never a
traceback. All ids and names are invented.
"""

from __future__ import annotations

import datetime as dt
import itertools
import os
import subprocess
import sys
import zoneinfo
from pathlib import Path

import pytest

from bot.cli import EXIT_CONFIG, describe, main
from bot.config import TOKEN_ENV, parse_config

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "config.example.toml"
TZ = zoneinfo.ZoneInfo("Asia/Shanghai")

# base_url points at a closed local port: even a regression could not reach Telegram.
VALID = """\
[telegram]
token = ""
base_url = "http://127.0.0.1:9/bot"
base_file_url = "http://127.0.0.1:9/file/bot"

[station]
name = "Test Station"
hotline = "0000-1111111"
timezone = "Asia/Shanghai"
language = "en"

[service_area]
south = 29.5
west = 114.5
north = 30.35
east = 115.6

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
members = [520002]

[roster]
anchor = 2026-11-21
handover = "08:30"
order = ["g1", "g2"]

[roster.overrides]

[officers]
user_ids = [590001, 590002]
"""


def edit(old: str, new: str, text: str = VALID) -> str:
    assert text.count(old) == 1, f"{old!r} is not in the template exactly once"
    return text.replace(old, new)


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != TOKEN_ENV}
    env.update(extra)
    return env


def warmline(*args: str | Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "bot", *map(str, args)],
        cwd=ROOT,
        env=clean_env() if env is None else env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=60,
        check=False,
    )


@pytest.fixture
def config_file(tmp_path: Path):
    def make(text: str = VALID) -> Path:
        path = tmp_path / "config.toml"
        path.write_text(text, encoding="utf-8")
        return path

    return make


# -- check-config on a good file -----------------------------------------------------------


def roster_lines(stdout: str) -> list[str]:
    lines = stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("roster ("))
    return [line for line in lines[start + 1 :] if line.startswith("  ")]


def test_check_config_good_file(config_file) -> None:
    result = warmline("check-config", "-c", config_file())
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    out = result.stdout
    assert "station: Test Station (hotline 0000-1111111, Asia/Shanghai, language en)" in out
    assert "token MISSING" in out
    unnamed = "(no leader_name: messages say “group leader”)"
    g1 = f"g1: Alpha — chat -1009000000001, leader 510001 {unnamed}, 2 member(s): 510002, 510003"
    assert g1 in out
    assert f"g2: Bravo — chat -1009000000002, leader 520001 {unnamed}, 1 member(s): 520002" in out
    assert "officers: 590001, 590002" in out
    assert "service area: south 29.5, west 114.5, north 30.35, east 115.6" in out
    assert "roster (hand-over at 08:30), next 48 h:" in out
    periods = roster_lines(out)
    # 48 hours from any moment cross two or three duty days, alternating between the groups.
    assert 2 <= len(periods) <= 3
    keys = [line.split()[7] for line in periods]
    assert set(keys) == {"g1", "g2"}
    assert all(a != b for a, b in itertools.pairwise(keys))
    assert " 08:30  " in periods[0]  # the first period ends at a hand-over
    assert "note: telegram.token is empty" in out
    assert TOKEN_ENV in out


def test_check_config_example_file() -> None:
    result = warmline("check-config", "-c", EXAMPLE)
    assert result.returncode == 0, result.stderr
    assert "g1: 第一小组" in result.stdout
    assert "g2: 第二小组" in result.stdout
    assert "officers: 900001" in result.stdout
    assert "hotline 0714-0000000" in result.stdout


def test_check_config_with_token_from_env(config_file) -> None:
    result = warmline(
        "check-config", "-c", config_file(), env=clean_env(**{TOKEN_ENV: "123:invented"})
    )
    assert result.returncode == 0, result.stderr
    assert "token set" in result.stdout
    assert "note: telegram.token is empty" not in result.stdout
    assert "123:invented" not in result.stdout  # the token itself is never printed


# -- bad files -----------------------------------------------------------------------------

NO_GROUPS = VALID.split("[[groups]]")[0] + '[roster]\norder = ["g1"]\n'

BAD_FILES = [
    pytest.param(NO_GROUPS, ["groups", "add at least one [[groups]] table"], id="missing-groups"),
    pytest.param(
        edit("leader = 520001\n", ""),
        ["[[groups]] #2 (key = 'g2').leader", "add leader ="],
        id="missing-key",
    ),
    pytest.param(
        edit('language = "en"', "language = 1"),
        ["station.language", '"zh" or "en"'],
        id="wrong-type",
    ),
    pytest.param(
        edit('language = "en"', 'language = "en"\nlanguag = "en"'),
        ["station.languag", "did you mean `language`?"],
        id="unknown-key",
    ),
    pytest.param(
        edit("members = [520002]", "members = [520002, 510002]"),
        ["user 510002 is in two groups", "[[groups]] #2 (key = 'g2').members"],
        id="user-in-two-groups",
    ),
    pytest.param(
        edit('order = ["g1", "g2"]', "order = []"),
        ["roster.order", "the roster is empty"],
        id="empty-roster",
    ),
    pytest.param(
        edit("[officers]", "[officers"),
        ["not valid TOML", "line ", "[officers", 'end it with "]"'],
        id="invalid-toml",
    ),
    pytest.param(
        edit('timezone = "Asia/Shanghai"', 'timezone = "China/Huangshi"'),
        ["station.timezone", "IANA time zone name"],
        id="unknown-timezone",
    ),
    pytest.param(
        edit("chat_id = -1009000000002", "chat_id = 1009000000002"),
        ["[[groups]] #2 (key = 'g2').chat_id", "/whoami"],
        id="positive-chat-id",
    ),
    pytest.param(
        edit("south = 29.5", "south = 30.5"),
        ["service_area", "smaller than north", "swap"],
        id="south-not-below-north",
    ),
    pytest.param(
        edit('order = ["g1", "g2"]', 'order = ["g1", "g2", "g3"]'),
        ["roster.order", "unknown group key 'g3'", "use one of g1, g2"],
        id="unknown-key-in-roster-order",
    ),
    pytest.param(
        edit("[roster.overrides]\n", '[roster.overrides]\n2026-12-31 = "g7"\n'),
        ["roster.overrides.2026-12-31", "unknown group key 'g7'"],
        id="unknown-key-in-roster-overrides",
    ),
]


@pytest.mark.parametrize(("text", "fragments"), BAD_FILES)
def test_bad_file_exits_2(config_file, text: str, fragments: list[str]) -> None:
    path = config_file(text)
    result = warmline("check-config", "-c", path)
    assert result.returncode == EXIT_CONFIG == 2
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith(f"warmline: {path}: ")
    assert "→" in result.stderr
    for fragment in fragments:
        assert fragment in result.stderr, f"{fragment!r} not in:\n{result.stderr}"


@pytest.mark.parametrize(
    ("text", "key"), [(NO_GROUPS, "groups"), (BAD_FILES[-1].values[0], "roster")]
)
def test_run_with_bad_file_exits_2(config_file, text: str, key: str) -> None:
    # `run` validates the same way before anything else; a token is set so that only the
    # file is at fault.
    result = warmline("run", "-c", config_file(text), env=clean_env(**{TOKEN_ENV: "1:x"}))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert f" {key}" in result.stderr


@pytest.mark.parametrize("command", ["check-config", "run"])
def test_missing_file_exits_2(tmp_path: Path, command: str) -> None:
    path = tmp_path / "absent.toml"
    result = warmline(command, "-c", path)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert f"{path}: no such file" in result.stderr
    assert "copy config.example.toml" in result.stderr


def test_run_with_empty_token_exits_2_without_connecting(config_file) -> None:
    path = config_file()
    result = warmline("run", "-c", path)
    assert result.returncode == 2
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    assert f"{path}: telegram.token is empty" in result.stderr
    assert TOKEN_ENV in result.stderr
    assert "@BotFather" in result.stderr
    # It stopped before logging was set up or the application was built.
    assert "INFO" not in result.stderr


def test_run_with_empty_env_token_still_exits_2(config_file) -> None:
    result = warmline("run", "-c", config_file(), env=clean_env(**{TOKEN_ENV: ""}))
    assert result.returncode == 2
    assert "telegram.token is empty" in result.stderr


def test_main_in_process_returns_2(config_file, capsys, monkeypatch) -> None:
    monkeypatch.delenv(TOKEN_ENV, raising=False)
    path = config_file(edit('timezone = "Asia/Shanghai"', 'timezone = "Nowhere"'))
    assert main(["check-config", "-c", str(path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert f"warmline: {path}:" in captured.err
    assert "station.timezone" in captured.err
    path = config_file()
    assert main(["run", "-c", str(path)]) == 2
    assert "telegram.token is empty" in capsys.readouterr().err


def test_main_in_process_check_config_ok(config_file, capsys, monkeypatch) -> None:
    monkeypatch.delenv(TOKEN_ENV, raising=False)
    assert main(["check-config", "-c", str(config_file())]) == 0
    assert "g2: Bravo" in capsys.readouterr().out


# -- describe ------------------------------------------------------------------------------


def config(text: str = VALID):
    return parse_config(text, "test.toml", env={})


def test_describe_roster_across_a_handover() -> None:
    # Duty day 2026-11-29 (started 08:30) is 8 days after the anchor 2026-11-21: order[0], g1.
    now = dt.datetime(2026, 11, 30, 7, 0, tzinfo=TZ)
    assert roster_lines(describe(config(), now=now)) == [
        "  Mon 11-30 07:00 → Mon 11-30 08:30  g1 (Alpha)",
        "  Mon 11-30 08:30 → Tue 12-01 08:30  g2 (Bravo)",
        "  Tue 12-01 08:30 → Wed 12-02 07:00  g1 (Alpha)",
    ]


def test_describe_converts_now_to_station_time() -> None:
    utc = dt.datetime(2026, 11, 29, 23, 0, tzinfo=dt.UTC)  # 07:00 in Asia/Shanghai
    local = dt.datetime(2026, 11, 30, 7, 0, tzinfo=TZ)
    assert describe(config(), now=utc) == describe(config(), now=local)


def test_describe_at_a_handover_starts_with_the_new_group() -> None:
    now = dt.datetime(2026, 11, 30, 8, 30, tzinfo=TZ)
    assert roster_lines(describe(config(), now=now)) == [
        "  Mon 11-30 08:30 → Tue 12-01 08:30  g2 (Bravo)",
        "  Tue 12-01 08:30 → Wed 12-02 08:30  g1 (Alpha)",
    ]


def test_describe_shows_overrides() -> None:
    text = edit("[roster.overrides]\n", '[roster.overrides]\n2026-11-30 = "g1"\n')
    now = dt.datetime(2026, 11, 30, 7, 0, tzinfo=TZ)
    lines = roster_lines(describe(config(text), now=now))
    assert lines[1] == "  Mon 11-30 08:30 → Tue 12-01 08:30  g1 (Alpha)"


def test_describe_other_handover_time() -> None:
    text = edit('handover = "08:30"', 'handover = "20:00"')
    now = dt.datetime(2026, 11, 30, 7, 0, tzinfo=TZ)  # duty day 11-29 (g1) until 20:00
    out = describe(config(text), now=now)
    assert "roster (hand-over at 20:00), next 48 h:" in out
    assert roster_lines(out) == [
        "  Mon 11-30 07:00 → Mon 11-30 20:00  g1 (Alpha)",
        "  Mon 11-30 20:00 → Tue 12-01 20:00  g2 (Bravo)",
        "  Tue 12-01 20:00 → Wed 12-02 07:00  g1 (Alpha)",
    ]


def test_describe_summary_lines() -> None:
    text = edit("user_ids = [590001, 590002]", "user_ids = []")
    text += '\n[geocoder]\nprovider = "offline"\n'
    out = describe(config(text), now=dt.datetime(2026, 11, 30, 7, 0, tzinfo=TZ))
    assert "officers: — (none!)" in out
    assert "geocoder: offline (offline gazetteer only)" in out
    assert "bot api: http://127.0.0.1:9/bot (token MISSING)" in out
    with_token = parse_config(VALID, env={TOKEN_ENV: "456:invented"})
    assert "(token set)" in describe(with_token, now=dt.datetime(2026, 11, 30, tzinfo=TZ))


def test_describe_shows_how_the_leader_is_named() -> None:
    """check-config shows the optional leader_name, or that messages will use the role word."""
    out = describe(config(VALID), now=dt.datetime(2026, 11, 30, 7, 0, tzinfo=TZ))
    assert "(no leader_name: messages say “" in out
    named = VALID.replace("[[groups]]", '[[groups]]\nleader_name = "王组长"', 1)
    out = describe(config(named), now=dt.datetime(2026, 11, 30, 7, 0, tzinfo=TZ))
    assert "(王组长)" in out
