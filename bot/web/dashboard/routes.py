"""The dashboard's routes: parse → call ``DashboardService`` → render (as handlers do)."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from importlib import resources
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import (
    FileResponse,
    HTMLResponse,
    JSONResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from telegram.error import TelegramError

from bot.config import Config
from bot.db.outbox import OutboxStore
from bot.domain.tips import Role, State
from bot.services.dashboard import LinkProblem, Viewer, WebAction
from bot.services.registry import Services
from bot.station import service_area
from bot.views.charts import font_path
from bot.views.dashboard import card_text, marker_words, state_words, timeline
from bot.views.people import label
from bot.web.dashboard import security
from bot.web.dashboard.feed import ChangeFeed
from bot.web.dashboard.mapdata import (
    MapLayers,
    Projection,
    map_json,
    marker_json,
    tiles_in_gcj02,
)
from bot.web.dashboard.pages import map_page, message_page, stats_page
from bot.web.dashboard.statsdata import stats_json
from bot.web.middleware import ResponseHeaders

log = logging.getLogger(__name__)

#: Seconds between keep-alive comments on the event stream (proxies drop idle streams).
KEEPALIVE_S = 20.0
#: Media kinds shown as pictures.
PICTURES = frozenset({"report_photo", "photo"})
#: Gives the map's optional layers for a viewer (wired where those features are built):
#: ``dashboard_app.state.layers = source``.
LayerSource = Callable[[Services, Viewer], Awaitable[MapLayers]]

_PROBLEM_TEXT = {
    LinkProblem.USED: "web.dash.link_used",
    LinkProblem.EXPIRED: "web.dash.link_expired",
    LinkProblem.NOT_ALLOWED: "web.dash.link_not_allowed",
}


def create_dashboard(
    services: Callable[[], Services | None],
    outbox: Callable[[], OutboxStore | None],
    bot: Callable[[], Any],
    config: Config,
    feed: ChangeFeed | None = None,
) -> Starlette:
    """The dashboard app (mounted at ``/dashboard``). ``services`` and ``outbox``: the bot's
    services and its outbox store once it has started (None before); ``bot``: the PTB Bot,
    for evidence downloads."""
    feed = feed or ChangeFeed()
    area = service_area(config)
    projection = Projection(tiles_in_gcj02(config.dashboard.tiles))
    station_language = config.station.language
    tiles = config.dashboard.tiles

    def svc() -> Services:
        found = services()
        if found is None:
            raise _NotReady
        return found

    async def who(request: Request) -> tuple[Services, Viewer | None, str | None]:
        s = svc()
        token = security.session_token(request)
        return s, await s.dashboard.viewer(token), token

    async def lang_of(s: Services, viewer: Viewer) -> str:
        return await s.users.language(viewer.user_id)

    def friendly(lang: str, title: str, text: str, status: int) -> Response:
        return HTMLResponse(message_page(lang, title, text), status_code=status)

    def sign_in_needed(lang: str) -> Response:
        return friendly(lang, "web.dash.sign_in_title", "web.dash.sign_in_needed", 401)

    async def name_of(s: Services, viewer: Viewer, lang: str) -> str:
        people = await s.naming.people([viewer.user_id])
        name = label(people[viewer.user_id], lang)
        return f"{name} · {_team(s, viewer)}" if viewer.role is Role.LEADER else name

    def _team(s: Services, viewer: Viewer) -> str:
        return s.dashboard.reach.directory.team_name(viewer.group_key or "")

    # -- sign-in -------------------------------------------------------------------------
    async def login(request: Request) -> Response:
        s = svc()
        token = request.query_params.get("t", "")
        result = await s.dashboard.sign_in(token) if token else LinkProblem.EXPIRED
        if isinstance(result, LinkProblem):
            await s.dashboard.refused_link(result)
            return friendly(station_language, "web.dash.link_title", _PROBLEM_TEXT[result], 403)
        session, _viewer = result
        # Away from the link at once, so it is not left in the address bar or history.
        response = RedirectResponse("/dashboard/", status_code=303)
        security.set_session(
            response, session, s.config.dashboard.session_hours, s.dashboard.secure_cookie
        )
        return response

    async def logout(request: Request) -> Response:
        s, viewer, token = await who(request)
        if token:
            await s.dashboard.sign_out(token)
        lang = await lang_of(s, viewer) if viewer else station_language
        response = friendly(lang, "web.dash.signed_out_title", "web.dash.signed_out", 200)
        security.clear_session(response, s.dashboard.secure_cookie)
        return response

    # -- pages ---------------------------------------------------------------------------
    async def map_view(request: Request) -> Response:
        s, viewer, token = await who(request)
        if viewer is None or token is None:
            return sign_in_needed(station_language)
        lang = await lang_of(s, viewer)
        data = {
            "csrf": security.csrf_for(token),
            "may_act": viewer.may_act,
            "markers": marker_words(lang),
            "group": _team(s, viewer) if viewer.role is Role.LEADER else None,
        }
        return HTMLResponse(map_page(lang, await name_of(s, viewer, lang), data))

    async def stats_view(request: Request) -> Response:
        s, viewer, _ = await who(request)
        if viewer is None:
            return sign_in_needed(station_language)
        lang = await lang_of(s, viewer)
        return HTMLResponse(stats_page(lang, await name_of(s, viewer, lang), {}))

    # -- data ----------------------------------------------------------------------------
    async def map_data(request: Request) -> Response:
        s, viewer, _ = await who(request)
        if viewer is None:
            return JSONResponse({"error": "signed out"}, status_code=401)
        lang = await lang_of(s, viewer)
        source: LayerSource | None = getattr(request.app.state, "layers", None)
        layers = await source(s, viewer) if source is not None else MapLayers()
        tips = await s.dashboard.open_tips(viewer, layers.etas)
        names = await s.naming.people(t.claimed_by for t, _ in tips if t.claimed_by)
        tz = s.clock.tz
        directory = s.dashboard.reach.directory
        markers = [
            marker_json(
                tip,
                mark,
                directory.team_name(tip.group_key),
                label(names[tip.claimed_by], lang) if tip.claimed_by else None,
                projection,
                tz,
            )
            for tip, mark in tips
        ]
        return JSONResponse(
            map_json(
                markers,
                area,
                lang,
                tiles,
                positions=layers.positions,
                hotspots=layers.hotspots,
                tz=tz,
            )
        )

    async def stats_data(request: Request) -> Response:
        s, viewer, _ = await who(request)
        if viewer is None:
            return JSONResponse({"error": "signed out"}, status_code=401)
        return JSONResponse(stats_json(await s.campaign.figures()))

    async def tip_detail(request: Request) -> Response:
        s, viewer, _ = await who(request)
        if viewer is None:
            return JSONResponse({"error": "signed out"}, status_code=401)
        lang = await lang_of(s, viewer)
        result = await s.dashboard.detail(viewer, int(request.path_params["tip_id"]))
        if not result.ok or result.value is None:
            return JSONResponse({"error": "not found"}, status_code=404)
        d = result.value
        tip, tz = d.tip, s.clock.tz
        media = [
            {"id": m["id"], "kind": m["kind"], "url": f"api/tips/{tip.id}/media/{m['id']}"}
            for m in d.media
            if m["kind"] in PICTURES
        ]
        actions = []
        if viewer.may_act:
            actions.append(WebAction.COPY.value)
            if tip.state in (State.CLAIMED, State.EN_ROUTE):
                actions.append(WebAction.RELEASE.value)
            if tip.state is State.DISPATCHED and tip.widened_at is None:
                actions.append(WebAction.ESCALATE.value)
            if tip.is_open:
                actions.append(WebAction.INVALID.value)
        return JSONResponse(
            {
                "id": tip.id,
                "code": tip.code,
                "state": d.marker.state.value if tip.is_open else None,
                "state_words": state_words(tip, lang),
                "card": card_text(tip, d.context, lang, tz),
                "timeline": timeline(d.context, lang, tz),
                "media": media,
                "evidence": d.context.evidence,
                "actions": actions,
            }
        )

    async def tip_media(request: Request) -> Response:
        s, viewer, _ = await who(request)
        if viewer is None:
            return Response(status_code=401)
        tip_id, media_id = int(request.path_params["tip_id"]), int(request.path_params["media_id"])
        file_id = await s.dashboard.media_file(viewer, tip_id, media_id)
        if file_id is None:
            return Response(status_code=404)
        try:
            # Through the Bot API's file download, from here: the page never sees a Telegram
            # URL (which holds the bot's token).
            found = await bot().get_file(file_id)
            data = bytes(await found.download_as_bytearray())
        except TelegramError as exc:
            log.warning("evidence %s of tip %s could not be fetched: %s", media_id, tip_id, exc)
            return Response(status_code=502)
        kind = "image/png" if data[:8] == b"\x89PNG\r\n\x1a\n" else "image/jpeg"
        return Response(data, media_type=kind, headers={"Cache-Control": "private, max-age=3600"})

    async def tip_action(request: Request) -> Response:
        s, viewer, token = await who(request)
        if viewer is None or token is None:
            return JSONResponse({"error": "signed out"}, status_code=401)
        if not security.csrf_passes(request, token, s.dashboard.public_url):
            return JSONResponse({"error": "csrf"}, status_code=403)
        try:
            action = WebAction(request.path_params["action"])
        except ValueError:
            return JSONResponse({"error": "unknown action"}, status_code=404)
        result = await s.dashboard.act(viewer, int(request.path_params["tip_id"]), action)
        if not result.ok:
            return JSONResponse(
                {"ok": False, "refusal": result.refusal.value if result.refusal else None},
                status_code=409,
            )
        return JSONResponse({"ok": True})

    async def events(request: Request) -> Response:
        s, viewer, token = await who(request)
        if viewer is None or token is None:
            return JSONResponse({"error": "signed out"}, status_code=401)
        store = outbox()
        if store is not None:
            feed.watch(store)

        async def stream() -> AsyncIterator[str]:
            seen = feed.version
            yield f"retry: 2000\nevent: change\ndata: {json.dumps({'v': seen})}\n\n"
            while True:
                now = await feed.wait(seen, KEEPALIVE_S)
                if await s.dashboard.viewer(token) is None:
                    yield "event: signed_out\ndata: {}\n\n"
                    return
                if now != seen:
                    seen = now
                    await asyncio.sleep(0.2)  # a burst of commits: one refresh
                    seen = feed.version
                    yield f"event: change\ndata: {json.dumps({'v': seen})}\n\n"
                else:
                    yield ": keep-alive\n\n"

        return StreamingResponse(
            stream(),
            media_type="text/event-stream",
            headers={"X-Accel-Buffering": "no"},
        )

    async def font(request: Request) -> Response:
        # The chart's CJK font, for browsers with none of their own (it is listed after the
        # system's fonts, so a phone with Chinese fonts never fetches it).
        return FileResponse(
            font_path(), media_type="font/otf", headers={"Cache-Control": "max-age=604800"}
        )

    static = str(resources.files("bot.web").joinpath("static"))
    dashboard = Starlette(
        routes=[
            Route("/", map_view, methods=["GET"]),
            Route("/login", login, methods=["GET"]),
            Route("/logout", logout, methods=["GET", "POST"]),
            Route("/stats", stats_view, methods=["GET"]),
            Route("/api/map", map_data, methods=["GET"]),
            Route("/api/stats", stats_data, methods=["GET"]),
            Route("/api/tips/{tip_id:int}", tip_detail, methods=["GET"]),
            Route("/api/tips/{tip_id:int}/media/{media_id:int}", tip_media, methods=["GET"]),
            Route("/api/tips/{tip_id:int}/{action:str}", tip_action, methods=["POST"]),
            Route("/events", events, methods=["GET"]),
            Route("/font/warmline-sans.otf", font, methods=["GET"]),
            Mount("/static", app=StaticFiles(directory=static)),
        ],
        middleware=[
            Middleware(
                ResponseHeaders,
                security.dashboard_headers(tiles),
                unless_set={"Cache-Control": "no-store"},  # static assets say how long they keep
            )
        ],
        exception_handlers={_NotReady: _not_ready},
    )
    dashboard.state.layers = None  # a LayerSource, once the features that feed it exist
    return dashboard


class _NotReady(Exception):
    """The bot has not started its services yet."""


async def _not_ready(request: Request, exc: Exception) -> Response:
    return JSONResponse({"error": "starting"}, status_code=503, headers={"Retry-After": "5"})

