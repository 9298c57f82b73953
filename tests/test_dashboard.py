"""Issue 14: the dashboard's sign-in, sessions, CSRF, headers, what each viewer sees and the
event log — the pure rules alone, then the real bot (emulator, its web server) over httpx.
The browser test is tests/test_dashboard_browser.py. Everything is invented."""

from __future__ import annotations

import datetime as dt
import re
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from starlette.responses import Response

from bot.domain.dashboard import (
    AgeBand,
    MarkerState,
    csrf_ok,
    csrf_token,
    marker,
    token_hash,
)
from bot.domain.schedule import EscalationRules
from bot.domain.tips import Flag, State, Tip
from bot.geo.area import HUANGSHI
from bot.geo.coords import wgs84_to_gcj02
from bot.web.dashboard import security
from bot.web.dashboard.mapdata import map_json, tiles_in_gcj02
from tests.harness import (
    G1_CHAT,
    G1_LEADER,
    G1_MEMBER,
    G2_LEADER,
    OFFICER,
    REPORTER,
    STRANGER,
    World,
    clean_log,  # noqa: F401 - the fixture, used by pytestmark
    submit_tip,
    tr,
    world,
)
from tests.startproc import free_port

T0 = dt.datetime(2026, 12, 1, 13, 0, tzinfo=dt.UTC)
CLOCKS = EscalationRules(
    claim_minutes=10, urgent_claim_minutes=5, second_minutes=30, scene_minutes=45
)
LINK = re.compile(r"https?://\S+/dashboard/login\?t=[\w-]+")


def a_tip(state: State, *, urgent: bool = False, minutes_ago: int = 0, **more: object) -> Tip:
    created = T0 - dt.timedelta(minutes=minutes_ago)
    fields: dict = {
        "id": 1,
        "code": "HS-0001",
        "source": "telegram",
        "lat": 30.2,
        "lon": 115.04,
        "address": None,
        "place_label": None,
        "district": None,
        "seen": "now",
        "people": "1",
        "flags": frozenset({Flag.CHILD}) if urgent else frozenset(),
        "description": None,
        "state": state,
        "outcome": None,
        "duplicate_of": None,
        "supplies": frozenset(),
        "group_key": "g1",
        "claimed_by": None,
        "closed_by": None,
        "created_at": created,
        "dispatched_at": created,
        "claimed_at": None,
        "arrived_at": None,
        "closed_at": None,
        "version": 1,
    }
    fields.update(more)
    return Tip(**fields)


# -- the marker rule (pure) ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tip", "eta", "state", "late"),
    [
        (a_tip(State.DISPATCHED, minutes_ago=3), None, MarkerState.UNCLAIMED, False),
        (a_tip(State.DISPATCHED, minutes_ago=9), None, MarkerState.UNCLAIMED, False),
        (a_tip(State.DISPATCHED, minutes_ago=10), None, MarkerState.OVERDUE, True),
        (a_tip(State.NEW, minutes_ago=30), None, MarkerState.OVERDUE, True),
        (a_tip(State.DISPATCHED, urgent=True, minutes_ago=4), None, MarkerState.URGENT, False),
        (a_tip(State.DISPATCHED, urgent=True, minutes_ago=5), None, MarkerState.URGENT, True),
        # A re-dispatch (release) starts the escalation clock again.
        (
            a_tip(State.DISPATCHED, minutes_ago=60, dispatched_at=T0 - dt.timedelta(minutes=2)),
            None,
            MarkerState.UNCLAIMED,
            False,
        ),
        (
            a_tip(State.CLAIMED, minutes_ago=20, claimed_at=T0 - dt.timedelta(minutes=10)),
            None,
            MarkerState.CLAIMED,
            False,
        ),
        (
            a_tip(State.CLAIMED, minutes_ago=60, claimed_at=T0 - dt.timedelta(minutes=45)),
            None,
            MarkerState.CLAIMED,
            True,
        ),
        (
            a_tip(State.EN_ROUTE, minutes_ago=20, claimed_at=T0 - dt.timedelta(minutes=10)),
            None,
            MarkerState.EN_ROUTE,
            False,
        ),
        (
            a_tip(State.EN_ROUTE, minutes_ago=20, claimed_at=T0 - dt.timedelta(minutes=10)),
            T0 + dt.timedelta(minutes=5),
            MarkerState.EN_ROUTE_ETA,
            False,
        ),
        (
            a_tip(State.EN_ROUTE, minutes_ago=20, claimed_at=T0 - dt.timedelta(minutes=10)),
            T0 - dt.timedelta(minutes=1),
            MarkerState.EN_ROUTE_ETA,
            True,
        ),
        (
            a_tip(State.ON_SCENE, minutes_ago=300, claimed_at=T0 - dt.timedelta(minutes=200)),
            None,
            MarkerState.ON_SCENE,
            False,
        ),
    ],
)
def test_the_marker_of_a_tip(tip: Tip, eta: dt.datetime | None, state: MarkerState, late: bool):
    mark = marker(tip, T0, CLOCKS, eta)
    assert (mark.state, mark.late) == (state, late)
    assert mark.age_minutes == tip.age_minutes(T0)
    # Only a tip on the way carries the arrival time.
    assert (mark.eta is not None) == (state is MarkerState.EN_ROUTE_ETA)


