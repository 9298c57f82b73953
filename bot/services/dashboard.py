"""The officers' dashboard (issue 14): sign-in without passwords, who sees which tips, and
what each view and action writes to the event log.

An officer (or, with ``[dashboard] leaders``, a group leader) sends `/dashboard` privately
and gets a link that works once, for ten minutes; opening it starts a session of
``session_hours``. Only SHA-256 hashes of the link's and the session's random tokens are
stored. Officers see every open tip and act on them through the same services as in
Telegram; leaders see their own group's tips, read-only.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from enum import StrEnum

from bot.config import DashboardConfig
from bot.db.dashboard import DashboardStore
from bot.db.database import Database
from bot.db.events import EventStore
from bot.db.messages import MediaStore
from bot.db.tips import TipStore
from bot.domain.dashboard import LINK_MINUTES, Marker, marker, token_hash
from bot.domain.events import Act, Attempt
from bot.domain.events import refused as refused_action
from bot.domain.tips import Action, Outcome, Role, Tip
from bot.services.audit import Audit
from bot.services.cards import CardContext, CardService
from bot.services.clock import StationClock
from bot.services.escalation import Escalator
from bot.services.field import FieldService
from bot.services.reach import Reach
from bot.services.result import Refusal, Result, done, refused


class LinkProblem(StrEnum):
    """Why a sign-in link did not sign anyone in."""

    USED = "used"
    EXPIRED = "expired"  # or never issued (a mistyped link reads the same)
    NOT_ALLOWED = "not_allowed"  # its owner may no longer sign in


class WebAction(StrEnum):
    """What an officer can do to a tip from the dashboard (as in Telegram)."""

    COPY = "copy"  # a live copy of the card in the officer's private chat
    RELEASE = "release"  # take it from its claimer, back to the group
    ESCALATE = "escalate"  # every group and officer alerted now (the second level)
    INVALID = "invalid"  # close as invalid


@dataclass(frozen=True)
class Viewer:
    """Someone signed in: an officer (sees and acts on every open tip) or a group leader
    (sees their own group's, read-only)."""

    user_id: int
    role: Role  # OFFICER or LEADER
    group_key: str | None  # a leader's group

    @property
    def may_act(self) -> bool:
        return self.role is Role.OFFICER


@dataclass(frozen=True)
class TipDetail:
    tip: Tip
    context: CardContext
    marker: Marker
    media: list[dict]  # the tip's media rows (report photo, evidence)


class DashboardService:
    def __init__(
        self,
        db: Database,
        store: DashboardStore,
        tips: TipStore,
        media: MediaStore,
        events: EventStore,
        cards: CardService,
        field: FieldService,
        escalator: Escalator,
        audit: Audit,
        reach: Reach,
        clock: StationClock,
        config: DashboardConfig,
        public_url: str,
    ) -> None:
        self.db = db
        self.store = store
        self.tips = tips
        self.media = media
        self.events = events
        self.cards = cards
        self.field = field
        self.escalator = escalator
        self.audit = audit
        self.reach = reach
        self.clock = clock
        self.config = config
        self.rules = escalator.rules  # a marker is overdue when the escalator says so
        self.public_url = public_url.rstrip("/")

    # -- who may sign in -------------------------------------------------------------------
    def viewer_for(self, user_id: int) -> Viewer | None:
        directory = self.reach.directory
        if directory.is_officer(user_id):
            return Viewer(user_id, Role.OFFICER, None)
        if self.config.leaders:
            for team in directory.teams:
                if team.leader == user_id:
                    return Viewer(user_id, Role.LEADER, team.key)
        return None

    @property
    def secure_cookie(self) -> bool:
        return self.public_url.startswith("https://")

    async def issue_link(self, user_id: int) -> Result[str]:
        """A one-time sign-in link for someone who may sign in (the URL), else refused."""
        viewer = self.viewer_for(user_id)
        if viewer is None:
            await self.audit.refused(user_id, Attempt.DASHBOARD)
            return refused(Refusal.NOT_ALLOWED)
        if not self.public_url:
            return refused(Refusal.CLOSED)
        token = secrets.token_urlsafe(32)
        now = self.clock.now()
        async with self.db.write() as tx:
            expires = now + dt.timedelta(minutes=LINK_MINUTES)
            await self.store.add_link(tx, token_hash(token), user_id, now, expires)
            await self.audit.record(tx, Act.DASHBOARD_LINK, actor_id=user_id, role=viewer.role)
        return done(f"{self.public_url}/dashboard/login?t={token}")

    async def sign_in(self, link_token: str) -> tuple[str, Viewer] | LinkProblem:
        """Spend a link: a new session's token and who it is, or why not."""
        now = self.clock.now()
        hashed = token_hash(link_token)
        async with self.db.write() as tx:
            user_id = await self.store.use_link(tx, hashed, now)
            viewer = self.viewer_for(user_id) if user_id is not None else None
            if viewer is None:
                problem = (
                    LinkProblem.NOT_ALLOWED
                    if user_id is not None
                    else LinkProblem.USED
                    if await self.store.link_state(hashed) == "used"
                    else LinkProblem.EXPIRED
                )
                return problem
            token = secrets.token_urlsafe(32)
            expires = now + dt.timedelta(hours=self.config.session_hours)
            await self.store.add_session(tx, token_hash(token), viewer.user_id, now, expires)
            await self.audit.record(
                tx,
                Act.DASHBOARD_SIGN_IN,
                actor_id=viewer.user_id,
                role=viewer.role,
                detail={"hours": self.config.session_hours},
            )
        return token, viewer

    async def refused_link(self, problem: LinkProblem) -> None:
        """A used, expired or unknown link opened: logged (by whom is not known)."""
        async with self.db.write() as tx:
            await self.events.add(
                tx,
                tip_id=None,
                actor_id=None,
                actor_role=Role.STRANGER,
                action=refused_action(Attempt.DASHBOARD_LINK),
                from_state=None,
                to_state=None,
                now=self.clock.now(),
                detail={"reason": problem.value},
            )

    async def viewer(self, session_token: str | None) -> Viewer | None:
        """Who a session cookie belongs to, while it lasts and they may still sign in."""
        if not session_token:
            return None
        found = await self.store.session(token_hash(session_token), self.clock.now())
        return self.viewer_for(found[0]) if found else None

    async def sign_out(self, session_token: str) -> None:
        viewer = await self.viewer(session_token)
        async with self.db.write() as tx:
            if await self.store.end_session(tx, token_hash(session_token), self.clock.now()):
                await self.audit.record(
                    tx,
                    Act.DASHBOARD_SIGN_OUT,
                    actor_id=viewer.user_id if viewer else None,
                    role=viewer.role if viewer else Role.SYSTEM,
                )

    async def end_all(self, user_id: int) -> Result[int]:
        """`/dashboard off`: an officer ends every session (and every unused link)."""
        if not self.reach.directory.is_officer(user_id):
            await self.audit.refused(user_id, Attempt.DASHBOARD, detail={"off": True})
            return refused(Refusal.NOT_OFFICER)
        async with self.db.write() as tx:
            ended = await self.store.end_all(tx, self.clock.now())
            await self.audit.record(
                tx, Act.DASHBOARD_OFF, actor_id=user_id, role=Role.OFFICER, detail={"ended": ended}
            )
        return done(ended)

    # -- what a viewer sees ------------------------------------------------------------------
    def _sees(self, viewer: Viewer, tip: Tip) -> bool:
        return viewer.role is Role.OFFICER or tip.group_key == viewer.group_key

    async def open_tips(
        self, viewer: Viewer, etas: dict[int, dt.datetime] | None = None
    ) -> list[tuple[Tip, Marker]]:
        """The open tips the viewer may see, each with its marker (the arrival time the
        claimer gave, or one from ``etas`` by tip id)."""
        now = self.clock.now()
        tips = await self.tips.open(None if viewer.role is Role.OFFICER else viewer.group_key)
        return [
            (tip, marker(tip, now, self.rules, (etas or {}).get(tip.id) or tip.eta_at))
            for tip in tips
            if self._sees(viewer, tip)
        ]

    async def detail(self, viewer: Viewer, tip_id: int) -> Result[TipDetail]:
        """A tip's details; every view is written to the event log."""
        tip = await self.tips.get(tip_id)
        if tip is None:
            return refused(Refusal.NO_TIP)
        if not self._sees(viewer, tip):
            await self.audit.refused(viewer.user_id, Attempt.DASHBOARD, tip_id=tip.id)
            return refused(Refusal.NOT_ALLOWED)
        now = self.clock.now()
        async with self.db.write() as tx:
            await self.events.note(
                tx, tip.id, viewer.user_id, viewer.role, Act.DASHBOARD_VIEW, now, None
            )
        context = await self.cards.context(tip)
        media = await self.media.of(tip.id)
        return done(TipDetail(tip, context, marker(tip, now, self.rules), media))

    async def media_file(self, viewer: Viewer, tip_id: int, media_id: int) -> str | None:
        """The Telegram file id of one of a tip's media, if the viewer may see that tip."""
        tip = await self.tips.get(tip_id)
        if tip is None or not self._sees(viewer, tip):
            return None
        for row in await self.media.of(tip.id):
            if row["id"] == media_id:
                return str(row["file_id"])
        return None

    async def act(self, viewer: Viewer, tip_id: int, action: WebAction) -> Result[Tip]:
        """An officer's action, through the same services as the Telegram buttons."""
        if not viewer.may_act:
            await self.audit.refused(viewer.user_id, Attempt.DASHBOARD, tip_id=tip_id)
            return refused(Refusal.NOT_OFFICER)
        if action is WebAction.COPY:
            return await self.field.show_card(tip_id, viewer.user_id, viewer.user_id)
        if action is WebAction.RELEASE:
            return await self.field.act(tip_id, Action.RELEASE, viewer.user_id)
        if action is WebAction.ESCALATE:
            widened = await self.escalator.widen_now(tip_id)
            if widened is None:
                return refused(Refusal.WRONG_STATE)
            async with self.db.write() as tx:
                await self.events.note(
                    tx, tip_id, viewer.user_id, Role.OFFICER, Act.DASHBOARD_ESCALATE,
                    self.clock.now(), None,
                )
            return done(widened)
        return await self.field.act(tip_id, Action.CLOSE, viewer.user_id, outcome=Outcome.INVALID)
