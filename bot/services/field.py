"""The patrol's side: claim, release, go, arrive, close with an outcome, attach evidence."""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum

from bot.db import journal
from bot.domain.tips import (
    Action,
    Actor,
    Outcome,
    Refusal,
    Role,
    Supply,
    Tip,
    decide,
)
from bot.services import notify
from bot.services.base import Deps
from bot.services.rewards import RewardService

#: Reporter notices: which transitions a reporter hears about, and with which message.
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


class ActError(StrEnum):
    NO_TIP = "no_tip"
    NOT_ALLOWED = "not_allowed"
    WRONG_STATE = "wrong_state"
    BAD_OUTCOME = "bad_outcome"
    BAD_DUPLICATE = "bad_duplicate"
    RACE = "race"  # someone else changed the tip first


_ERRORS = {
    Refusal.NOT_ALLOWED: ActError.NOT_ALLOWED,
    Refusal.WRONG_STATE: ActError.WRONG_STATE,
    Refusal.BAD_OUTCOME: ActError.BAD_OUTCOME,
}


@dataclass(frozen=True)
class ActResult:
    tip: Tip | None
    error: ActError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


class EvidenceResult(StrEnum):
    ADDED = "added"
    ALREADY = "already"
    NOT_A_CARD = "not_a_card"
    NOT_ALLOWED = "not_allowed"