def test_the_age_bands() -> None:
    ages = (0, 29, 30, 119, 120)
    bands = [marker(a_tip(State.ON_SCENE, minutes_ago=m), T0, CLOCKS).age for m in ages]
    assert bands == [AgeBand.FRESH, AgeBand.FRESH, AgeBand.HOUR, AgeBand.HOUR, AgeBand.OLD]


# -- tokens, cookies, CSRF, headers ----------------------------------------------------------------


def test_tokens_are_stored_as_hashes_and_csrf_is_bound_to_the_session() -> None:
    token = "s3cr3t-token-value"
    hashed = token_hash(token)
    assert re.fullmatch(r"[0-9a-f]{64}", hashed) and token not in hashed
    assert token_hash(token) == hashed and token_hash(token + "x") != hashed
    key = b"k"
    good = csrf_token(token, key)
    assert csrf_ok(token, key, good)
    assert not csrf_ok(token, key, csrf_token("another session", key))
    assert not csrf_ok(token, key, "")
    assert not csrf_ok(token, key, None)
    assert not csrf_ok(token, b"other key", good)


@pytest.mark.parametrize("secure", [False, True])
def test_the_session_cookie(secure: bool) -> None:
    response = Response()
    security.set_session(response, "abc", hours=12, secure=secure)
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{security.COOKIE}=abc;")
    for part in ("HttpOnly", "Max-Age=43200", "Path=/dashboard", "SameSite=strict"):
        assert part in cookie, cookie
    assert ("Secure" in cookie) is secure


def test_the_origin_check() -> None:
    from starlette.requests import Request

    def request(origin: str | None, host: str = "127.0.0.1:8780") -> Request:
        headers = [(b"host", host.encode())]
        if origin is not None:
            headers.append((b"origin", origin.encode()))
        return Request({"type": "http", "method": "POST", "path": "/", "headers": headers})

    public = "https://warmline.example.org:8443"
    assert security.same_origin(request(None))
    assert security.same_origin(request("http://127.0.0.1:8780"))
    # Behind nginx: Host without the port, the public address with it.
    assert security.same_origin(request(public, host="warmline.example.org"), public)
    assert not security.same_origin(request("https://evil.example.org"), public)
    assert not security.same_origin(request("http://127.0.0.1:9999"))


def test_the_content_security_policy() -> None:
    bare = security.content_security_policy("")
    directives = dict(part.strip().split(" ", 1) for part in bare.split(";"))
    assert directives["default-src"] == "'none'"
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["connect-src"] == "'self'"
    assert directives["img-src"] == "'self' data:"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe" not in bare and "http" not in bare
    osm = security.content_security_policy("https://{s}.tile.openstreetmap.org/{z}/{x}/{y}.png")
    assert "img-src 'self' data: https://*.tile.openstreetmap.org;" in osm


