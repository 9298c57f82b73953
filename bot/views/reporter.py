"""What the reporter sees at each step of a report, and their list of tips."""

from __future__ import annotations

import zoneinfo
from html import escape

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)

from bot.domain.draft import (
    Choose,
    ChooseSpot,
    Draft,
    Event,
    FlagsDone,
    NoneOfThese,
    SendNow,
    SetPeople,
    SetSeen,
    SkipPhoto,
    SkipWords,
    Source,
    SpotBack,
    SpotDone,
    Step,
)
from bot.domain.spots import SPOT_CHOICES, SPOT_MAX_CHARS, Spot
from bot.domain.tips import FLAG_ORDER, URGENT_FLAGS, Flag, People, Seen, State, Tip
from bot.geo import gazetteer
from bot.i18n import keys, t
from bot.views.callbacks import ReporterButton, ROp
from bot.views.people import join
from bot.views.places import place_line, spot_words, tip_place

Markup = InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove | None


def _b(
    lang: str, key: str, op: ROp, arg: str | None = None, **params: object
) -> InlineKeyboardButton:
    return InlineKeyboardButton(
        t(lang, key, **params), callback_data=ReporterButton(op, arg).data()
    )


def location_keyboard(lang: str) -> ReplyKeyboardMarkup:
    return ReplyKeyboardMarkup(
        [[KeyboardButton(t(lang, "btn.send_location"), request_location=True)]],
        resize_keyboard=True,
        one_time_keyboard=True,
        input_field_placeholder=t(lang, "placeholder.address"),
    )


def place_keyboard(source: Source, lang: str) -> ReplyKeyboardMarkup | ReplyKeyboardRemove:
    """While the place is not settled: the 📍 button — but not for a hotline tip, where the
    officer's own position is not the caller's place (and a leftover keyboard goes)."""
    return ReplyKeyboardRemove() if source is Source.HOTLINE else location_keyboard(lang)


def not_an_answer_keyboard(question_id: int, in_progress: bool, lang: str) -> InlineKeyboardMarkup:
    """Under "your answer was passed on" when it was typed without "reply": the way out."""
    key = "btn.not_answer_continue" if in_progress else "btn.not_answer_new"
    return InlineKeyboardMarkup([[_b(lang, key, ROp.NOT_ANSWER, str(question_id))]])


def start_keyboard(lang: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[_b(lang, "btn.report", ROp.REPORT)]])


def language_keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[_b("zh", "lang.name", ROp.LANG, "zh"), _b("en", "lang.name", ROp.LANG, "en")]]
    )


def prompt(draft: Draft, lang: str) -> tuple[str, Markup]:
    """The question for the draft's current step and its buttons."""
    step = draft.step
    if step is Step.LOCATION:
        key = "ask.location_hotline" if draft.source is Source.HOTLINE else "ask.location"
        return t(lang, key), place_keyboard(draft.source, lang)
    if step is Step.CONFIRM_PLACE:
        rows = [
            [
                _b(
                    lang,
                    "btn.place_yes" if i == 0 else "btn.place_other",
                    ROp.PLACE,
                    str(i),
                    label=label[:40],
                )
            ]
            for i, (_lat, _lon, label) in enumerate(draft.candidates)
        ]
        rows.append([_b(lang, "btn.place_none", ROp.PLACE, "none")])
        return t(lang, "ask.confirm_place"), InlineKeyboardMarkup(rows)
    if step is Step.SPOT:
        return spot_prompt(draft, lang), spot_keyboard(draft, lang)
    if step is Step.SPOT_TEXT:
        return t(lang, "ask.spot_text", limit=SPOT_MAX_CHARS), InlineKeyboardMarkup(
            [[_b(lang, "btn.spot_back", ROp.SPOT_BACK)]]
        )
    if step is Step.AMEND:
        return t(lang, "amend.ask"), amend_keyboard(lang)
    if step is Step.SEEN:
        return t(lang, "ask.seen"), InlineKeyboardMarkup(
            [[_b(lang, keys.SEEN[s], ROp.SEEN, s.value)] for s in Seen]
        )
    if step is Step.PEOPLE:
        return t(lang, "ask.people"), InlineKeyboardMarkup(
            [[_b(lang, keys.PEOPLE[p], ROp.PEOPLE, p.value) for p in People]]
        )
    if step is Step.FLAGS:
        return t(lang, "ask.flags"), flags_keyboard(draft, lang)
    if step is Step.DESCRIPTION:
        return t(lang, "ask.description"), InlineKeyboardMarkup(
            [[_b(lang, "btn.skip", ROp.SKIP_DESC)]]
        )
    if step is Step.PHOTO:
        return t(lang, "ask.photo"), InlineKeyboardMarkup([[_b(lang, "btn.skip", ROp.SKIP_PHOTO)]])
    return review(draft, lang), InlineKeyboardMarkup(
        [[_b(lang, "btn.submit", ROp.SUBMIT)], [_b(lang, "btn.cancel_report", ROp.CANCEL)]]
    )