class FieldService:
    def __init__(self, deps: Deps, rewards: RewardService) -> None:
        self.d = deps
        self.rewards = rewards

    def actor(self, tip: Tip, user_id: int, widened: bool = False) -> Actor:
        """The roles ``user_id`` holds towards this tip (from the configured directory).

        ``widened``: the tip went unclaimed long enough that every patrol group was alerted
        (second escalation); then a member of any group may take it on.
        """
        roles: set[Role] = set()
        directory = self.d.directory
        if directory.is_officer(user_id):
            roles.add(Role.OFFICER)
        try:
            team = directory.team(tip.group_key)
        except KeyError:
            team = None
        if team is not None:
            if team.leader == user_id:
                roles.add(Role.LEADER)
            if team.includes(user_id):
                roles.add(Role.MEMBER)
        if widened and directory.team_of(user_id) is not None:
            roles.add(Role.MEMBER)
        if tip.claimed_by == user_id and roles:
            roles.add(Role.CLAIMER)
        return Actor(user_id, frozenset(roles))

    async def actor_now(self, tip: Tip, user_id: int) -> Actor:
        """:meth:`actor`, looking up whether the tip was widened when that could matter."""
        actor = self.actor(tip, user_id)
        if not actor.is_staff and self.d.directory.team_of(user_id) is not None:
            if await self.d.repo.count_events(tip.id, "escalate_2"):
                return self.actor(tip, user_id, widened=True)
        return actor

    async def check(
        self, tip: Tip, user_id: int, action: Action, outcome: Outcome | None = None
    ) -> ActError | None:
        """Would ``act`` be allowed? (For buttons that open a picker.) Records refusals."""
        actor = await self.actor_now(tip, user_id)
        decision = decide(action, tip.state, actor, outcome)
        if decision:
            return None
        error = _ERRORS[decision.refusal or Refusal.NOT_ALLOWED]
        await self._record_refusal(tip, actor, action, error, outcome)
        return error

    async def refresh_card(self, tip_id: int) -> None:
        """Queue an edit so every copy of the card shows the tip's current state."""
        async with self.d.db.write() as tx:
            await notify.refresh_card(self.d, tx, tip_id)
        self.d.wake()

    async def act(
        self,
        tip_id: int,
        action: Action,
        user_id: int,
        *,
        outcome: Outcome | None = None,
        supplies: frozenset[Supply] = frozenset(),
        duplicate_of: int | None = None,
    ) -> ActResult:
        """Compare-and-set on the tip's state and version: applied once. A replay after a
        crash that came after the commit answers "done" again (the ``act`` effect)."""
        tip = await self.d.repo.get_tip(tip_id)
        if tip is None:
            return ActResult(None, ActError.NO_TIP)
        if journal.applied("act") is not None:
            return ActResult(tip)
        actor = await self.actor_now(tip, user_id)
        decision = decide(action, tip.state, actor, outcome)
        now = self.d.now()
        if not decision:
            error = _ERRORS[decision.refusal or Refusal.NOT_ALLOWED]
            await self._record_refusal(tip, actor, action, error, outcome)
            return ActResult(tip, error)
        if outcome is Outcome.DUPLICATE:
            original = await self.d.repo.get_tip(duplicate_of) if duplicate_of else None
            if original is None or original.id == tip.id or original.duplicate_of == tip.id:
                return ActResult(tip, ActError.BAD_DUPLICATE)
        assert decision.target is not None
        changes: dict[str, object] = {"state": decision.target, "updated_at": now}
        if action is Action.CLAIM:
            changes |= {"claimed_by": user_id, "claimed_at": now}
        elif action is Action.RELEASE:
            # Back in the queue: the escalation clock starts again.
            changes |= {"claimed_by": None, "claimed_at": None, "dispatched_at": now}
        elif action is Action.ARRIVE:
            changes |= {"arrived_at": now}
        elif action is Action.CLOSE:
            changes |= {"outcome": outcome, "closed_at": now, "closed_by": user_id}
            if outcome is Outcome.SUPPLIES_ONLY:
                changes["supplies"] = supplies
            if outcome is Outcome.DUPLICATE:
                changes["duplicate_of"] = duplicate_of
        role = actor.primary_role()
        async with self.d.db.write() as tx:
            if outcome is Outcome.DUPLICATE and await self._leads_to(duplicate_of, tip.id):
                # A→B→…→A: no tip would own the incident. Checked inside the transaction so
                # that two members merging two tips into each other at once cannot both win.
                return ActResult(tip, ActError.BAD_DUPLICATE)
            changed = await self.d.repo.update_tip(
                tx, tip.id, expect_state=tip.state, expect_version=tip.version, changes=changes
            )
            if not changed:
                # Two members pressed at once: the first one won; nothing happens for the second.
                return ActResult(await self.d.repo.get_tip(tip.id), ActError.RACE)
            detail: dict[str, object] = {}
            if outcome is not None:
                detail["outcome"] = outcome.value
            if supplies:
                detail["supplies"] = sorted(s.value for s in supplies)
            if duplicate_of:
                detail["duplicate_of"] = duplicate_of
            await self.d.repo.add_event(
                tx,
                tip_id=tip.id,
                actor_id=user_id,
                actor_role=role.value if role else None,
                action=action.value,
                from_state=tip.state.value,
                to_state=decision.target.value,
                now=now,
                detail=detail or None,
            )
            await notify.refresh_card(self.d, tx, tip.id, now=now)
            await self._notify_reporter(tx, tip, action, outcome, now)
            if action is Action.CLAIM:
                await self._ensure_full_card(tx, tip, now)
            if action is Action.CLOSE and outcome is not None:
                closed = replace(
                    tip, state=decision.target, outcome=outcome, duplicate_of=duplicate_of
                )
                await self.rewards.on_tip_closed(tx, closed, outcome, user_id, now)
            await journal.record(tx, "act", tip.id)
        self.d.wake()
        return ActResult(await self.d.repo.get_tip(tip.id))

    async def _leads_to(self, start: int | None, target: int) -> bool:
        """Does following ``duplicate_of`` from tip ``start`` reach tip ``target``?"""
        seen: set[int] = set()
        current = await self.d.repo.get_tip(start) if start else None
        while current is not None and current.id not in seen:
            if current.id == target:
                return True
            seen.add(current.id)
            nxt = current.duplicate_of
            current = await self.d.repo.get_tip(nxt) if nxt else None
        return False

    async def _ensure_full_card(self, tx, tip: Tip, now) -> None:
        """A tip claimed from a digest gets its full card (place, pin, photo) in the group."""
        team = self.d.directory.team(tip.group_key)
        if await self.d.repo.messages_of(tip.id, kind="card", chat_id=team.chat_id):
            return
        if await self.d.repo.pending_outbox("card", tip.id):
            return
        await notify.post_card(self.d, tx, team.chat_id, tip.id, now=now)

    async def post_full_card(self, tip: Tip, chat_id: int, user_id: int) -> bool:
        """Anyone who may act on the tip can have its full card posted where they are."""
        actor = await self.actor_now(tip, user_id)
        if not actor.is_staff:
            await self.record_denied(tip.id, user_id, "full_card")
            return False
        # Already here once: a fresh copy at the bottom of the chat.
        copy = bool(await self.d.repo.messages_of(tip.id, kind="card", chat_id=chat_id))
        async with self.d.db.write() as tx:
            await notify.post_card(self.d, tx, chat_id, tip.id, copy=copy)
        self.d.wake()
        return True

    async def _notify_reporter(
        self, tx, tip: Tip, action: Action, outcome: Outcome | None, now
    ) -> None:
        reporter = await self.d.repo.reporter_of(tip.id)
        if reporter is None:
            return
        if action is Action.CLAIM:
            # Only the first claim is news to the reporter; a re-claim after release is not.
            if await self.d.repo.count_events(tip.id, Action.CLAIM.value) > 1:
                return
            key = "notice.claimed"
        elif action is Action.CLOSE and outcome is not None:
            key = _REPORTER_NOTICE_ON_CLOSE[outcome]
        else:
            return
        await notify.tell(self.d, tx, reporter, key, {"code": tip.code}, tip_id=tip.id, now=now)

    async def _record_refusal(
        self, tip: Tip, actor: Actor, action: Action, error: ActError, outcome: Outcome | None
    ) -> None:
        role = actor.primary_role()
        async with self.d.db.write() as tx:
            await self.d.repo.add_event(
                tx,
                tip_id=tip.id,
                actor_id=actor.user_id,
                actor_role=role.value if role else "stranger",
                action=f"refused:{action.value}",
                from_state=tip.state.value,
                to_state=None,
                now=self.d.now(),
                detail={"reason": error.value, **({"outcome": outcome.value} if outcome else {})},
            )

    async def record_denied(self, tip_id: int | None, user_id: int, what: str) -> None:
        """Record an attempt that never reached a tip (forged button, staff-only command)."""
        async with self.d.db.write() as tx:
            await self.d.repo.add_event(
                tx,
                tip_id=tip_id if tip_id and await self.d.repo.get_tip(tip_id) else None,
                actor_id=user_id,
                actor_role="staff" if self.d.directory.is_staff(user_id) else "stranger",
                action=f"refused:{what}"[:64],
                from_state=None,
                to_state=None,
                now=self.d.now(),
            )

    async def attach_evidence(
        self,
        chat_id: int,
        reply_to_message_id: int,
        user_id: int,
        kind: str,
        file_id: str,
        file_unique_id: str | None,
    ) -> tuple[EvidenceResult, Tip | None, int]:
        """A photo/voice/video sent as a reply to one of a tip's messages becomes evidence."""
        tip_id = await self.d.repo.tip_for_message(chat_id, reply_to_message_id)
        tip = await self.d.repo.get_tip(tip_id) if tip_id else None
        if tip is None:
            return EvidenceResult.NOT_A_CARD, None, 0
        actor = await self.actor_now(tip, user_id)
        if not actor.is_staff:
            await self._record_refusal(tip, actor, Action.CLOSE, ActError.NOT_ALLOWED, None)
            return EvidenceResult.NOT_ALLOWED, tip, 0
        now = self.d.now()
        async with self.d.db.write() as tx:
            added = await self.d.repo.add_media(
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
                current = await self.d.repo.get_tip(tip.id) or tip
                await self.d.repo.add_event(
                    tx,
                    tip_id=tip.id,
                    actor_id=user_id,
                    actor_role=(actor.primary_role() or Role.MEMBER).value,
                    action="evidence",
                    from_state=current.state.value,
                    to_state=current.state.value,
                    now=now,
                    detail={"kind": kind},
                )
                await notify.refresh_card(self.d, tx, tip.id, now=now)
        self.d.wake()
        count = await self.d.repo.evidence_count(tip.id)
        return (EvidenceResult.ADDED if added else EvidenceResult.ALREADY), tip, count

    # -- the duty officer's view ------------------------------------------------------------
    async def open_tips(self) -> list[Tip]:
        return await self.d.repo.open_tips()

    async def show_card(self, tip_id: int, chat_id: int, user_id: int) -> bool:
        """Send a live copy of a tip's card (with its buttons) to an officer's private chat."""
        tip = await self.d.repo.get_tip(tip_id)
        if tip is None or not self.d.directory.is_officer(user_id):
            return False
        async with self.d.db.write() as tx:
            await notify.post_card(self.d, tx, chat_id, tip.id, copy=True)
        self.d.wake()
        return True
