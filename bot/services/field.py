"""The patrol's side: claim, release, go, arrive, close with an outcome, attach evidence."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot import replay
from bot.db.database import Database
from bot.db.messages import MediaStore, MessageStore
from bot.db.outbox import OutboxStore
from bot.db.sql import Tx
from bot.db.tips import TipStore
from bot.domain.access import actor_for
from bot.domain.events import Act, Attempt
from bot.domain.outbox import Kind, MessageKind, Msg
from bot.domain.tips import (
    Action,
    Actor,
    Outcome,
    Role,
    Supply,
    Tip,
    changes_for,
    decide,
    parse_tip_code,
)
from bot.domain.tips import (
    Refusal as TipRefusal,
)
from bot.services.audit import Audit
from bot.services.awards import AwardService
from bot.services.clock import StationClock
from bot.services.followup import FollowUp
from bot.services.notify import Notifier
from bot.services.reach import Reach
from bot.services.result import Refusal, Result, done, from_domain, refused
from bot.services.tips import Tips

#: What the reporter is told when their tip is closed, by outcome.
_REPORTER_NOTICE_ON_CLOSE = {
    Outcome.BROUGHT_IN: "notice.closed_helped",
    Outcome.HOSPITAL: "notice.closed_helped",
    Outcome.SUPPLIES_ONLY: "notice.closed_helped",
    Outcome.FAMILY: "notice.closed_helped",
    Outcome.NOT_FOUND: "notice.closed_not_found",
    Outcome.GONE: "notice.closed_not_found",
    Outcome.DUPLICATE: "notice.closed_duplicate",
    Outcome.INVALID: "notice.closed_invalid",
}


#: Called in a close's transaction with (tx, the tip closed, its outcome, who, now).
CloseHook = Callable[[Tx, Tip, Outcome, int, dt.datetime], Awaitable[None]]


@dataclass(frozen=True)
class Evidence:
    tip: Tip
    count: int  # the tip's evidence so far
    added: bool  # False: this file was attached already


class FieldService:
    def __init__(
        self,
        db: Database,
        tips: Tips,
        store: TipStore,
        messages: MessageStore,
        media: MediaStore,
        outbox: OutboxStore,
        notifier: Notifier,
        awards: AwardService,
        audit: Audit,
        reach: Reach,
        clock: StationClock,
        followup: FollowUp | None = None,
        *,
        on_close: tuple[CloseHook, ...] = (),
    ) -> None:
        self.followup = followup  # the reporter's "still there?" and "not found" follow-ups
        self.db = db
        self.tips = tips
        self.store = store
        self.messages = messages
        self.media = media
        self.outbox = outbox
        self.notifier = notifier
        self.awards = awards
        self.audit = audit
        self.reach = reach
        self.clock = clock
        self.on_close = on_close  # more to do in a close's transaction (issue 13: revisits)

    def actor(self, tip: Tip, user_id: int) -> Actor:
        """The roles ``user_id`` holds towards this tip (bot/domain/access.py)."""
        return actor_for(self.reach.directory, tip, user_id)

    async def tip_for_code(self, text: str, prefix: str) -> Tip | None:
        """The tip a code names (``HS-0042``, ``hs42``, ``#42``, ``42``), if any."""
        tip_id = parse_tip_code(text, prefix)
        return await self.store.get(tip_id) if tip_id else None

    def group_name(self, tip: Tip) -> str:
        return self.reach.directory.team_name(tip.group_key)

    def in_group(self, tip: Tip, user_id: int) -> bool:
        """Is ``user_id`` the leader or a member of the tip's group?"""
        team = self.reach.directory.find(tip.group_key)
        return team is not None and team.includes(user_id)

    async def check(
        self, tip_id: int, user_id: int, action: Action, outcome: Outcome | None = None
    ) -> Result[Tip]:
        """Would :meth:`act` be allowed? (For buttons that open a picker.) Records refusals."""
        tip = await self.store.get(tip_id)
        if tip is None:
            return refused(Refusal.NO_TIP)
        actor = self.actor(tip, user_id)
        decision = decide(action, tip.state, actor, outcome)
        if decision:
            return done(tip)
        return await self._refuse(tip, actor, action, decision.refusal, outcome)

    async def allowed(self, tip: Tip, user_id: int, what: Attempt) -> bool:
        """Is ``user_id`` one of those who may act on the tip at all? (Records a refusal.)"""
        if self.actor(tip, user_id).is_staff:
            return True
        await self.audit.refused(user_id, what, tip_id=tip.id)
        return False

    async def may_act(self, tip_id: int, user_id: int, what: Attempt) -> Result[Tip]:
        """:meth:`allowed`, for a tip by its id."""
        tip = await self.store.get(tip_id)
        if tip is None:
            return refused(Refusal.NO_TIP)
        if not await self.allowed(tip, user_id, what):
            return refused(Refusal.NOT_ALLOWED, tip)
        return done(tip)

    async def refresh_card(self, tip_id: int) -> None:
        """Queue an edit so every copy of the card shows the tip's current state."""
        async with self.db.write() as tx:
            await self.notifier.refresh_card(tx, tip_id)

    async def act(
        self,
        tip_id: int,
        action: Action,
        user_id: int,
        *,
        outcome: Outcome | None = None,
        supplies: frozenset[Supply] = frozenset(),
        duplicate_of: int | None = None,
    ) -> Result[Tip]:
        """Compare-and-set on the tip's state and version: applied once. A replay after a
        crash that came after the commit answers "done" again (the ``act`` effect)."""
        tip = await self.store.get(tip_id)
        if tip is None:
            return refused(Refusal.NO_TIP)
        if replay.applied("act") is not None:
            return done(tip)
        actor = self.actor(tip, user_id)
        decision = decide(action, tip.state, actor, outcome)
        if not decision:
            return await self._refuse(tip, actor, action, decision.refusal, outcome)
        if outcome is Outcome.DUPLICATE:
            original = await self.store.get(duplicate_of) if duplicate_of else None
            if original is None or original.id == tip.id or original.duplicate_of == tip.id:
                return refused(Refusal.BAD_DUPLICATE, tip)
        assert decision.target is not None
        now = self.clock.now()
        changes = changes_for(
            action, tip, user_id, now, outcome=outcome, supplies=supplies, duplicate_of=duplicate_of
        )
        detail: dict[str, object] = {}
        if outcome is not None:
            detail["outcome"] = outcome.value
        if supplies:
            detail["supplies"] = sorted(s.value for s in supplies)
        if duplicate_of:
            detail["duplicate_of"] = duplicate_of
        async with self.db.write() as tx:
            if outcome is Outcome.DUPLICATE and await self._leads_to(duplicate_of, tip.id):
                # A→B→…→A: no tip would own the incident. Checked inside the transaction so
                # that two members merging two tips into each other at once cannot both win.
                return refused(Refusal.BAD_DUPLICATE, tip)
            after = await self.tips.transition(
                tx, tip, actor, action, decision.target, changes, now, detail=detail
            )
            if after is None:
                # Two members pressed at once: the first one won; nothing happens for the second.
                return refused(Refusal.RACE, await self.store.get(tip.id))
            await self._notify_reporter(tx, tip, action, outcome, now)
            if action is Action.CLAIM:
                await self._ensure_full_card(tx, tip, now)
            if action is Action.CLOSE and outcome is not None:
                await self.awards.on_tip_closed(tx, after, outcome, user_id, now)
                for hook in self.on_close:
                    await hook(tx, after, outcome, user_id, now)
            if self.followup is not None:
                await self.followup.after_act(tx, after, action, outcome, now)
            await replay.record(tx, "act", tip.id)
        return done(after)

    async def _leads_to(self, start: int | None, target: int) -> bool:
        """Does following ``duplicate_of`` from tip ``start`` reach tip ``target``?"""
        seen: set[int] = set()
        current = await self.store.get(start) if start else None
        while current is not None and current.id not in seen:
            if current.id == target:
                return True
            seen.add(current.id)
            nxt = current.duplicate_of
            current = await self.store.get(nxt) if nxt else None
        return False

    async def _ensure_full_card(self, tx: Tx, tip: Tip, now: dt.datetime) -> None:
        """A tip claimed from a digest gets its full card (place, pin, photo) in the group."""
        team = self.reach.directory.team(tip.group_key)
        if await self.messages.of(tip.id, kind=MessageKind.CARD, chat_id=team.chat_id):
            return
        if await self.outbox.pending(Kind.CARD, tip.id):
            return
        await self.notifier.post_card(tx, team.chat_id, tip.id, now=now)

    async def post_full_card(self, tip_id: int, chat_id: int, user_id: int) -> Result[Tip]:
        """Anyone who may act on the tip can have its full card posted where they are."""
        allowed = await self.may_act(tip_id, user_id, Attempt.FULL_CARD)
        if not allowed.ok:
            return allowed
        tip = allowed.value
        assert tip is not None
        # Already here once: a fresh copy at the bottom of the chat.
        copy = bool(await self.messages.of(tip.id, kind=MessageKind.CARD, chat_id=chat_id))
        async with self.db.write() as tx:
            await self.notifier.post_card(tx, chat_id, tip.id, copy=copy)
        return done(tip)

    async def _notify_reporter(
        self, tx: Tx, tip: Tip, action: Action, outcome: Outcome | None, now: dt.datetime
    ) -> None:
        reporter = await self.store.reporter_of(tip.id)
        if reporter is None:
            return
        if action is Action.CLAIM:
            # Only the first claim is news to the reporter; a re-claim after release is not.
            if tip.first_claimed_at is not None:
                return
            key = "notice.claimed"
        elif action is Action.CLOSE and outcome is not None:
            key = _REPORTER_NOTICE_ON_CLOSE[outcome]
        else:
            return
        await self.notifier.tell(tx, reporter, Msg(key, {"code": tip.code}), tip_id=tip.id, now=now)

    async def _refuse(
        self,
        tip: Tip,
        actor: Actor,
        action: Action,
        refusal: TipRefusal | None,
        outcome: Outcome | None,
    ) -> Result[Tip]:
        why = from_domain(refusal or TipRefusal.NOT_ALLOWED)
        await self.audit.refused(
            actor.user_id or 0,
            action,
            tip_id=tip.id,
            actor=actor,
            from_state=tip.state,
            reason=why,
            detail={"outcome": outcome.value} if outcome else None,
        )
        return refused(why, tip)

    async def attach_evidence(
        self,
        chat_id: int,
        reply_to_message_id: int,
        user_id: int,
        kind: str,
        file_id: str,
        file_unique_id: str | None,
    ) -> Result[Evidence]:
        """A photo/voice/video sent as a reply to one of a tip's messages becomes evidence."""
        tip_id = await self.messages.tip_of(chat_id, reply_to_message_id)
        tip = await self.store.get(tip_id) if tip_id else None
        if tip is None:
            return refused(Refusal.NOT_A_CARD)
        actor = self.actor(tip, user_id)
        if not actor.is_staff:
            await self._refuse(tip, actor, Action.CLOSE, TipRefusal.NOT_ALLOWED, None)
            return refused(Refusal.NOT_ALLOWED, Evidence(tip, 0, False))
        now = self.clock.now()
        async with self.db.write() as tx:
            added = await self.media.add(
                tx,
                tip_id=tip.id,
                kind=kind,
                file_id=file_id,
                file_unique_id=file_unique_id,
                added_by=user_id,
                now=now,
            )
            if added:
                # The state now, not when the reply came in: a claim may have committed since,
                # and the event log must read as one unbroken chain of states.
                current = await self.store.get(tip.id) or tip
                role = actor.primary_role() or Role.MEMBER
                await self.tips.note(
                    tx,
                    current,
                    user_id,
                    role,
                    Act.EVIDENCE,
                    now,
                    detail={"kind": kind},
                    refresh=True,
                )
        count = await self.media.evidence_count(tip.id)
        return done(Evidence(tip, count, added))

    # -- the duty officer's view ------------------------------------------------------------
    async def open_tips(self) -> list[Tip]:
        return await self.store.open()

    async def show_card(self, tip_id: int, chat_id: int, user_id: int) -> Result[Tip]:
        """Send a live copy of a tip's card (with its buttons) to an officer's private chat."""
        tip = await self.store.get(tip_id)
        if tip is None:
            return refused(Refusal.NO_TIP)
        if not self.reach.directory.is_officer(user_id):
            await self.audit.refused(user_id, Attempt.SHOW, tip_id=tip.id)
            return refused(Refusal.NOT_OFFICER, tip)
        async with self.db.write() as tx:
            await self.notifier.post_card(tx, chat_id, tip.id, copy=True)
        return done(tip)
