"""`warmline export tips | events`: CSV, XLSX and GeoJSON rows equal the tips (and events) in
the database for the period, in station time with its offset; no reporter identity in any
cell of any format; bad arguments get a plain message and exit status 2.

The tips are made through the real services (reporters who talked to the bot, so their names
and usernames are stored; a phone shared for a payout; a staff member reporting as a citizen;
a hotline call), then read back independently with sqlite3.
"""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import json
import re
import sqlite3
import zoneinfo
from dataclasses import replace
from pathlib import Path

import pytest
from openpyxl import load_workbook

from bot.cli import main as cli_main
from bot.domain.draft import Draft, Source
from bot.domain.open311 import EVENT_COLUMNS, TIP_COLUMNS
from bot.domain.rewards import PayMethod
from bot.domain.tips import Action, Flag, Outcome, People, Seen
from tests.harness import (
    G1_MEMBER,
    OFFICER,
    REPORTER,
    REPORTER_EN,
    STRANGER,
    World,
    world,
)

TZ = zoneinfo.ZoneInfo("Asia/Shanghai")
PHONE = "+8613800000042"  # invented
FIRST, LAST = "2026-12-01", "2026-12-02"
#: Free text in which a reporter gave themselves away, and what an export must make of it.
TYPED_IDENTITY = "我是小梅（@Li_Xiaomei_Courier），电话 138-0000-0042，桥下还有一位"
TYPED_REDACTED = "我是[removed]（@[removed]），电话 [removed]，桥下还有一位"
HOTLINE_WORDS = "热线：桥洞下有人，来电 0714-6221234 或 +86 139 0000 0043"
HOTLINE_REDACTED = "热线：桥洞下有人，来电 [removed] 或 [removed]"


async def submit(w: World, user: int, lat: float, *, hotline: bool = False, **fields) -> int:
    draft = replace(
        Draft(user_id=user, source=Source.HOTLINE if hotline else Source.REPORTER).with_location(
            lat, 115.04, "黄石站", "黄石站门口"
        ),
        seen=Seen.NOW,
        people=People.ONE,
        description=fields.pop("description", "穿红外套的老人，在长椅上"),
        **fields,
    )
    await w.services.reports.save(draft)
    result = await w.services.reports.submit(user)
    assert result.value is not None, result
    return result.value.tip.id


async def member(w: World, tip_id: int, which: int = 0) -> int:
    """A member of the group the tip went to (the roster decides which group)."""
    tip = await w.repo.tips.get(tip_id)
    team = w.station.reach.directory.team(tip.group_key)
    members = sorted(team.members - {team.leader}) or [team.leader]
    return members[which % len(members)]


async def go(w: World, tip_id: int, outcome: Outcome | None, which: int = 0) -> None:
    field = w.services.field
    actor = await member(w, tip_id, which)
    assert (await field.act(tip_id, Action.CLAIM, actor)).ok
    w.clock.advance(minutes=9)
    assert (await field.act(tip_id, Action.ARRIVE, actor)).ok
    if outcome is not None:
        w.clock.advance(minutes=5)
        assert (await field.act(tip_id, Action.CLOSE, actor, outcome=outcome)).ok