def test_amap_and_tencent_tiles_get_gcj02_positions() -> None:
    amap = "https://webrd01.is.autonavi.com/appmaptile?x={x}&y={y}&z={z}&style=8"
    assert tiles_in_gcj02(amap)
    assert tiles_in_gcj02("https://rt0.map.gtimg.com/tile?z={z}&x={x}&y={y}")
    assert not tiles_in_gcj02("https://tile.openstreetmap.org/{z}/{x}/{y}.png")
    assert not tiles_in_gcj02("")
    tip = {"at": None}
    plain = map_json([tip], HUANGSHI, "zh", "")
    shifted = map_json([tip], HUANGSHI, "zh", amap)
    lat, lon = HUANGSHI.south, HUANGSHI.west
    assert plain["area"][0] == [lat, lon]
    glat, glon = wgs84_to_gcj02(lat, lon)
    assert shifted["area"][0] == [round(glat, 6), round(glon, 6)]
    assert plain["places"] and len(plain["places"]) == len(shifted["places"])
    assert plain["places"][0]["at"] != shifted["places"][0]["at"]


# -- the real bot ----------------------------------------------------------------------------------

pytestmark = [pytest.mark.usefixtures("clean_log")]


@asynccontextmanager
async def dashboard_world(tmp_path: Path, **extra: str):
    port = free_port()
    async with world(
        tmp_path, web_port=str(port), public_url=f"http://127.0.0.1:{port}", **extra
    ) as w:
        yield w


def client(w: World) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=w.web_url, trust_env=False)


async def ask_link(w: World, user: int, text: str = "/dashboard") -> str:
    w.mark(user)
    w.emu.send_text(user, text)
    return (await w.next_bot(user))["text"]


async def link_for(w: World, user: int = OFFICER) -> str:
    answer = await ask_link(w, user)
    found = LINK.search(answer)
    assert found, answer
    return found.group(0)


async def signed_in(w: World, http: httpx.AsyncClient, user: int = OFFICER) -> None:
    answer = await http.get(await link_for(w, user))
    assert answer.status_code == 303, answer.text
    assert answer.headers["location"] == "/dashboard/"


async def test_an_officer_signs_in_once_with_the_link(tmp_path: Path) -> None:
    async with dashboard_world(tmp_path) as w, client(w) as http:
        code = await submit_tip(w, REPORTER)
        link = await link_for(w)
        token = link.rsplit("=", 1)[1]
        # Only the hash is kept.
        rows = await w.station.db.fetchall("SELECT * FROM dashboard_links")
        assert [r["token_hash"] for r in rows] == [token_hash(token)]
        assert token not in repr([dict(r) for r in rows])
        answer = await http.get(link)
        assert answer.status_code == 303
        cookie = answer.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Secure" not in cookie
        page = await http.get("/dashboard/")
        assert page.status_code == 200 and tr("zh", "web.dash.title") in page.text
        assert page.headers["content-security-policy"] == security.content_security_policy("")
        assert "<script>" not in page.text and " style=" not in page.text
        tips = (await http.get("/dashboard/api/map")).json()["tips"]
        assert [t["code"] for t in tips] == [code]
        # The same link again, in another browser: refused, politely.
        async with client(w) as other:
            again = await other.get(link)
            assert again.status_code == 403
            assert tr("zh", "web.dash.link_used") in again.text
            assert (await other.get("/dashboard/api/map")).status_code == 401
        assert len(await w.events_named("dashboard_sign_in")) == 1
        [refusal] = await w.events_named("refused:dashboard_link")
        assert '"used"' in refusal["detail"]
        # Every view of a tip's details is logged.
        await http.get(f"/dashboard/api/tips/{tips[0]['id']}")
        views = await w.events_named("dashboard_view")
        assert [(v["tip_id"], v["actor_id"]) for v in views] == [(tips[0]["id"], OFFICER)]
        # Signing out ends the session.
        await http.get("/dashboard/logout")
        assert (await http.get("/dashboard/api/map")).status_code == 401


