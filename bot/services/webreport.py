"""The public web report form and the tip's status page: the same pipeline as Telegram.

A posted form becomes a :class:`~bot.domain.draft.Draft` of source "web" and goes through
:meth:`ReportService.submit` — the same service-area check, dispatch, duplicates, claim secret,
event log; escalation, rewards and purge follow as for any tip. The web reporter's id comes
from :mod:`bot.domain.webreport` (per phone number, or per tip); their notices land on the
status page (:class:`~bot.services.notify.Notifier` routes them), where they answer a relayed
question (:meth:`RelayService.answer`, unchanged), add words or a photo
(:meth:`AmendService.amend`, the one way to amend a tip) and answer "still there?"
(:meth:`FollowUp.still_there`) or, after "not found", add words that reopen the tip
(:meth:`FollowUp.take`).

The signing key (CSRF tokens, the status page's cookie, the phone numbers' keys) is made once
and kept in the database's settings: it survives restarts, and the phone key stays stable
(the monthly reward cap counts per phone).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from enum import StrEnum

from bot.config import ReportingConfig
from bot.db.database import Database
from bot.db.ops import OpsStore
from bot.db.people import PeopleStore
from bot.db.questions import QuestionStore
from bot.db.rewards import RewardStore
from bot.db.tips import TipStore
from bot.db.webreports import WebNotice, WebReportStore
from bot.domain.draft import (
    CANDIDATES_MAX,
    PLACE_MAX,
    Candidate,
    Draft,
    Source,
    Where,
    clean_spot,
)
from bot.domain.relay import QUESTION_OPEN, answer_target
from bot.domain.rewards import Ineligible, Reward, secret_matches
from bot.domain.tips import Tip
from bot.domain.webreport import (
    WEB_PHOTO,
    WebForm,
    is_web_reporter,
    phone_key,
    status_locked,
)
from bot.services.amend import Additions, Amended, Amender, AmendService
from bot.services.clock import StationClock
from bot.services.followup import FollowUp, Taken
from bot.services.relay import RelayService
from bot.services.reports import ReportService
from bot.services.result import Refusal, Result, done, refused

KEY_SETTING = "web_report:key"


class WebRefusal(StrEnum):
    """Why the form or the status page did not do what was asked (words: the web views)."""

    OUTSIDE = "outside"  # outside the service area: nothing stored, the hotline instead
    INVALID = "invalid"  # not a real coordinate
    TOO_MANY = "too_many"  # the reporter's hourly limit (a phone number's)
    FAILED = "failed"  # the pipeline refused it (incomplete…)
    WRONG = "wrong"  # wrong code or secret (the same answer for both)
    LOCKED = "locked"  # too many wrong secrets
    NOT_OPEN = "not_open"  # no question to answer / too late to add


@dataclass(frozen=True)
class WebSubmitted:
    tip: Tip
    secret: str
    prospect: Ineligible | None  # why it cannot earn the reward (None: it can)


@dataclass(frozen=True)
class WebStatus:
    tip: Tip
    reward: Reward | None
    notices: list[WebNotice]
    question_open: bool  # a patrol's question is waiting for an answer
    can_add: bool  # within amend_minutes and open
    language: str
    still_open: bool = False  # "still there?" waits for the reporter's button
    more_open: bool = False  # their words are taken now ("not found": reopen; or after "still")


class WebReportService:
    def __init__(
        self,
        db: Database,
        store: WebReportStore,
        tips: TipStore,
        people: PeopleStore,
        rewards: RewardStore,
        questions: QuestionStore,
        ops: OpsStore,
        reports: ReportService,
        relay: RelayService,
        amend: AmendService,
        followup: FollowUp,
        clock: StationClock,
        reporting: ReportingConfig,
    ) -> None:
        self.db = db
        self.store = store
        self.tips = tips
        self.people = people
        self.rewards = rewards
        self.questions = questions
        self.ops = ops
        self.reports = reports
        self.relay = relay
        self.amend_service = amend
        self.followup = followup
        self.clock = clock
        self.reporting = reporting
        self._key: bytes | None = None

    async def key(self) -> bytes:
        if self._key is None:
            stored = await self.ops.put_if_absent(
                KEY_SETTING, secrets.token_hex(32), self.clock.now()
            )
            self._key = bytes.fromhex(stored)
        return self._key

    # -- the form ---------------------------------------------------------------------------
    def rewards_now(self) -> bool:
        """Does the campaign pay rewards for a tip sent today (station time)?"""
        today = self.clock.local(self.clock.now()).date()
        return self.reports.awards.campaign.contains(today)

    def where(self, lat: float, lon: float) -> Where:
        return self.reports.where(lat, lon)

    async def places(self, text: str, language: str) -> tuple[list[Candidate], bool]:
        """A typed address or landmark: the places inside the area (the bot's geocoder and
        gazetteer), best first; and whether the offline gazetteer answered."""
        found, fell_back = await self.reports.places(text[:PLACE_MAX], language)
        return list(found[:CANDIDATES_MAX]), fell_back

    async def submit(
        self,
        form: WebForm,
        *,
        place_label: str | None,
        photo: bytes | None,
        language: str,
    ) -> Result[WebSubmitted | WebRefusal]:
        """The checked form (a position settled: the browser's, or a confirmed place) as a
        tip. Outside the area: refused, nothing stored."""
        assert form.lat is not None and form.lon is not None and form.seen and form.people
        where = self.where(form.lat, form.lon)
        if where is not Where.INSIDE:
            kind = WebRefusal.OUTSIDE if where is Where.OUTSIDE else WebRefusal.INVALID
            return refused(Refusal.NOT_ALLOWED, kind)
        now = self.clock.now()
        key = await self.key()
        ref = secrets.token_hex(12) if photo else None
        async with self.db.write() as tx:
            pk = phone_key(key, form.phone) if form.phone else None
            reporter = await self.store.reporter(tx, pk, language, now)
            await self.people.ensure(tx, reporter, now)
            if form.phone:
                await self.people.set_phone(tx, reporter, form.phone, now)
            if photo is not None and ref is not None:
                await self.store.add_photo(tx, ref, photo, now)
        draft = Draft(
            user_id=reporter,
            source=Source.WEB,
            lat=form.lat,
            lon=form.lon,
            address=form.address or None,
            spot=form.spot,
            spot_text=clean_spot(form.spot_text) if form.spot_text else None,
            place_label=(place_label or None) and place_label[:PLACE_MAX],
            seen=form.seen,
            people=form.people,
            flags=form.flags,
            description=form.words or None,
            photo_file_id=f"{WEB_PHOTO}{ref}" if ref else None,
            photo_unique_id=f"web-{ref}" if ref else None,
        )
        await self.reports.save(draft)
        result = await self.reports.submit(reporter)
        if not result.ok or result.value is None:
            await self.reports.cancel(reporter)
            if ref is not None:
                async with self.db.write() as tx:
                    await self.store.drop_photo(tx, ref)
            why = WebRefusal.TOO_MANY if result.refusal is Refusal.TOO_MANY else WebRefusal.FAILED
            return refused(result.refusal or Refusal.INCOMPLETE, why)
        submitted = result.value
        assert submitted.secret is not None  # a web tip always gets one (its status page)
        return done(WebSubmitted(submitted.tip, submitted.secret, submitted.prospect))

    # -- the status page --------------------------------------------------------------------
    async def web_tip(self, code: str) -> Tip | None:
        """The web tip with this code (None for any other: the page says the same)."""
        prefix, _, number = code.strip().upper().rpartition("-")
        if not number.isdigit() or not prefix:
            return None
        tip = await self.tips.get(int(number))
        if tip is None or tip.code != code.strip().upper() or tip.source != Source.WEB:
            return None
        return tip

    async def view_token(self, tip: Tip) -> str | None:
        """What the status page's cookie holds once the secret was right: bound to the
        secret's hash (a purged tip, or a new secret, ends it)."""
        salt, digest = await self.tips.claim_secret(tip.id)
        if not salt or not digest:
            return None
        message = f"view\x1f{tip.id}\x1f{digest}".encode()
        return hmac.new(await self.key(), message, hashlib.sha256).hexdigest()[:40]

    async def check_view(self, tip: Tip, token: str | None) -> bool:
        expected = await self.view_token(tip)
        return bool(token and expected and hmac.compare_digest(token, expected))

    async def open_status(self, code: str, secret: str) -> Result[Tip | WebRefusal]:
        """The secret typed on the status page: right → the tip; wrong → counted (5 lock it,
        as a counter claim); an unknown code answers as a wrong secret."""
        tip = await self.web_tip(code)
        if tip is None:
            return refused(Refusal.WRONG_SECRET, WebRefusal.WRONG)
        if status_locked(await self.store.wrong_tries(tip.id)):
            return refused(Refusal.LOCKED, WebRefusal.LOCKED)
        salt, digest = await self.tips.claim_secret(tip.id)
        if salt and digest and secret_matches(secret, salt, digest):
            return done(tip)
        async with self.db.write() as tx:
            tries = await self.store.count_wrong(tx, tip.id, self.clock.now())
        if status_locked(tries):
            return refused(Refusal.LOCKED, WebRefusal.LOCKED)
        return refused(Refusal.WRONG_SECRET, WebRefusal.WRONG)

    async def has_phone(self, tip: Tip) -> bool:
        """Did the reporter leave a number for the transfer (the page says how to collect)?"""
        reporter = await self.tips.reporter_of(tip.id)
        return reporter is not None and bool(await self.people.phone(reporter))

    async def locked(self, tip: Tip) -> bool:
        return status_locked(await self.store.wrong_tries(tip.id))

    async def status(self, tip: Tip) -> WebStatus:
        reporter = await self.tips.reporter_of(tip.id)
        language = (await self.store.language(reporter) if reporter else None) or "zh"
        now = self.clock.now()
        question_open = False
        if reporter is not None and is_web_reporter(reporter) and tip.is_open:
            open_since = now - QUESTION_OPEN
            asked = await self.questions.for_reporter(reporter, open_since)
            # As the relay will take a plain answer (no report in progress on the web).
            target = answer_target(asked, None, now)
            question_open = target is not None and target.tip_id == tip.id
        still_open = more_open = False
        if reporter is not None and is_web_reporter(reporter):
            still_open, more_open = await self.followup.open_on(tip, reporter)
        return WebStatus(
            tip=tip,
            reward=await self.rewards.for_tip(tip.id),
            notices=await self.store.notices(tip.id),
            question_open=question_open,
            can_add=reporter is not None
            and (await self.amend_service.check(tip.id, Amender(reporter))).ok,
            language=language,
            still_open=still_open,
            more_open=more_open,
        )

    async def answer(self, tip: Tip, text: str) -> Result[WebRefusal | None]:
        """The reporter's answer to the patrol's question (relayed to the card's chat)."""
        reporter = await self.tips.reporter_of(tip.id)
        if reporter is None:
            return refused(Refusal.NO_REPORTER, WebRefusal.NOT_OPEN)
        relayed = await self.relay.answer(reporter, text, None)
        if relayed is None:
            return refused(Refusal.CLOSED, WebRefusal.NOT_OPEN)
        if not relayed.ok:
            return refused(relayed.refusal or Refusal.CLOSED, WebRefusal.NOT_OPEN)
        return done(None)

    async def still_there(self, tip: Tip, answer: str) -> Result[Tip]:
        """The reporter's answer to "still there?" (:meth:`FollowUp.still_there`)."""
        reporter = await self.tips.reporter_of(tip.id)
        if reporter is None:
            return refused(Refusal.NOT_YOURS)
        return await self.followup.still_there(tip.id, reporter, answer)

    async def tell_more(self, tip: Tip, words: str) -> Taken:
        """The reporter's words about this tip: after "not found" they reopen it, after
        "still there?" they go with the answer (:meth:`FollowUp.take`)."""
        reporter = await self.tips.reporter_of(tip.id)
        if reporter is None:
            return Taken.NONE
        taken, _ = await self.followup.take(reporter, text=words, tip_id=tip.id)
        return taken

    async def add(self, tip: Tip, words: str, photo: bytes | None) -> Result[Amended]:
        """More words or a photo for ``[reporting] amend_minutes``: :meth:`AmendService.amend`
        with the photo as a ``web:`` file the outbox uploads (its bytes kept until then)."""
        reporter = await self.tips.reporter_of(tip.id)
        if reporter is None:
            return refused(Refusal.NOT_YOURS)
        ref = None
        if photo is not None:
            ref = secrets.token_hex(12)
            async with self.db.write() as tx:
                await self.store.add_photo(tx, ref, photo, self.clock.now())
        additions = Additions(
            words=words or None,
            photo_file_id=f"{WEB_PHOTO}{ref}" if ref else None,
            photo_unique_id=f"web-{ref}" if ref else None,
        )
        result = await self.amend_service.amend(tip.id, Amender(reporter), additions)
        if not result.ok and ref is not None:
            async with self.db.write() as tx:  # not taken: our copy of the photo goes
                await self.store.drop_photo(tx, ref)
        return result