async def story(w: World) -> None:
    """Tips on 11-30 (outside), 12-01 and 12-02 (inside) and 12-03 (outside), station time."""
    for user in (REPORTER, REPORTER_EN, STRANGER):  # they talk to the bot: names are stored
        w.mark(user)
        w.emu.send_text(user, "/help")
        await w.next_bot(user)
    services, repo = w.services, w.repo
    w.clock.now = dt.datetime(2026, 11, 30, 15, 59, tzinfo=dt.UTC)  # 11-30 23:59 in Huangshi
    await submit(w, STRANGER, 30.19)
    w.clock.now = dt.datetime(2026, 11, 30, 16, 1, tzinfo=dt.UTC)  # 12-01 00:01: inside
    helped = await submit(w, REPORTER, 30.2001234, flags=frozenset({Flag.CHILD, Flag.ILL}))
    await go(w, helped, Outcome.BROUGHT_IN)
    async with w.station.db.write() as tx:
        await repo.media.add(
            tx, tip_id=helped, kind="photo", file_id="ev-1", file_unique_id="u-ev-1",
            added_by=await member(w, helped), now=w.clock(),
        )  # fmt: skip
        await repo.people.set_phone(tx, REPORTER, PHONE, w.clock())
    reward = await repo.rewards.for_tip(helped)
    assert (await services.rewards.approve(reward.id, OFFICER)).ok
    assert (await services.rewards.pay(reward.id, OFFICER, PayMethod.WECHAT, "TX-9", 200)).ok
    w.clock.advance(hours=2)
    dup = await submit(w, REPORTER_EN, 30.2002, description="Thin jacket, by the bench")
    assert (
        await services.field.act(
            dup,
            Action.CLOSE,
            await member(w, dup, 1),
            outcome=Outcome.DUPLICATE,
            duplicate_of=helped,
        )
    ).ok
    missed = await submit(w, STRANGER, 30.25)
    await go(w, missed, Outcome.NOT_FOUND, 1)
    w.clock.advance(hours=3)
    await submit(w, G1_MEMBER, 30.26)  # a member reporting as a citizen
    withdrawn = await submit(w, REPORTER, 30.27, description=TYPED_IDENTITY)
    assert (await services.reports.withdraw(REPORTER, withdrawn)).ok
    w.clock.now = dt.datetime(2026, 12, 2, 15, 30, tzinfo=dt.UTC)  # 12-02 23:30
    hotline = await submit(w, OFFICER, 30.28, hotline=True, description=HOTLINE_WORDS)
    claimer = await member(w, hotline)
    assert (await services.field.act(hotline, Action.CLAIM, claimer)).ok  # never arrived
    w.clock.now = dt.datetime(2026, 12, 2, 16, 0, tzinfo=dt.UTC)  # 12-03 00:00: outside
    await submit(w, REPORTER_EN, 30.29)


def config_file(w: World, tmp_path: Path) -> Path:
    """The station's config as an operator would write it (groups and officers named)."""
    path = tmp_path / "export.toml"
    groups = "".join(
        f'[[groups]]\nkey = "{g.key}"\nname = "{g.name}"\nchat_id = {g.chat_id}\n'
        f"leader = {g.leader}\nmembers = {list(g.members)}\n"
        for g in w.config.groups
    )
    path.write_text(
        f'[station]\ndatabase = "{w.db_path}"\n{groups}[roster]\norder = ["g1", "g2"]\n'
        f"[officers]\nuser_ids = {list(w.config.officers.user_ids)}\n",
        encoding="utf-8",
    )
    return path


def export(*args: str) -> int:
    return cli_main(["export", *args])


# -- reading back, independently ----------------------------------------------------------------


def local_iso(text: str | None) -> str:
    if text is None:
        return ""
    moment = dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=dt.UTC)
    return moment.astimezone(TZ).isoformat(timespec="seconds")


def database(path: Path) -> dict:
    with sqlite3.connect(path) as conn:
        conn.row_factory = sqlite3.Row
        tips = [dict(r) for r in conn.execute("SELECT * FROM tips ORDER BY id")]
        media = [dict(r) for r in conn.execute("SELECT * FROM media")]
        rewards = {r["tip_id"]: r["state"] for r in conn.execute("SELECT * FROM rewards")}
        events = [dict(r) for r in conn.execute("SELECT * FROM events ORDER BY id")]
        users = [dict(r) for r in conn.execute("SELECT * FROM users")]
    return {"tips": tips, "media": media, "rewards": rewards, "events": events, "users": users}


def in_period(text: str) -> bool:
    return FIRST <= local_iso(text)[:10] <= LAST


def expected_tips(db: dict) -> dict[str, dict[str, str]]:
    """What each row must say, as text, from the database alone."""
    codes = {t["id"]: t["code"] for t in db["tips"]}
    out = {}
    for t in db["tips"]:
        if not in_period(t["created_at"]):
            continue
        went = t["arrived_at"] is not None or t["outcome"] in {
            "brought_in", "hospital", "supplies_only", "family", "not_found", "gone",
        }  # fmt: skip
        out[t["code"]] = {
            "service_request_id": t["code"],
            "status": "closed" if t["state"] in ("closed", "withdrawn") else "open",
            "status_notes": t["outcome"] or ("withdrawn" if t["state"] == "withdrawn" else ""),
            "description": {TYPED_IDENTITY: TYPED_REDACTED, HOTLINE_WORDS: HOTLINE_REDACTED}.get(
                t["description"], t["description"] or ""
            ),
            "agency_responsible": {"g1": "第一小组", "g2": "第二小组"}[t["group_key"]],
            "requested_datetime": local_iso(t["created_at"]),
            "updated_datetime": local_iso(t["updated_at"]),
            "address": t["address"] or t["place_label"] or "",
            "lat": str(t["lat"]),
            "long": str(t["lon"]),
            "urgent": "true" if t["urgent"] else "false",
            "flags": t["flags"],
            "state": t["state"],
            "outcome": t["outcome"] or "",
            "duplicate_of": codes.get(t["duplicate_of"], ""),
            "claimed_datetime": local_iso(t["claimed_at"]),
            "arrived_datetime": local_iso(t["arrived_at"]),
            "closed_datetime": local_iso(t["closed_at"]),
            "attempts": "1" if went else "0",
            "evidence_count": str(
                sum(m["tip_id"] == t["id"] and m["kind"] != "report_photo" for m in db["media"])
            ),
            "reward_state": db["rewards"].get(t["id"], ""),
            "source": t["source"],
        }
    return out


