"""Reloading the configuration without a restart (issue 12, "Reload without restart").

Unit tests of what a new configuration changes (bot/configdiff.py) and how the duty officers
are told (bot/views/reload.py); the process tests at the end send SIGHUP to a real
``warmline run`` and use ``warmline reload``. All names and ids are invented.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import parse_config
from bot.configdiff import ReloadRefused, config_changes
from bot.services.people import Person
from bot.views import reload as views

BASE = """
[telegram]
token = "123:abc"
[station]
database = "data/warmline.sqlite3"
[[groups]]
key = "g1"
name = "一组"
chat_id = -1001
leader = 7101
members = [7102, 7103]
[[groups]]
key = "g2"
name = "二组"
chat_id = -1002
leader = 7201
members = [7202]
[roster]
order = ["g1", "g2"]
[officers]
user_ids = [7001]
"""


def config(text: str = BASE, folder: Path = Path("/etc/warmline")):
    return parse_config(text, folder / "config.toml", env={})


def test_nothing_changed() -> None:
    changes = config_changes(config(), config())
    assert changes.empty
    assert views.changed(changes, {}, "zh").endswith("没有变化。")


def test_a_member_added_and_one_removed_and_a_new_leader() -> None:
    new = BASE.replace("members = [7102, 7103]", "members = [7102, 7104]").replace(
        "leader = 7201", "leader = 7202\nleader_name = \"周组长\""
    ).replace("members = [7202]", "members = [7201]")
    changes = config_changes(config(), config(new))
    g1, g2 = changes.groups
    assert (g1.name, g1.added, g1.removed, g1.leader) == ("一组", (7104,), (7103,), None)
    assert (g2.name, g2.added, g2.removed, g2.leader) == ("二组", (), (), 7202)
    assert changes.people == {7103, 7104, 7202}
    assert changes.sections == ("groups",)  # leader_name is a group setting
    names = {
        7104: Person(7104, None, "member"),
        7103: Person(7103, "孙队员", "staff"),
        7202: Person(7202, "周组长", "leader"),
    }
    text = views.changed(changes, names, "zh")
    assert '一组 新增：<a href="tg://user?id=7104">巡查队员</a>' in text
    assert '一组 移除：<a href="tg://user?id=7103">孙队员</a>' in text
    assert '二组 组长改为：<a href="tg://user?id=7202">周组长</a>' in text
    english = views.changed(changes, names, "en")
    assert "一组, added:" in english and "new leader" in english


def test_groups_officers_settings_and_what_waits_for_a_restart() -> None:
    new = (
        BASE.replace("user_ids = [7001]", "user_ids = [7002]")
        + '[[groups]]\nkey = "g3"\nname = "三组"\nchat_id = -1003\nleader = 7301\n'
        + '[patrol]\nreminder_times = ["09:00", "15:00", "21:00"]\n'
        + '[logging]\nlevel = "DEBUG"\n'
    ).replace('order = ["g1", "g2"]', 'order = ["g1", "g2", "g3"]')
    changes = config_changes(config(), config(new))
    assert changes.groups_added == ("三组",) and changes.groups_removed == ()
    assert changes.officers_added == (7002,) and changes.officers_removed == (7001,)
    assert set(changes.sections) == {"roster", "patrol"}
    assert changes.later == ("logging",)
    text = views.changed(changes, {}, "zh")
    assert "新增巡查组：三组" in text and "patrol" in text
    assert "需重启后才生效的设置：logging" in text


def test_another_database_is_refused() -> None:
    new = BASE.replace("data/warmline.sqlite3", "other.sqlite3")
    with pytest.raises(ReloadRefused, match=r"station\.database changed .* restart warmline"):
        config_changes(config(), config(new))


def test_the_refusal_names_the_problem_for_the_officers() -> None:
    reason = "config.toml: roster.handvoer: not a setting → did you mean `handover`?"
    text = views.refused(reason, "zh")
    assert "没有载入" in text and "handvoer" in text and "did you mean" in text
    assert "<code>" in text


# -- a real `warmline run` reloading --------------------------------------------------------

NEWCOMER = 7108  # invented: a member who joins mid-campaign


def _claim(emu, user: int, chat: int, card: dict, tip_id: int) -> dict:
    from tests.startproc import wait_until
    from tests.test_startup import BOUND_S

    qid = emu.press_button(user, chat, card["message_id"], f"tip:claim:{tip_id}")
    answer = wait_until(lambda: emu.callback_answer(qid), BOUND_S)
    assert answer, "the press was never answered"
    return answer


async def test_reload_takes_a_new_member_at_once_and_refuses_a_broken_file(
    tmp_path: Path,
) -> None:
    """`warmline reload` (and a bare SIGHUP) on a running bot: a member added to the file can
    claim at once and the duty officer is told who joined; a broken file is refused — the
    bot keeps the running configuration and the officer reads why; the process never
    restarts."""
    import signal
    import tomllib

    from bot.i18n import t
    from tests.drivers import People, buttons, card_code
    from tests.harness import CENTRE, OFFICER, REPORTER
    from tests.startproc import WarmlineProcess, toml, wait_until
    from tests.test_startup import (
        BOUND_S,
        CHATS,
        MEMBERS,
        FakeEndpoint,
        shape_config,
        warmline_cli,
        world,
    )

    emu = world()
    emu.add_user(NEWCOMER, "钱新队员")
    try:
        row = {
            "groups": 1,
            "members": "distinct",
            "officers": "separate",
            "token": "file",
            "roster": "alternate",
            "times": "HH:MM",
        }
        data, _ = shape_config(row, FakeEndpoint(emu.base_url, emu.base_file_url, emu.token))
        etc = tmp_path / "etc"
        etc.mkdir()
        path = etc / "config.toml"
        path.write_text(toml(data), encoding="utf-8")
        path.chmod(0o600)
        bot = WarmlineProcess(path, tmp_path / "bot.log").start()
        try:
            assert wait_until(lambda: emu.calls("getUpdates") or not bot.alive(), BOUND_S)
            assert bot.alive(), bot.tail()
            emu.send_text(OFFICER, "/start")
            assert wait_until(lambda: emu.bot_messages(OFFICER), BOUND_S), bot.tail()

            chat = CHATS[0]
            people = People(emu, {chat: MEMBERS[0]}, step_timeout=30.0)
            await people.report_once(REPORTER, CENTRE)

            def the_card() -> dict | None:
                return next((m for m in emu.bot_messages(chat) if card_code(m)), None)

            card = wait_until(the_card, BOUND_S)
            assert card, bot.tail()
            tip_id = int(next(d for d in buttons(card) if d.startswith("tip:")).split(":")[2])
            refused = _claim(emu, NEWCOMER, chat, card, tip_id)
            assert refused["text"] == t("zh", "refused.not_allowed", group="第一小组")

            # -- the newcomer is added; `warmline reload` checks the file and signals the bot.
            data["groups"][0]["members"].append(NEWCOMER)
            path.write_text(toml(data), encoding="utf-8")
            told_before = len(emu.bot_messages(OFFICER))
            answer = warmline_cli("reload", "-c", path, cwd=tmp_path)
            assert answer.returncode == 0, answer.stderr
            assert f"pid {bot.pid}" in answer.stdout

            def officer_told(fragment: str) -> dict | None:
                return next(
                    (
                        m
                        for m in emu.bot_messages(OFFICER)[told_before:]
                        if fragment in (m.get("text") or "")
                    ),
                    None,
                )

            notice = wait_until(lambda: officer_told("配置已重新载入"), BOUND_S)
            assert notice, bot.tail()
            assert "第一小组 新增：钱新队员" in notice["text"]
            claimed = _claim(emu, NEWCOMER, chat, card, tip_id)
            assert claimed["text"] == t("zh", "done.claim", code=card_code(card)), claimed

            # -- a broken file: `warmline reload` refuses it itself (exit 2, no signal)...
            good = path.read_text(encoding="utf-8")
            path.write_text(good.replace("[roster]", "[roster]\nhandvoer = \"08:30\""))
            sighups = bot.text().count("SIGHUP")
            refused_cli = warmline_cli("reload", "-c", path, cwd=tmp_path)
            assert refused_cli.returncode == 2
            assert "did you mean" in refused_cli.stderr and "handover" in refused_cli.stderr
            assert bot.text().count("SIGHUP") == sighups  # the bot was not signalled
            # ...and a bare SIGHUP (systemctl reload) with it: refused, the officer told why,
            # the running configuration (the newcomer included) still in force.
            told_before = len(emu.bot_messages(OFFICER))
            bot.proc.send_signal(signal.SIGHUP)
            notice = wait_until(lambda: officer_told("没有载入"), BOUND_S)
            assert notice, bot.tail()
            assert "handvoer" in notice["text"]
            assert "the new configuration is refused" in bot.text()
            assert tomllib.loads(good)["groups"][0]["members"][-1] == NEWCOMER
            emu.send_text(NEWCOMER, "/help")
            helped = wait_until(lambda: emu.bot_messages(NEWCOMER), BOUND_S)
            assert helped and "/patrol_start" in helped[-1]["text"], helped  # staff's help
            assert bot.alive()
        finally:
            assert bot.stop() == 0, bot.tail()
        assert bot.text().count("serving as @") == 2, bot.tail()  # one start, one reload
        assert "SIGTERM received: stopping" in bot.text()
        # The refusal is the one ERROR line; nothing else went wrong, no traceback.
        unexpected = [p for p in bot.problems() if "the new configuration is refused" not in p]
        assert unexpected == [], bot.tail()
    finally:
        emu.stop()