#: The flags the message after the place offers (the urgent ones: one tap from the advice).
SPOT_FLAGS = tuple(f for f in FLAG_ORDER if f in URGENT_FLAGS)


def spot_prompt(draft: Draft, lang: str) -> str:
    """The message after the place: where exactly, and "send now" for who has seconds."""
    text = t(lang, "ask.spot")
    where = spot_words(draft.spot, draft.spot_text, lang)
    if where:
        text = t(lang, "spot.chosen", spot=where) + "\n" + text
    return text


def _flag_button(draft: Draft, flag: Flag, lang: str) -> InlineKeyboardButton:
    mark = "✅ " if flag in draft.flags else "▫️ "
    return InlineKeyboardButton(
        mark + t(lang, keys.FLAG[flag]), callback_data=ReporterButton(ROp.FLAG, flag.value).data()
    )


def spot_keyboard(draft: Draft, lang: str) -> InlineKeyboardMarkup:
    """ "⚡ send now" first; the exact spot's choices (two a row, the chosen one ticked);
    the urgent flags; "more details" (the full path, which is also the skip)."""
    rows = [[_b(lang, "btn.send_now", ROp.NOW)]]
    row: list[InlineKeyboardButton] = []
    for spot in SPOT_CHOICES:
        mark = "✅ " if spot is draft.spot and spot is not Spot.OTHER else ""
        row.append(
            InlineKeyboardButton(
                mark + t(lang, keys.SPOT[spot]),
                callback_data=ReporterButton(ROp.SPOT, spot.value).data(),
            )
        )
        if len(row) == 2:
            rows.append(row)
            row = []
    if row:
        rows.append(row)
    rows.append([_flag_button(draft, flag, lang) for flag in SPOT_FLAGS])
    more = "btn.spot_more" if draft.spot or draft.spot_text else "btn.spot_skip"
    rows.append([_b(lang, more, ROp.SPOT_DONE)])
    return InlineKeyboardMarkup(rows)


def amend_keyboard(lang: str) -> InlineKeyboardMarkup:
    """While adding to a submitted tip: the flags (added, never taken off) and "done"."""
    rows = [
        [
            InlineKeyboardButton(
                "➕ " + t(lang, keys.FLAG[flag]),
                callback_data=ReporterButton(ROp.FLAG, flag.value).data(),
            )
            for flag in FLAG_ORDER[i : i + 2]
        ]
        for i in range(0, len(FLAG_ORDER), 2)
    ]
    rows.append([_b(lang, "btn.amend_done", ROp.AMEND_DONE)])
    return InlineKeyboardMarkup(rows)


def flags_keyboard(draft: Draft, lang: str) -> InlineKeyboardMarkup:
    rows = []
    for flag in FLAG_ORDER:
        mark = "✅ " if flag in draft.flags else "▫️ "
        rows.append(
            [
                InlineKeyboardButton(
                    mark + t(lang, keys.FLAG[flag]),
                    callback_data=ReporterButton(ROp.FLAG, flag.value).data(),
                )
            ]
        )
    rows.append([_b(lang, "btn.flags_done", ROp.FLAGS_DONE)])
    return InlineKeyboardMarkup(rows)


def review(draft: Draft, lang: str) -> str:
    if draft.lat is None or draft.lon is None:
        place = "—"
    elif spot_words(draft.spot, draft.spot_text, lang) is None and (
        draft.place_label or draft.address
    ):
        place = escape(draft.place_label or draft.address or "")
    else:
        # The exact spot first, then the district; a bare pin: the nearest known place.
        district = gazetteer.describe(draft.lat, draft.lon).district.name(lang)
        place = place_line(
            draft.lat,
            draft.lon,
            draft.place_label,
            None if draft.place_label else draft.address,
            district if draft.place_label or draft.address else None,
            draft.spot,
            draft.spot_text,
            lang,
        )
    flags = [t(lang, keys.FLAG[f]) for f in FLAG_ORDER if f in draft.flags]
    return t(
        lang,
        "review",
        place=place,
        seen=t(lang, keys.SEEN[draft.seen]) if draft.seen else "—",
        people=t(lang, keys.PEOPLE[draft.people]) if draft.people else "—",
        flags=escape(join(lang, flags)) or "—",
        description=escape(draft.description or "—"),
        photo=t(lang, "yes") if draft.photo_file_id else t(lang, "no"),
    )


def choice_echo(lang: str, key: str) -> str:
    """Replaces a step's prompt once answered, so the chat reads as a record."""
    return "✓ " + t(lang, key)


def flags_echo(draft: Draft, lang: str) -> str:
    """The flags prompt once answered: "✓ 老人、衣着单薄", or "✓ 无特殊情况"."""
    chosen = [t(lang, keys.FLAG[f]) for f in FLAG_ORDER if f in draft.flags]
    return "✓ " + (escape(join(lang, chosen)) if chosen else t(lang, "flags.none"))


