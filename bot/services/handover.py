"""The hand-over: at each change of duty the off-going group's unclaimed tips move to the
on-coming group (a new card there), both groups and the officers are told."""

from __future__ import annotations

import datetime as dt

from bot.db.database import Database
from bot.db.schedule import ScheduleStore
from bot.db.tips import TipStore
from bot.domain.events import Act
from bot.domain.outbox import Msg
from bot.domain.roster import Roster
from bot.domain.tips import SYSTEM, State, Tip
from bot.services.notify import Notifier
from bot.services.reach import Reach
from bot.services.tips import Tips


def _codes(tips: list[Tip]) -> str:
    return ", ".join(tip.code for tip in tips) or "—"


class Handover:
    def __init__(
        self,
        db: Database,
        store: TipStore,
        tips: Tips,
        schedule: ScheduleStore,
        notifier: Notifier,
        reach: Reach,
        roster: Roster,
    ) -> None:
        self.db = db
        self.store = store
        self.tips = tips
        self.schedule = schedule
        self.notifier = notifier
        self.reach = reach
        self.roster = roster

    async def run(self, now: dt.datetime, local: dt.datetime) -> None:
        day = self.roster.duty_day(local)
        group = self.roster.on_duty(local)
        stored = await self.schedule.get_setting("duty")
        current = f"{day.isoformat()}|{group}"
        if stored == current:
            return
        directory = self.reach.directory
        async with self.db.write() as tx:
            await self.schedule.set_setting(tx, "duty", current, now)
            if stored is None or not await self.schedule.mark_done(
                tx, "handover", day.isoformat(), now
            ):
                return  # first start: nothing to hand over
            previous = stored.split("|")[1]
            if previous == group or directory.find(previous) is None:
                return
            off, on = directory.team(previous), directory.team(group)
            open_tips = await self.store.open(previous)
            moved = [tip for tip in open_tips if tip.state in (State.NEW, State.DISPATCHED)]
            kept = [tip for tip in open_tips if tip not in moved]
            for tip in moved:
                changes = {"group_key": group, "dispatched_at": now}
                detail = {"from": previous, "to": group}
                if await self.tips.transition(
                    tx, tip, SYSTEM, Act.HANDOVER, tip.state, changes, now, detail=detail
                ):
                    await self.notifier.post_card(tx, on.chat_id, tip.id, now=now)
            off_text = Msg(
                "handover.off",
                {
                    "group": on.name,
                    "moved": len(moved),
                    "moved_codes": _codes(moved),
                    "kept": len(kept),
                    "kept_codes": _codes(kept),
                },
            )
            await self.notifier.say(tx, off.chat_id, off_text, now=now)
            # Read inside this transaction, the moved tips already belong to ``group`` (and
            # have a new version): tell them apart by id.
            moved_ids = {tip.id for tip in moved}
            own = [tip for tip in await self.store.open(group) if tip.id not in moved_ids]
            on_text = Msg(
                "handover.on",
                {
                    "group": off.name,
                    "moved": len(moved),
                    "moved_codes": _codes(moved),
                    "own": len(own),
                },
            )
            await self.notifier.say(tx, on.chat_id, on_text, now=now)
            officer_text = Msg(
                "handover.officer",
                {"off": off.name, "on": on.name, "moved": len(moved), "kept": len(kept)},
            )
            await self.notifier.tell_officers(tx, officer_text, now=now)
