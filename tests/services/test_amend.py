"""Adding to a submitted tip (bot/services/amend.py), driven alone: who may, until when, what
is written (one transaction: the addition, the flags, the event, the card, the photo)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from bot.db.webreports import WebReportStore
from bot.domain.draft import Source
from bot.domain.events import Act
from bot.domain.outbox import CardEdit, Keyboard, Notice
from bot.domain.spots import Spot
from bot.domain.tips import Flag, Outcome, State
from bot.domain.webreport import web_reporter_id
from bot.services.amend import Additions, Amender
from bot.services.maintenance import purge
from bot.services.result import Refusal
from tests.services.kit import G1_CHAT, REPORTER, REPORTER2, keys_of, kit


async def test_words_a_flag_and_a_photo_are_added_with_event_card_and_photo(
    tmp_path: Path,
) -> None:
    async with kit(tmp_path) as k:
        tip = await k.report()
        amend = k.services.amend
        before = len(await k.queued(G1_CHAT))
        result = await amend.amend(tip.id, Amender(REPORTER), Additions(words="  往  磁湖走了 "))
        assert result.ok and result.value is not None and not result.value.became_urgent
        k.clock.advance(minutes=3)
        result = await amend.amend(
            tip.id,
            Amender(REPORTER),
            Additions(photo_file_id="photo-1", photo_unique_id="u-1", flags=frozenset({Flag.ILL})),
        )
        assert result.ok and result.value is not None
        assert result.value.became_urgent and result.value.added_flags == {Flag.ILL}
        now = await k.repo.tips.get(tip.id)
        assert now.flags == {Flag.ILL} and now.urgent and now.state is State.DISPATCHED
        assert now.version == tip.version + 1  # the flags changed the row; the words did not
        rows = await k.repo.amendments.of(tip.id)
        assert [(a.words, a.photo, a.flags) for a in rows] == [
            ("往 磁湖走了", False, frozenset()),
            (None, True, frozenset({Flag.ILL})),
        ]
        events = [e for e in await k.repo.events.of(tip.id) if e["action"] == Act.AMEND]
        assert [(e["actor_id"], e["actor_role"]) for e in events] == [(REPORTER, "reporter")] * 2
        assert all("磁湖" not in (e["detail"] or "") for e in events)  # words only in their table
        media = await k.repo.media.of(tip.id)
        assert [(m["kind"], m["file_id"]) for m in media] == [("report_photo", "photo-1")]
        queued = (await k.queued(G1_CHAT))[before:]
        photos = [i.message for i in queued if isinstance(i.message, Notice)]
        assert [(n.photo, n.reply_to_card) for n in photos] == [("photo-1", True)]
        edits = [i for i in await k.queued() if isinstance(i.message, CardEdit)]
        assert edits  # the card is refreshed (pending edits coalesce)


async def test_only_its_reporter_only_while_open_only_in_the_window(tmp_path: Path) -> None:
    async with kit(tmp_path) as k:
        amend = k.services.amend
        words = Additions(words="还在")
        tip = await k.report()
        assert (await amend.amend(tip.id, Amender(REPORTER2), words)).refusal is Refusal.NOT_YOURS
        assert (await amend.amend(999, Amender(REPORTER), words)).refusal is Refusal.NO_TIP
        nothing = await amend.amend(tip.id, Amender(REPORTER), Additions(words=" \n "))
        assert nothing.refusal is Refusal.INCOMPLETE
        # A web reporter the caller identified (no Telegram id) may add too.
        assert (await amend.amend(tip.id, Amender(None), words)).ok
        k.clock.advance(minutes=30)
        assert (await amend.amend(tip.id, Amender(REPORTER), words)).ok  # the last minute
        k.clock.advance(seconds=1)
        late = await amend.amend(tip.id, Amender(REPORTER), words)
        assert late.refusal is Refusal.TOO_LATE
        assert (await amend.check(tip.id, Amender(REPORTER))).refusal is Refusal.TOO_LATE

        other = await k.report(user=REPORTER2, where=(30.25, 115.10))
        await k.close(other, Outcome.BROUGHT_IN)
        closed = await amend.amend(other.id, Amender(REPORTER2), words)
        assert closed.refusal is Refusal.CLOSED
        assert len(await k.repo.amendments.of(tip.id)) == 2
        assert await k.repo.amendments.of(other.id) == []


async def test_amend_minutes_zero_turns_it_off(tmp_path: Path) -> None:
    async with kit(tmp_path, "[reporting]\namend_minutes = 0\n") as k:
        tip = await k.report()
        assert await k.told(REPORTER) == ["submit.received"]  # no offer
        (receipt,) = [i.message for i in await k.queued(REPORTER)]
        assert isinstance(receipt, Notice) and "amend.offer" not in keys_of(receipt)
        # No button to carry: the receipt takes off any 📍 keyboard left, as it always did.
        assert not receipt.amend_button and receipt.keyboard is Keyboard.REMOVE
        result = await k.services.amend.amend(tip.id, Amender(REPORTER), Additions(words="x"))
        assert result.refusal is Refusal.TOO_LATE


async def test_purge_drops_the_typed_spot_and_the_added_words(tmp_path: Path) -> None:
    async with kit(tmp_path) as k:
        tip = await k.report(spot=Spot.OTHER, spot_text="东门 13912345678")
        words = Additions(words="小梅说往磁湖走了", photo_file_id="p-1")
        assert (await k.services.amend.amend(tip.id, Amender(REPORTER), words)).ok
        await k.close(tip, Outcome.NOT_FOUND)
        k.clock.advance(days=2)
        before = (k.clock() + dt.timedelta(days=1)).date()
        station = k.station
        report = await purge(station.db, k.repo.maintenance, station.audit, station.clock, before)
        assert report.purged == [tip.code]
        purged = await k.repo.tips.get(tip.id)
        assert purged.spot is Spot.OTHER and purged.spot_text is None  # the kind stays
        assert [(a.words, a.photo) for a in await k.repo.amendments.of(tip.id)] == [(None, True)]
        assert await k.repo.media.of(tip.id) == []


async def test_a_web_reporters_receipt_stays_the_page_notice_it_was(tmp_path: Path) -> None:
    """The receipt carries the offer in a chat only: a web reporter's status page shows the
    receipt by its key (and offers additions by its own form), so it stays a plain
    "received" — no keyboard, no button, no claim secret in the notice."""
    async with kit(tmp_path) as k:
        user = web_reporter_id(1)
        tip = await k.report(user=user, source=Source.WEB)
        notices = await WebReportStore(k.station.db).notices(tip.id)
        assert [n.payload["notice"]["key"] for n in notices] == ["submit.received", "amend.offer"]
        assert all(set(n.payload) == {"notice"} for n in notices)
        assert await k.queued(user) == []  # nothing for Telegram
