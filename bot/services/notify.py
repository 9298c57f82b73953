"""What services put in the outbox — the one way messages leave warmline.

Everything here is written inside the caller's transaction, so a message exists exactly when
the change it announces does; bot/jobs/outbox.py sends it (and retries) afterwards. Messages
to a person are rendered when sent, in that person's language; messages to a group are
rendered now, in the station's language.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from bot.db.repo import SECRET, Tx
from bot.services.base import Deps


async def refresh_card(d: Deps, tx: Tx, tip_id: int, now: dt.datetime | None = None) -> None:
    """Every copy of the tip's card will show its current state (pending edits coalesce)."""
    await d.repo.enqueue(
        tx,
        kind="card_edit",
        chat_id=None,
        tip_id=tip_id,
        payload={},
        now=now or d.now(),
        coalesce=True,
    )


async def post_card(
    d: Deps,
    tx: Tx,
    chat_id: int,
    tip_id: int,
    *,
    copy: bool = False,
    now: dt.datetime | None = None,
) -> None:
    """Post the tip's card in a chat (``copy``: another one, even if the chat has it)."""
    await d.repo.enqueue(
        tx,
        kind="card",
        chat_id=chat_id,
        tip_id=tip_id,
        payload={"copy": True} if copy else {},
        now=now or d.now(),
    )


async def say(
    d: Deps,
    tx: Tx,
    chat_id: int,
    text: str,
    *,
    tip_id: int | None = None,
    reply_to_card: bool = False,
    record: str | None = None,
    now: dt.datetime | None = None,
) -> None:
    """A message already rendered (HTML) — for groups, in the station's language.
    ``record`` keeps the sent message's id under that kind (to recognise replies to it)."""
    payload: dict[str, Any] = {"text": text}
    if reply_to_card:
        payload["reply_to_card"] = True
    if record:
        payload["record"] = record
    await d.repo.enqueue(
        tx, kind="notice", chat_id=chat_id, tip_id=tip_id, payload=payload, now=now or d.now()
    )


async def tell(
    d: Deps,
    tx: Tx,
    user_id: int,
    key: str,
    params: dict[str, Any],
    *,
    tip_id: int | None = None,
    keyboard: str | None = None,
    record: str | None = None,
    suffix_html: str | None = None,
    more: list[tuple[str, dict[str, Any]]] | None = None,
    secret: str | None = None,
    now: dt.datetime | None = None,
) -> int | None:
    """A catalog message for one person, rendered in their language when it is sent.

    ``keyboard`` names a keyboard the notice carries (views.reporter.notice_keyboard);
    ``record`` keeps the sent message's id under that kind (to recognise replies to it);
    ``more`` adds further catalog paragraphs. ``secret`` (a claim secret) is offered to every
    paragraph as the ``{secret}`` placeholder; it is the one plaintext copy, kept only until
    the notice is delivered (or given up): then the outbox removes it from the row (see
    ``Repo.outbox_done``), and only its salted hash remains. Returns the outbox row's id.
    """
    payload: dict[str, Any] = {"key": key, "params": params, "user_id": user_id}
    if keyboard:
        payload["keyboard"] = keyboard
    if record:
        payload["record"] = record
    if suffix_html:
        payload["text_suffix"] = suffix_html
    if more:
        payload["more"] = [{"key": k, "params": p} for k, p in more]
    if secret:
        payload[SECRET] = secret
    return await d.repo.enqueue(
        tx, kind="notice", chat_id=user_id, tip_id=tip_id, payload=payload, now=now or d.now()
    )


async def tell_officers(
    d: Deps,
    tx: Tx,
    key: str,
    params: dict[str, Any],
    *,
    tip_id: int | None = None,
    suffix_html: str | None = None,
    now: dt.datetime | None = None,
) -> None:
    """The same catalog message for every duty officer the bot can still reach."""
    for officer in sorted(d.directory.officers - d.inactive_chats):
        await tell(d, tx, officer, key, params, tip_id=tip_id, suffix_html=suffix_html, now=now)