def identities(db: dict, staff: set[int]) -> tuple[list[str], list[int]]:
    """Every reporter's name, username and phone (texts), and their ids."""
    reporters = {t["reporter_id"] for t in db["tips"] if t["reporter_id"] is not None}
    texts, ids = [], sorted(reporters)
    for u in db["users"]:
        if u["user_id"] in reporters:
            texts += [v for v in (u["first_name"], u["username"], u["phone"]) if v]
    assert PHONE in texts and "li_xiaomei_courier" in texts and "小梅" in texts  # seeded
    texts += ["138-0000-0042", "Li_Xiaomei_Courier", "0714-6221234", "139 0000 0043"]
    assert any(TYPED_IDENTITY in (t["description"] or "") for t in db["tips"])  # typed in
    assert G1_MEMBER in ids and G1_MEMBER in staff  # a member who reported as a citizen
    return texts, ids


def assert_no_identity(cells: list[str], texts: list[str], ids: list[int]) -> None:
    assert len(cells) > 50
    for cell in cells:
        for value in texts:
            assert value not in cell, (value, cell)
        for user_id in ids:
            assert not re.search(rf"(?<![\d.]){user_id}(?![\d.])", cell), (user_id, cell)


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def every_row(book) -> list[tuple]:
    return [r for sheet in book.worksheets for r in sheet.iter_rows(values_only=True)]


def xlsx_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=TZ).isoformat(timespec="seconds")
    return str(value)


def read_xlsx(path: Path, sheet: str) -> tuple[list[dict[str, object]], object]:
    book = load_workbook(path)
    rows = list(book[sheet].iter_rows(values_only=True))
    header = rows[0]
    return [dict(zip(header, r, strict=True)) for r in rows[1:]], book


# -- the tests ----------------------------------------------------------------------------------


