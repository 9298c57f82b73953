"""The form (``/report``) and the status page (``/t/CODE``): parse → the service → render.

Refusals answer with a page in the reporter's language, never a bare error: 429 (the rate
limits), 413 (too large), 403 (no CSRF token, a wrong one), 400 (the honeypot filled, the form
sent faster than a person can), 503 (the bot is starting). Nothing is stored for any of them.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from starlette.applications import Starlette
from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp

from bot.config import Config
from bot.domain.tips import Tip
from bot.domain.webreport import (
    FormCheck,
    Problem,
    RateLimit,
    WebForm,
    action_token,
    check_action_token,
    check_form_token,
    form_token,
    read_form,
)
from bot.i18n import keys, t
from bot.services.followup import Taken
from bot.services.media import NotAnImage, strip_metadata
from bot.services.result import Refusal
from bot.services.webreport import WebRefusal, WebReportService, WebSubmitted
from bot.web.middleware import ResponseHeaders
from bot.web.report import pages
from bot.web.report.guard import (
    BROWSER_COOKIE,
    PAGE_HEADERS,
    VIEW_COOKIE,
    browser,
    client_address,
    language,
    page_headers,
    set_cookie,
)
from bot.web.report.pages import FormState, Site

HERE = Path(__file__).resolve().parent
VENDOR = HERE.parent / "static" / "vendor"

#: A photo may have this many bytes (before its clean copy is made); a post a little more.
MAX_PHOTO_BYTES = 8 * 1024 * 1024
MAX_POST_BYTES = MAX_PHOTO_BYTES + 256 * 1024
#: What the whole web server lets through to these sub-apps (they answer 413 themselves).
OUTER_LIMIT = MAX_POST_BYTES + 1024 * 1024
#: How long the receipt of a sent form is kept in memory, to answer a resend the same way.
RECEIPT_KEPT_S = 15 * 60
#: Address lookups per client address and in all per hour (each may reach the geocoder).
LOOKUPS_PER_IP, LOOKUPS_TOTAL = 60, 3000

GetService = Callable[[], WebReportService | None]


@dataclass(frozen=True)
class Posted:
    fields: dict[str, str]
    flags: list[str]
    photo: bytes | None
    photo_too_large: bool


class ReportWeb:
    """Both sub-apps, sharing the rate limits and the service (None until the bot is ready)."""

    def __init__(self, service: GetService, config: Config) -> None:
        self.service = service
        self.config = config
        web = config.web_report
        self.enabled = web.enabled
        self.submits = RateLimit(web.per_ip_per_hour, web.per_hour)
        self.lookups = RateLimit(LOOKUPS_PER_IP, LOOKUPS_TOTAL)
        self.secure = config.web.public_url.startswith("https://")
        self.site = Site(
            station=config.station.name,
            hotline=config.station.hotline,
            amount=config.reward.amount,
            photo_mb=MAX_PHOTO_BYTES // (1024 * 1024),
            amend_minutes=config.reporting.amend_minutes,
            timezone=config.station.timezone,
        )
        self.clock: Callable[[], float] = time.time  # the form tokens' clock (tests move it)
        self.monotonic: Callable[[], float] = time.monotonic  # the rate limits'
        # Forms sent (by their token): one submission each, its receipt kept a few minutes.
        self._once: dict[str, asyncio.Lock] = {}
        self._receipts: dict[str, tuple[float, WebSubmitted]] = {}

    # -- the apps ---------------------------------------------------------------------------
    def _app(self, routes: list) -> Starlette:
        return Starlette(
            routes=routes,
            # (Bodies: bounded by the web server at OUTER_LIMIT; _read answers 413 above
            # MAX_POST_BYTES with a page.)
            middleware=[
                Middleware(ResponseHeaders, PAGE_HEADERS, by_path=page_headers)
            ],
            exception_handlers={HTTPException: self._refusal},
        )

    def form_app(self) -> Starlette:
        return self._app(
            [
                Route("/", self.form, methods=["GET"]),
                Route("/", self.post_form, methods=["POST"]),
                Mount("/static/vendor", app=StaticFiles(directory=VENDOR)),
                Mount("/static", app=StaticFiles(directory=HERE / "static")),
            ]
        )

    def status_app(self) -> Starlette:
        return self._app(
            [
                Route("/{code}", self.status, methods=["GET"]),
                Route("/{code}", self.open_status, methods=["POST"]),
                Route("/{code}/answer", self.answer, methods=["POST"]),
                Route("/{code}/add", self.add, methods=["POST"]),
                Route("/{code}/still", self.still, methods=["POST"]),
                Route("/{code}/more", self.more, methods=["POST"]),
            ]
        )

    def routes(self) -> list:
        """At the top level: ``/report`` (the QR code's address) → the form, by a relative
        redirect (right behind any proxy)."""

        async def to_form(request: Request) -> Response:
            query = f"?{request.url.query}" if request.url.query else ""
            return RedirectResponse(f"/report/{query}", status_code=307)

        return [Route("/report", to_form, methods=["GET"])]

    # -- answers ----------------------------------------------------------------------------
    def _html(
        self, request: Request, html: str, status: int = 200, *, keep: str | None = None
    ) -> HTMLResponse:
        response = HTMLResponse(html, status_code=status)
        value, new = browser(request) if keep is None else (keep, True)
        if new:
            set_cookie(response, BROWSER_COOKIE, value, path="/", secure=self.secure, max_age=86400)
        if request.method == "POST" and status >= 400:
            response.headers["Connection"] = "close"
        return response

    def _message(
        self, request: Request, lang: str, title: str, text: str, status: int
    ) -> HTMLResponse:
        return self._html(request, pages.message_page(lang, self.site, title, text), status)

    async def _refusal(self, request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        lang = language(request)
        if exc.status_code == 413:
            text = t(lang, "web.too_large", mb=self.site.photo_mb)
            return self._message(request, lang, t(lang, "web.title"), text, 413)
        if exc.status_code == 503:
            text = t(lang, "web.failed", hotline=self.site.hotline)
            return self._message(request, lang, t(lang, "web.title"), text, 503)
        text = t(lang, "web.refused")
        return self._message(request, lang, t(lang, "web.title"), text, exc.status_code)

    def _ready(self) -> WebReportService:
        service = self.service()
        if service is None or not self.enabled:
            raise HTTPException(503 if self.enabled else 404)
        return service

    async def _read(self, request: Request) -> Posted:
        length = request.headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > MAX_POST_BYTES:
            # Read it away first (the web server bounds it at OUTER_LIMIT): a phone still
            # sending when the connection closes would show a network error, not our page.
            async for _ in request.stream():
                pass
            raise HTTPException(413)
        try:
            data: FormData = await request.form(max_files=1, max_fields=60, max_part_size=65536)
        except HTTPException:
            raise
        except Exception:  # an unreadable body (not a form)
            raise HTTPException(400) from None
        fields = {k: v for k, v in data.multi_items() if isinstance(v, str) and k != "flag"}
        flags = [v for v in data.getlist("flag") if isinstance(v, str)]
        photo, too_large = None, False
        upload = data.get("photo")
        if isinstance(upload, UploadFile) and upload.filename:
            raw = await upload.read(MAX_PHOTO_BYTES + 1)
            if len(raw) > MAX_PHOTO_BYTES:
                too_large = True
            elif raw:
                photo = raw
        await data.close()
        return Posted(fields, flags, photo, too_large)

    # -- the form ---------------------------------------------------------------------------
    async def form(self, request: Request) -> Response:
        service = self._ready()
        lang = language(request)
        value, _ = browser(request)
        token = form_token(await service.key(), value, self.clock())
        state = FormState(rewards=service.rewards_now())
        html = pages.form_page(lang, self.site, token, state)
        return self._html(request, html, keep=value)

    async def post_form(self, request: Request) -> Response:
        service = self._ready()
        posted = await self._read(request)
        fields = posted.fields
        lang = language(request, fields.get("lang"))
        key = await service.key()
        cookie = request.cookies.get(BROWSER_COOKIE)
        lookup = fields.get("action") == "lookup"
        check = check_form_token(
            key, cookie, fields.get("form"), self.clock(), min_fill_s=0 if lookup else 4.0
        )
        if check is FormCheck.BAD:
            raise HTTPException(403)
        if check is FormCheck.STALE:  # served hours ago: a fresh token, their words kept
            state = FormState(form=read_form(fields, posted.flags), again=True)
            fresh = form_token(key, cookie or "", self.clock())
            return self._html(request, pages.form_page(lang, self.site, fresh, state), 400)
        again = None if lookup else self._receipt(fields.get("form", ""))
        if again is not None:  # sent again: the same answer, not another tip (nor a 429)
            return self._html(request, self._done(lang, again))
        limit = self.lookups if lookup else self.submits
        if not limit.allow(client_address(request), self.monotonic()):
            title = t(lang, "web.busy_title")
            text = t(lang, "web.busy", hotline=self.site.hotline)
            return self._message(request, lang, title, text, 429)
        if fields.get("website"):
            raise HTTPException(400)  # a bot's: nothing is stored
        form = read_form(fields, posted.flags)
        state = FormState(form=form, rewards=service.rewards_now())
        # Re-shown after a lookup or a problem: the same token (the time it was first
        # served), so the person who filled it in is not made to wait again.
        token = fields.get("form", "")
        if check is FormCheck.TOO_FAST:
            # Faster than a person: nothing stored. A person (a double tap) sees their form
            # again, as they left it, and sends it once more.
            state.again = True
            return self._html(request, pages.form_page(lang, self.site, token, state), 400)
        chosen = pages.read_candidate(fields.get("place"))
        if chosen is not None:
            state.chosen = chosen
            form = _at(form, chosen[0], chosen[1])
            state.form = form
        if lookup or (form.lat is None and form.address and chosen is None):
            places, fell_back = await service.places(form.address, lang)
            state = FormState(
                form=_at(form, None, None),
                candidates=places,
                fell_back=fell_back,
                not_found=not places,
                rewards=state.rewards,
            )
            return self._html(request, pages.form_page(lang, self.site, token, state))
        problems = form.problems()
        photo = None
        if posted.photo_too_large:
            problems.append(Problem.PHOTO)
        elif posted.photo is not None:
            try:
                photo = await asyncio.to_thread(strip_metadata, posted.photo)
            except NotAnImage:
                problems.append(Problem.PHOTO)
        if problems:
            state.problems = problems
            return self._html(request, pages.form_page(lang, self.site, token, state), 422)
        # Sent twice (a slow connection, the answer lost, "send" pressed again): the same
        # form is one tip, and the second answer shows the first one's receipt again.
        sent = fields.get("form", "")
        async with self._once.setdefault(sent, asyncio.Lock()):
            done = self._receipt(sent)
            if done is None:
                result = await service.submit(
                    form,
                    place_label=chosen[2] if chosen else None,
                    photo=photo,
                    language=lang,
                )
                if not result.ok or not isinstance(result.value, WebSubmitted):
                    self._once.pop(sent, None)
                    return self._not_submitted(request, lang, result.value)
                done = result.value
                self._receipts[sent] = (self.monotonic() + RECEIPT_KEPT_S, done)
        return self._html(request, self._done(lang, done))

    def _done(self, lang: str, done: WebSubmitted) -> str:
        tip = done.tip
        return pages.done_page(lang, self.site, tip.code, done.secret, done.prospect, tip.urgent)

    def _receipt(self, sent: str) -> WebSubmitted | None:
        """The receipt of a form already sent (kept in memory for a few minutes only: it holds
        the claim secret); forgets the expired ones."""
        now = self.monotonic()
        for token in [k for k, (until, _) in self._receipts.items() if until <= now]:
            del self._receipts[token]
            self._once.pop(token, None)
        kept = self._receipts.get(sent)
        return kept[1] if kept is not None else None

    def _not_submitted(self, request: Request, lang: str, why: object) -> Response:
        title = t(lang, "web.title")
        if why is WebRefusal.OUTSIDE:
            text = t(lang, "location.outside", station=self.site.station, hotline=self.site.hotline)
            return self._message(request, lang, title, text, 200)
        if why is WebRefusal.INVALID:
            return self._message(request, lang, title, t(lang, "location.invalid"), 400)
        if why is WebRefusal.TOO_MANY:
            limit = self.config.reporting.max_open_tips_per_hour
            text = t(lang, "submit.too_many", limit=limit, hotline=self.site.hotline)
            return self._message(request, lang, title, text, 429)
        text = t(lang, "web.failed", hotline=self.site.hotline)
        return self._message(request, lang, title, text, 500)

    # -- the status page --------------------------------------------------------------------
    async def _viewing(self, request: Request, service: WebReportService):  # type: ignore[no-untyped-def]
        code = request.path_params["code"].upper()
        tip = await service.web_tip(code)
        seen = tip is not None and await service.check_view(tip, request.cookies.get(VIEW_COOKIE))
        return code, tip, seen

    async def _csrf(self, request: Request, code: str) -> str:
        service = self._ready()
        value, _ = browser(request)
        return action_token(await service.key(), value, f"t:{code}")

    async def status(self, request: Request, said: str | None = None) -> Response:
        service = self._ready()
        lang = language(request)
        code, tip, seen = await self._viewing(request, service)
        value, _ = browser(request)
        token = action_token(await service.key(), value, f"t:{code}")
        if tip is not None and seen:
            status = await service.status(tip)
            has_phone = await service.has_phone(tip)
            html = pages.status_page(lang, self.site, status, token, has_phone=has_phone, said=said)
            return self._html(request, html, keep=value)
        locked = tip is not None and await service.locked(tip)
        html = pages.secret_page(lang, self.site, code, token, locked=locked)
        return self._html(request, html, 403 if locked else 200, keep=value)

    async def _posted_action(self, request: Request) -> tuple[WebReportService, Posted, str, str]:
        service = self._ready()
        posted = await self._read(request)
        code = request.path_params["code"].upper()
        key = await service.key()
        if not check_action_token(
            key, request.cookies.get(BROWSER_COOKIE), f"t:{code}", posted.fields.get("csrf")
        ):
            raise HTTPException(403)
        return service, posted, code, language(request, posted.fields.get("lang"))

    async def _action_on_tip(self, request: Request) -> tuple[WebReportService, Posted, str, Tip]:
        """A form posted on the status page (its CSRF token checked) by a browser that has
        opened the tip (its view cookie): the service, the form, the language, the tip."""
        service, posted, _, lang = await self._posted_action(request)
        _, tip, seen = await self._viewing(request, service)
        if tip is None or not seen:
            raise HTTPException(403)
        return service, posted, lang, tip

    async def open_status(self, request: Request) -> Response:
        service, posted, code, lang = await self._posted_action(request)
        result = await service.open_status(code, posted.fields.get("secret", ""))
        token = await self._csrf(request, code)
        if not result.ok or result.value is None or isinstance(result.value, WebRefusal):
            locked = result.value is WebRefusal.LOCKED
            html = pages.secret_page(lang, self.site, code, token, wrong=not locked, locked=locked)
            return self._html(request, html, 403)
        view = await service.view_token(result.value)
        response = RedirectResponse(f"/t/{code}?lang={lang}", status_code=303)
        if view is not None:
            path = f"/t/{code}"
            set_cookie(
                response, VIEW_COOKIE, view, path=path, secure=self.secure, max_age=90 * 86400
            )
        return response

    async def answer(self, request: Request) -> Response:
        service, posted, lang, tip = await self._action_on_tip(request)
        result = await service.answer(tip, posted.fields.get("answer", ""))
        said = t(lang, "web.answered") if result.ok else t(lang, "web.not_open")
        return await self._status_after(request, lang, said)

    async def add(self, request: Request) -> Response:
        service, posted, lang, tip = await self._action_on_tip(request)
        photo = None
        if posted.photo_too_large:
            raise HTTPException(413)
        if posted.photo is not None:
            try:
                photo = await asyncio.to_thread(strip_metadata, posted.photo)
            except NotAnImage:
                text = t(lang, keys.WEB_PROBLEM[Problem.PHOTO], mb=self.site.photo_mb)
                return await self._status_after(request, lang, text)
        result = await service.add(tip, posted.fields.get("words", ""), photo)
        said = t(lang, "web.added") if result.ok else t(lang, "web.not_open")
        return await self._status_after(request, lang, said)

    async def still(self, request: Request) -> Response:
        """A button of "still there?" (as the reporter's in Telegram)."""
        service, posted, lang, tip = await self._action_on_tip(request)
        result = await service.still_there(tip, posted.fields.get("answer", ""))
        if result.ok:
            said = t(lang, "still.thanks")
        elif result.refusal is Refusal.ALREADY:
            said = t(lang, "still.already")
        elif result.refusal is Refusal.CLOSED:
            said = t(lang, "still.closed")
        else:
            said = t(lang, "still.invalid")
        return await self._status_after(request, lang, said)

    async def more(self, request: Request) -> Response:
        """Words for the patrol: after "not found" they reopen the tip, after "still there?"
        they go with the answer."""
        service, posted, lang, tip = await self._action_on_tip(request)
        taken = await service.tell_more(tip, posted.fields.get("words", ""))
        if taken is Taken.WORDS:
            said = t(lang, "still.words_sent", code=tip.code)
        elif taken is Taken.REOPENED:
            said = t(lang, "web.answered")
        else:
            said = t(lang, "web.not_open")
        return await self._status_after(request, lang, said)

    async def _status_after(self, request: Request, lang: str, said: str) -> Response:
        request.scope["query_string"] = f"lang={lang}".encode()
        return await self.status(request, said=said)


def _at(form: WebForm, lat: float | None, lon: float | None) -> WebForm:
    return replace(form, lat=lat, lon=lon)


def mounts(
    web: ReportWeb,
) -> tuple[dict[str, ASGIApp], dict[str, int]]:
    """The sub-apps for :func:`bot.web.app.create_web_app` and the larger bodies they take."""
    apps: dict[str, ASGIApp] = {"report_form": web.form_app(), "tip_status": web.status_app()}
    return apps, {"/report/": OUTER_LIMIT, "/t/": OUTER_LIMIT}