async def test_anyone_else_is_refused_politely(tmp_path: Path) -> None:
    async with dashboard_world(tmp_path) as w:
        for user in (STRANGER, REPORTER, G1_MEMBER):
            assert await ask_link(w, user) == tr("zh", "dashboard.refused")
        assert await w.station.db.fetchall("SELECT * FROM dashboard_links") == []
        assert len(await w.events_named("refused:dashboard")) == 3
        # In a group, not even an officer gets a link there.
        w.mark(G1_CHAT)
        w.emu.send_text(OFFICER, "/dashboard", chat_id=G1_CHAT)
        assert (await w.next_bot(G1_CHAT))["text"] == tr("zh", "private_only")
        # Without the dashboard's address, the officer is told what is missing.
    async with world(tmp_path / "no-url") as w:
        assert await ask_link(w, OFFICER) == tr("zh", "dashboard.no_url")


async def test_expired_links_and_sessions_are_refused(tmp_path: Path) -> None:
    async with dashboard_world(tmp_path) as w, client(w) as http:
        link = await link_for(w)
        w.clock.now = w.clock.now + dt.timedelta(minutes=10, seconds=1)
        answer = await http.get(link)
        assert answer.status_code == 403 and tr("zh", "web.dash.link_expired") in answer.text
        assert (await http.get(link)).status_code == 403  # and stays refused
        await signed_in(w, http)
        assert (await http.get("/dashboard/api/map")).status_code == 200
        w.clock.now = w.clock.now + dt.timedelta(hours=12, seconds=1)
        assert (await http.get("/dashboard/api/map")).status_code == 401
        page = await http.get("/dashboard/")
        assert page.status_code == 401 and tr("zh", "web.dash.sign_in_needed") in page.text


async def test_dashboard_off_ends_every_session(tmp_path: Path) -> None:
    async with dashboard_world(tmp_path) as w, client(w) as one, client(w) as two:
        await signed_in(w, one)
        await signed_in(w, two, G1_LEADER)
        unused = await link_for(w)
        # Only an officer may end them all.
        assert await ask_link(w, G1_LEADER, "/dashboard off") == tr("zh", "refused.officer_only")
        assert (await two.get("/dashboard/api/map")).status_code == 200
        answer = await ask_link(w, OFFICER, "/dashboard off")
        assert answer == tr("zh", "dashboard.off", count=2)
        assert (await one.get("/dashboard/api/map")).status_code == 401
        assert (await two.get("/dashboard/api/map")).status_code == 401
        async with client(w) as three:
            assert (await three.get(unused)).status_code == 403
        assert len(await w.events_named("dashboard_off")) == 1


async def test_a_leader_sees_their_own_groups_tips_read_only(tmp_path: Path) -> None:
    async with dashboard_world(tmp_path) as w, client(w) as g1, client(w) as g2:
        code = await submit_tip(w, REPORTER)  # to g1, on duty
        tip = await w.tip_by_code(code)
        await signed_in(w, g1, G1_LEADER)
        await signed_in(w, g2, G2_LEADER)
        assert [t["code"] for t in (await g1.get("/dashboard/api/map")).json()["tips"]] == [code]
        assert (await g2.get("/dashboard/api/map")).json()["tips"] == []
        assert (await g2.get(f"/dashboard/api/tips/{tip.id}")).status_code == 404
        detail = (await g1.get(f"/dashboard/api/tips/{tip.id}")).json()
        assert detail["code"] == code and detail["actions"] == []
        page = (await g1.get("/dashboard/")).text
        csrf = re.search(r'"csrf": "([0-9a-f]+)"', page).group(1)
        answer = await g1.post(
            f"/dashboard/api/tips/{tip.id}/invalid", headers={security.CSRF_HEADER: csrf}
        )
        assert answer.status_code == 409
        assert (await w.tip_by_code(code)).state is State.DISPATCHED
    no_leaders = "[dashboard]\nleaders = false\n"
    async with dashboard_world(tmp_path / "no-leaders", sections=no_leaders) as w:
        assert await ask_link(w, G1_LEADER) == tr("zh", "dashboard.refused")