def echo(event: Event, draft: Draft, lang: str) -> str | None:
    """What replaces the prompt a press answered (``draft``: the report after it); None:
    only its buttons go."""
    match event:
        case Choose():
            return choice_echo(lang, "place.chosen") + f" {escape(draft.place_label or '')}"
        case NoneOfThese():
            return choice_echo(lang, "place.none")
        case SetSeen(seen=seen):
            return choice_echo(lang, keys.SEEN[seen])
        case SetPeople(people=people):
            return choice_echo(lang, keys.PEOPLE[people])
        case FlagsDone():
            return flags_echo(draft, lang)
        case SkipWords():
            return choice_echo(lang, "description.skipped")
        case SkipPhoto():
            return choice_echo(lang, "photo.skipped")
        case ChooseSpot(spot=Spot.OTHER):
            return choice_echo(lang, keys.SPOT[Spot.OTHER])
        case SpotDone() | SendNow():
            where = spot_words(draft.spot, draft.spot_text, lang)
            if where is None:
                return choice_echo(lang, "spot.skipped")
            return "✓ " + t(lang, "spot.chosen", spot=where)
        case SpotBack():
            return None
    return None


#: What an answered question's record line opens with (:func:`choice_echo`).
_RECORD = "✓ "
#: At most this many record lines are kept in one message (a loop of "other" / "back"
#: cannot grow it past Telegram's length limit; the review shows everything anyway).
_RECORD_MAX = 8


def record(shown_html: str | None) -> list[str]:
    """The record lines a message of the report opens with (its answers so far, as HTML)."""
    lines: list[str] = []
    for line in (shown_html or "").split("\n"):
        if not line.startswith(_RECORD):
            break
        lines.append(line)
    return lines


def _recorded(shown_html: str | None, event: Event, draft: Draft, lang: str) -> list[str]:
    """The record lines a pressed message keeps, with this press's answer added."""
    lines = record(shown_html)
    if isinstance(event, SpotBack) and lines[-1:] == [echo(ChooseSpot(Spot.OTHER), draft, lang)]:
        lines = lines[:-1]  # the "✓ other" that "back" takes back
    answer = echo(event, draft, lang)
    if answer is not None:
        lines.append(answer)
    return lines[-_RECORD_MAX:]


def answered(shown_html: str | None, event: Event, draft: Draft, lang: str) -> str | None:
    """The pressed message as a record only (the next question comes as a new message, or
    the report was sent); None: nothing to record (only its buttons go)."""
    return "\n".join(_recorded(shown_html, event, draft, lang)) or None


def next_question(
    shown_html: str | None, event: Event, draft: Draft, lang: str
) -> tuple[str, InlineKeyboardMarkup] | None:
    """The pressed message of the report as the next question, in one edit: the answers it
    showed, this press's answer (:func:`echo`), then the prompt of ``draft``'s step with its
    buttons. None when that prompt cannot ride on an edit (it carries a reply keyboard: the
    📍 button asked again): the caller then sends it as a new message."""
    text, markup = prompt(draft, lang)
    if not isinstance(markup, InlineKeyboardMarkup):
        return None
    if draft.step is Step.REVIEW:
        return text, markup  # the review shows every answer itself
    lines = _recorded(shown_html, event, draft, lang)
    return ("\n".join(lines) + "\n\n" + text if lines else text), markup


def my_tips(
    tips: list[Tip], lang: str, tz: zoneinfo.ZoneInfo, reissuable: frozenset[int] = frozenset()
) -> tuple[str, InlineKeyboardMarkup | None]:
    """The reporter's tips; ``reissuable``: ids of tips whose claim secret may be renewed."""
    if not tips:
        return t(lang, "mytips.none"), None
    lines = [t(lang, "mytips.head")]
    buttons = []
    for tip in tips:
        when = tip.created_at.astimezone(tz).strftime("%m-%d %H:%M")
        lines.append(
            t(
                lang,
                "mytips.line",
                code=tip.code,
                when=when,
                state=escape(reporter_state(tip, lang)),
            )
        )
        if tip.spot or tip.spot_text:  # where exactly, as they said it
            lines.append(t(lang, "mytips.place", place=tip_place(tip, lang)))
        if tip.state in (State.NEW, State.DISPATCHED):
            buttons.append([_b(lang, "btn.withdraw", ROp.WITHDRAW, str(tip.id), code=tip.code)])
        if tip.id in reissuable:
            buttons.append([_b(lang, "btn.new_secret", ROp.SECRET, str(tip.id), code=tip.code)])
    if reissuable:
        lines += ["", t(lang, "mytips.secret_hint")]
    return "\n".join(lines), InlineKeyboardMarkup(buttons) if buttons else None


def reporter_state(tip: Tip, lang: str) -> str:
    """The state in plain words, never with more about the person than the reporter gave."""
    if tip.state is State.CLOSED and tip.outcome is not None:
        return t(lang, keys.REPORTER_OUTCOME[tip.outcome])
    return t(lang, keys.REPORTER_STATE[tip.state])