async def test_tips_export_round_trip_in_every_format(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        await story(w)
        config = config_file(w, tmp_path)
        staff = {*w.config.officers.user_ids}
        for g in w.config.groups:
            staff |= {g.leader, *g.members}
    outs = {s: tmp_path / f"tips{s}" for s in (".csv", ".xlsx", ".geojson")}
    for out in outs.values():
        code = await asyncio.to_thread(
            export, "tips", "-c", str(config), "--from", FIRST, "--to", LAST, "--out", str(out)
        )
        assert code == 0
    db = database(w.db_path)
    expected = expected_tips(db)
    assert len(expected) == 6  # 11-30 23:59 and 12-03 00:00 are outside the period

    rows = read_csv(outs[".csv"])
    assert list(rows[0]) == list(TIP_COLUMNS)
    assert {r["service_request_id"] for r in rows} == set(expected)
    for row in rows:
        want = expected[row["service_request_id"]]
        assert {k: row[k] for k in want} == want
        assert row["service_name"] == "露宿及临时遇困人员求助"
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00", row["requested_datetime"])

    sheet_rows, book = read_xlsx(outs[".xlsx"], "tips")
    sheet = book["tips"]
    assert sheet.freeze_panes == "A2"  # the header row stays in view
    assert sheet.column_dimensions["A"].width >= len("service_request_id")
    assert sheet.column_dimensions["F"].width > sheet.column_dimensions["B"].width  # text wider
    assert sheet.auto_filter.ref
    for row in sheet_rows:
        assert isinstance(row["requested_datetime"], dt.datetime)  # a real date cell
        assert isinstance(row["urgent"], bool) and isinstance(row["attempts"], int)
        want = expected[row["service_request_id"]]
        got = {k: xlsx_text(row[k]) for k in want}
        assert got == want
    assert {r["service_request_id"] for r in sheet_rows} == set(expected)
    about = {r[0]: r[1] for r in book["about"].iter_rows(values_only=True)}
    assert "Asia/Shanghai" in about["times"] and about["rows"] == 6

    collection = json.loads(outs[".geojson"].read_text(encoding="utf-8"))
    assert collection["type"] == "FeatureCollection"
    assert collection["warmline"]["rows"] == 6
    features = collection["features"]
    assert {f["properties"]["service_request_id"] for f in features} == set(expected)
    for f in features:
        props = f["properties"]
        want = expected[props["service_request_id"]]
        assert f["geometry"] == {
            "type": "Point",
            "coordinates": [float(want["long"]), float(want["lat"])],
        }
        assert "lat" not in props and "long" not in props
        for key, value in want.items():
            if key in ("lat", "long"):
                continue
            assert ("" if props[key] is None else str(props[key]).lower()) == value.lower(), key

    texts, ids = identities(db, staff)
    cells = [v for r in rows for v in r.values()]
    cells += [xlsx_text(v) for r in every_row(book) for v in r]
    cells += [json.dumps(f, ensure_ascii=False) for f in features]
    assert_no_identity(cells, texts, ids)


async def test_events_export_names_staff_only(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        await story(w)
        config = config_file(w, tmp_path)
        directory = w.station.reach.directory
    outs = {s: tmp_path / f"events{s}" for s in (".csv", ".xlsx", ".geojson")}
    for out in outs.values():
        code = await asyncio.to_thread(
            export, "events", "-c", str(config), "--from", FIRST, "--to", LAST, "--out", str(out)
        )
        assert code == 0
    db = database(w.db_path)
    reporter_of = {t["id"]: t["reporter_id"] for t in db["tips"]}
    codes = {t["id"]: t["code"] for t in db["tips"]}
    expected = {e["id"]: e for e in db["events"] if in_period(e["at"])}
    assert len(expected) > 15

    rows = read_csv(outs[".csv"])
    assert list(rows[0]) == list(EVENT_COLUMNS)
    assert [int(r["event_id"]) for r in rows] == sorted(expected)
    named = 0
    for row in rows:
        e = expected[int(row["event_id"])]
        assert row["datetime"] == local_iso(e["at"])
        assert row["service_request_id"] == codes.get(e["tip_id"], "")
        assert (row["action"], row["actor_role"]) == (e["action"], e["actor_role"] or "")
        assert row["detail"] == (e["detail"] or "")
        actor = e["actor_id"]
        staff_acting = (
            actor is not None
            and directory.is_staff(actor)
            and actor != reporter_of.get(e["tip_id"])
            and e["actor_role"] not in ("reporter", "stranger")
        )
        assert row["actor_id"] == (str(actor) if staff_acting else ""), e
        named += staff_acting
    assert named >= 5  # claims, arrivals, outcomes, approvals are signed
    submits = [r for r in rows if r["action"] == "submit"]
    assert submits and all(r["actor_id"] in ("", str(OFFICER)) for r in submits)

    sheet_rows, book = read_xlsx(outs[".xlsx"], "events")
    assert book["events"].freeze_panes == "A2"
    assert [r["event_id"] for r in sheet_rows] == sorted(expected)
    assert all(isinstance(r["datetime"], dt.datetime) for r in sheet_rows)

    features = json.loads(outs[".geojson"].read_text(encoding="utf-8"))["features"]
    assert [f["properties"]["event_id"] for f in features] == sorted(expected)
    tips = {t["id"]: t for t in db["tips"]}
    for f in features:
        e = expected[f["properties"]["event_id"]]
        tip = tips.get(e["tip_id"])
        if tip is None:
            assert f["geometry"] is None  # an event of no tip: no position
        else:
            assert f["geometry"]["coordinates"] == [tip["lon"], tip["lat"]]

    staff = set(directory.officers) | {m for t in directory.teams for m in (t.leader, *t.members)}
    texts, ids = identities(db, staff)
    cells = [v for r in rows for v in r.values()]
    cells += [xlsx_text(v) for r in every_row(book) for v in r]
    cells += [json.dumps(f, ensure_ascii=False) for f in features]
    assert_no_identity(cells, texts, ids)


async def test_coarse_export_rounds_positions_and_drops_free_text(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        await story(w)
        config = config_file(w, tmp_path)
    out = tmp_path / "coarse.geojson"
    args = ["tips", "-c", str(config), "--from", FIRST, "--to", LAST, "--out", str(out)]
    assert await asyncio.to_thread(export, *args, "--coarse") == 0
    features = json.loads(out.read_text(encoding="utf-8"))["features"]
    assert len(features) == 6
    for f in features:
        lon, lat = f["geometry"]["coordinates"]
        assert (round(lon, 2), round(lat, 2)) == (lon, lat)
        assert f["properties"]["description"] is None and f["properties"]["address"] is None
        assert f["properties"]["district"]  # the area stays
    assert [30.2, 115.04] in [list(reversed(f["geometry"]["coordinates"])) for f in features]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--from", "2026-12-32", "--to", LAST], "--from '2026-12-32': write a date such as"),
        (["--from", FIRST, "--to", "tomorrow"], "--to 'tomorrow': write a date such as"),
        (["--from", LAST, "--to", FIRST], f"--from {LAST} is after --to {FIRST}: swap them"),
        (["--from", FIRST, "--to", LAST, "--out", "tips.txt"], "use a file name ending in .csv"),
        (["--from", FIRST, "--to", LAST, "--out", "nowhere/tips.csv"], "there is no folder"),
    ],
)
def test_bad_arguments_exit_2_with_a_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    database_path = tmp_path / "w.sqlite3"
    sqlite3.connect(database_path).close()
    config = tmp_path / "c.toml"
    config.write_text(
        f'[station]\ndatabase = "{database_path}"\n[[groups]]\nkey = "g1"\nname = "x"\n'
        'chat_id = -1\nleader = 1\n[roster]\norder = ["g1"]\n',
        encoding="utf-8",
    )
    if "--out" not in args:
        args = [*args, "--out", str(tmp_path / "tips.csv")]
    else:
        i = args.index("--out") + 1
        args = [*args[:i], str(tmp_path / args[i]), *args[i + 1 :]]
    assert export("tips", "-c", str(config), *args) == 2
    err = capsys.readouterr().err
    assert err.startswith("warmline: export: ") and message in err, err
    assert "Traceback" not in err
    assert not list(tmp_path.glob("tips.*"))


def test_a_write_failing_midway_leaves_no_half_export(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Disk full while writing: exit 1 with the reason, and the file at --out is still the
    previous whole export (never a truncated one that looks complete), with no leftovers."""
    from bot.services import sheets

    database_path = tmp_path / "w.sqlite3"
    sqlite3.connect(database_path).close()
    config = tmp_path / "c.toml"
    config.write_text(
        f'[station]\ndatabase = "{database_path}"\n[[groups]]\nkey = "g1"\nname = "x"\n'
        'chat_id = -1\nleader = 1\n[roster]\norder = ["g1"]\n',
        encoding="utf-8",
    )
    out = tmp_path / "tips.csv"
    out.write_text("the previous export\n", encoding="utf-8")

    def full_disk(path: Path, rows) -> None:
        path.write_text("service_request_id,sta", encoding="utf-8")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(sheets, "write_csv", full_disk)
    args = ["tips", "-c", str(config), "--from", FIRST, "--to", LAST, "--out", str(out)]
    assert export(*args) == 1
    assert "No space left on device" in capsys.readouterr().err
    assert out.read_text(encoding="utf-8") == "the previous export\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.toml", "tips.csv", "w.sqlite3"]


@pytest.mark.parametrize(
    ("text", "known", "want"),
    [
        ("电话13800000042", (), "电话[removed]"),
        ("call +86 138 0000 0042 now", (), "call [removed] now"),
        ("+8613800000042", (), "[removed]"),
        ("座机 0714-6221234。", (), "座机 [removed]。"),
        ("(0714) 6221234", (), "[removed]"),
        ("3 people by exit 12, 2026-12-01 21:05, 30.2001234", (), None),
        ("ask Alex Doe or @AlexDoe", ("Alex Doe", "@alexdoe", None), "ask [removed] or @[removed]"),
        ("李 在桥下", ("李",), None),  # one character: never searched for
    ],
)
def test_redact_removes_phones_and_known_identities(
    text: str, known: tuple, want: str | None
) -> None:
    from bot.domain.open311 import redact

    assert redact(text, known) == (text if want is None else want)