async def test_actions_need_the_csrf_token_and_go_through_the_services(tmp_path: Path) -> None:
    async with dashboard_world(tmp_path) as w, client(w) as http:
        code = await submit_tip(w, REPORTER)
        tip = await w.tip_by_code(code)
        await signed_in(w, http)
        page = (await http.get("/dashboard/")).text
        csrf = re.search(r'"csrf": "([0-9a-f]+)"', page).group(1)
        url = f"/dashboard/api/tips/{tip.id}/invalid"
        assert (await http.post(url)).status_code == 403
        assert (await http.post(url, headers={security.CSRF_HEADER: "0" * 64})).status_code == 403
        foreign = {security.CSRF_HEADER: csrf, "Origin": "https://evil.example.org"}
        assert (await http.post(url, headers=foreign)).status_code == 403
        assert (await w.tip_by_code(code)).state is State.DISPATCHED
        # A live copy of the card in the officer's private chat.
        w.mark(OFFICER)
        copy = await http.post(
            f"/dashboard/api/tips/{tip.id}/copy", headers={security.CSRF_HEADER: csrf}
        )
        assert copy.json() == {"ok": True}
        await w.wait_card(OFFICER, code)
        # Closed as invalid, as the card's button would: the group's card follows.
        answer = await http.post(url, headers={security.CSRF_HEADER: csrf})
        assert answer.json() == {"ok": True}
        closed = await w.tip_by_code(code)
        assert (closed.state, closed.outcome.value) == (State.CLOSED, "invalid")
        await w.wait_card(G1_CHAT, code, tr("zh", "outcome.invalid"))
        assert (await http.get("/dashboard/api/map")).json()["tips"] == []


async def test_evidence_is_served_by_the_bot_never_by_a_telegram_url(tmp_path: Path) -> None:
    async with dashboard_world(tmp_path) as w, client(w) as http:
        code = await submit_tip(w, REPORTER, photo=True)
        tip = await w.tip_by_code(code)
        await signed_in(w, http)
        detail = (await http.get(f"/dashboard/api/tips/{tip.id}")).text
        assert w.emu.token not in detail and "/file/bot" not in detail
        [media] = (await http.get(f"/dashboard/api/tips/{tip.id}")).json()["media"]
        picture = await http.get(f"/dashboard/{media['url']}")
        assert picture.status_code == 200 and picture.headers["content-type"].startswith("image/")
        [row] = await w.repo.media.of(tip.id)
        assert picture.content == w.emu.file_bytes(row["file_id"])
        # Signed out: nothing.
        async with client(w) as stranger:
            assert (await stranger.get(f"/dashboard/{media['url']}")).status_code == 401


async def test_the_figures_page_has_the_domains_figures(tmp_path: Path) -> None:
    async with dashboard_world(tmp_path) as w, client(w) as http:
        for flags in ((), ("child",), ()):
            await submit_tip(w, REPORTER if not flags else STRANGER, flags=flags)
        await signed_in(w, http)
        data = (await http.get("/dashboard/api/stats")).json()
        today = {p["key"]: p for p in data["periods"]}["today"]
        rows = await w.station.db.fetchall("SELECT flags, state FROM tips")
        assert today["received"] == len(rows) == 3
        assert today["urgent"] == sum("child" in (r["flags"] or "") for r in rows) == 1
        assert today["open"] == 3
        figures = await w.services.campaign.figures()
        assert [p["key"] for p in data["periods"]] == [k.value for k in figures]
        campaign = {p["key"]: p for p in data["periods"]}["campaign"]
        assert campaign["received"] == 3
        assert sum(h["received"] for h in today["by_hour"]) == 3
        page = await http.get("/dashboard/stats")
        assert page.status_code == 200 and "chart.umd.min.js" in page.text


async def test_the_map_takes_arrival_times_positions_and_hotspots(tmp_path: Path) -> None:
    from bot.web.dashboard.mapdata import Hotspot, MapLayers, Position

    async with dashboard_world(tmp_path) as w, client(w) as http:
        code = await submit_tip(w, REPORTER)
        tip = await w.tip_by_code(code)
        card = await w.wait_card(G1_CHAT, code)
        await w.press(G1_MEMBER, G1_CHAT, card, tr("zh", "btn.claim"))
        await w.until(lambda: w.card(G1_CHAT, code) and tr("zh", "btn.go") in w.buttons(
            w.card(G1_CHAT, code)))
        await w.press(G1_MEMBER, G1_CHAT, w.card(G1_CHAT, code), tr("zh", "btn.go"))

        async def en_route() -> bool:
            return (await w.tip_by_code(code)).state is State.EN_ROUTE

        await w.until(en_route)
        await signed_in(w, http)
        [plain] = (await http.get("/dashboard/api/map")).json()["tips"]
        assert (plain["state"], plain["eta"]) == ("en_route", None)
        eta = w.clock.now + dt.timedelta(minutes=20)
        seen = w.clock.now

        async def layers(services, viewer):
            return MapLayers(
                etas={tip.id: eta},
                positions=[Position("赵队员", 30.201, 115.041, seen)],
                hotspots=[Hotspot("黄石站", 30.19, 115.03, 4)],
            )

        w.app.bot_data["dashboard"].state.layers = layers
        data = (await http.get("/dashboard/api/map")).json()
        [marked] = data["tips"]
        assert (marked["state"], marked["eta"], marked["late"]) == ("en_route_eta", "21:20", False)
        assert data["positions"] == [{"name": "赵队员", "at": [30.201, 115.041], "time": "21:00"}]
        assert data["hotspots"] == [{"label": "黄石站", "at": [30.19, 115.03], "count": 4}]


async def test_an_officer_escalates_an_unclaimed_tip_from_the_map(tmp_path: Path) -> None:
    from tests.harness import G2_CHAT

    async with dashboard_world(tmp_path) as w, client(w) as http:
        code = await submit_tip(w, REPORTER)
        tip = await w.tip_by_code(code)
        await signed_in(w, http)
        page = (await http.get("/dashboard/")).text
        csrf = {security.CSRF_HEADER: re.search(r'"csrf": "([0-9a-f]+)"', page).group(1)}
        detail = (await http.get(f"/dashboard/api/tips/{tip.id}")).json()
        assert detail["actions"] == ["copy", "escalate", "invalid"]
        answer = await http.post(f"/dashboard/api/tips/{tip.id}/escalate", headers=csrf)
        assert answer.json() == {"ok": True}
        # As the second escalation level: the other group gets the card; anyone may claim.
        await w.wait_card(G2_CHAT, code)
        assert (await w.tip_by_code(code)).widened_at is not None
        [logged] = await w.events_named("dashboard_escalate")
        assert (logged["tip_id"], logged["actor_id"]) == (tip.id, OFFICER)
        again = await http.post(f"/dashboard/api/tips/{tip.id}/escalate", headers=csrf)
        assert again.status_code == 409
        assert "escalate" not in (await http.get(f"/dashboard/api/tips/{tip.id}")).json()["actions"]


async def test_the_map_shows_the_field_features_own_data(tmp_path: Path) -> None:
    """Wired to issue 13's features: the claimer's arrival time (from the card's button), a
    member's live location shared in the group, and the hotspots of found people."""
    async with dashboard_world(tmp_path) as w, client(w) as http:
        code = await submit_tip(w, REPORTER)
        card = await w.wait_card(G1_CHAT, code)
        await w.press(G1_MEMBER, G1_CHAT, card, tr("zh", "btn.claim"))
        ten = tr("zh", "eta.btn", minutes=10)
        await w.until(lambda: ten in w.buttons(w.card(G1_CHAT, code)))
        await w.press(G1_MEMBER, G1_CHAT, w.card(G1_CHAT, code), ten)

        async def eta_given() -> bool:
            return (await w.tip_by_code(code)).eta_at is not None

        await w.until(eta_given)
        w.emu.send_location(G1_MEMBER, 30.2012, 115.0412, chat_id=G1_CHAT, live_period=3600)

        async def following() -> bool:
            return bool(await w.services.live.positions())

        await w.until(following)
        await signed_in(w, http)
        data = (await http.get("/dashboard/api/map")).json()
        [marked] = data["tips"]
        tip = await w.tip_by_code(code)
        assert tip.eta_at is not None
        eta = tip.eta_at.astimezone(w.station.clock.tz).strftime("%H:%M")
        assert (marked["state"], marked["eta"]) == ("en_route_eta", eta)
        [position] = data["positions"]
        assert position["at"] == [30.2012, 115.0412]
        assert position["name"] == "赵队员"  # (G1_MEMBER, as the cards name them)
        # Nobody was found yet: no hotspot (the clustering itself is tested with issue 13).
        assert data["hotspots"] == []
