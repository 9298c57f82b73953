"""The form's and the status page's HTML: server-rendered, small, every word from the catalogs.

Every value is escaped here; catalog texts are trusted (they may hold <b>). The pages work
without JavaScript (the typed-address path); ``report.js`` adds the phone's location and the
map. The urgent advice shows as soon as an urgent flag is ticked by CSS alone (``:has``).
"""

from __future__ import annotations

import json
import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass, field
from html import escape

from bot.db.webreports import WebNotice
from bot.domain.arrival import Presence
from bot.domain.draft import Candidate
from bot.domain.outbox import decode
from bot.domain.rewards import Ineligible, RewardState
from bot.domain.spots import SPOT_CHOICES, SPOT_MAX_CHARS
from bot.domain.tips import FLAG_ORDER, URGENT_FLAGS, People, Seen
from bot.domain.webreport import WORDS_MAX, Problem, WebForm
from bot.geo.gazetteer import PLACES
from bot.i18n import keys, t
from bot.services.webreport import WebStatus
from bot.views import notices
from bot.views.reporter import reporter_state

STATIC = "/report/static"

#: Notices shown on the status page, by their catalog key's start: the tip's progress, the
#: patrol's questions, "still there?" and "not found: can you add anything?" (answered by the
#: page's forms) and the reopening. Reward notices speak of Telegram's buttons; the page shows
#: the reward's state in its own words instead (and the amend offer: its own form).
SHOWN_NOTICES = ("notice.", "ask.question", "submit.received", "still.ask", "reopen.")


@dataclass(frozen=True)
class Site:
    """What every page says: the station, its hotline, the reward."""

    station: str
    hotline: str
    amount: int
    photo_mb: int
    amend_minutes: int
    timezone: str = "Asia/Shanghai"


@dataclass
class FormState:
    """The form as the reporter left it (re-rendered after a lookup or a problem)."""

    form: WebForm | None = None
    candidates: list[Candidate] = field(default_factory=list)
    chosen: Candidate | None = None
    fell_back: bool = False
    not_found: bool = False
    problems: list[Problem] = field(default_factory=list)
    rewards: bool = True  # the campaign pays rewards today (else the form promises none)
    again: bool = False  # not taken (sent too fast, or too long ago): check and send again


def _lang_attr(lang: str) -> str:
    return "en" if lang == "en" else "zh-CN"


def page(lang: str, title: str, body: str, site: Site, *, script: bool = False) -> str:
    scripts = ""
    if script:
        scripts = (
            f'<script src="{STATIC}/vendor/leaflet/leaflet.js" defer></script>'
            f'<script src="{STATIC}/report.js" defer></script>'
        )
    styles = f'<link rel="stylesheet" href="{STATIC}/report.css">'
    if script:
        styles = f'<link rel="stylesheet" href="{STATIC}/vendor/leaflet/leaflet.css">' + styles
    footer = escape(t(lang, "web.footer", station=site.station, hotline=site.hotline))
    return (
        f'<!doctype html><html lang="{_lang_attr(lang)}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="referrer" content="no-referrer">'
        f"<title>{escape(title)}</title>{styles}{scripts}</head><body><main>"
        f"{body}</main><footer>{footer}</footer></body></html>"
    )


def _checked(on: bool) -> str:
    return " checked" if on else ""


def _radio(name: str, value: str, label: str, on: bool, extra: str = "") -> str:
    return (
        f'<label class="choice"><input type="radio" name="{name}" value="{escape(value)}"'
        f"{_checked(on)}{extra}> {label}</label>"
    )


def _problems(lang: str, problems: Iterable[Problem], site: Site) -> str:
    items = []
    for problem in problems:
        limit = SPOT_MAX_CHARS if problem is Problem.SPOT else WORDS_MAX
        text = t(lang, keys.WEB_PROBLEM[problem], limit=limit, mb=site.photo_mb)
        items.append(f"<li>{escape(text)}</li>")
    if not items:
        return ""
    head = escape(t(lang, "web.problems"))
    return f'<div class="problems" role="alert"><p>{head}</p><ul>{"".join(items)}</ul></div>'


def form_page(lang: str, site: Site, token: str, state: FormState) -> str:
    f = state.form
    other = "en" if lang == "zh" else "zh"
    head = (
        f"<header><h1>{escape(t(lang, 'web.title'))}</h1>"
        f'<a class="lang" href="/report/?lang={other}" hreflang="{_lang_attr(other)}">'
        f"{escape(t(lang, 'web.other_language'))}</a></header>"
        f'<p class="intro">{escape(t(lang, "web.intro", station=site.station))}</p>'
        f'<p class="emergency">{escape(t(lang, "web.emergency"))}</p>'
    )
    lat = "" if f is None or f.lat is None else f"{f.lat:.6f}"
    lon = "" if f is None or f.lon is None else f"{f.lon:.6f}"
    where = [
        f'<fieldset id="where"><legend>{escape(t(lang, "web.where"))}</legend>',
        f'<button type="button" id="locate" class="js-only" hidden>'
        f"{escape(t(lang, 'web.use_location'))}</button>",
        '<p id="geo-status" role="status" aria-live="polite"'
        f' data-locating="{escape(t(lang, "web.locating"))}"'
        f' data-denied="{escape(t(lang, "web.location_denied"))}"'
        f' data-set="{escape(t(lang, "web.location_set"))}"></p>',
        f'<div id="map" hidden data-places="{escape(_landmarks(lang))}"></div>',
        f'<input type="hidden" name="lat" id="lat" value="{lat}">',
        f'<input type="hidden" name="lon" id="lon" value="{lon}">',
    ]
    if state.chosen is not None:
        place = escape(t(lang, "web.place_chosen", place=state.chosen[2]))
        value = _candidate_value(state.chosen)
        where.append(f'<p class="chosen">{place}</p>')
        where.append(f'<input type="hidden" name="place" value="{escape(value)}">')
    address = escape(f.address) if f is not None else ""
    where.append(
        f'<label for="address">{escape(t(lang, "web.address"))}</label>'
        f'<div class="row"><input id="address" name="address" value="{address}"'
        ' maxlength="200" autocomplete="street-address">'
        f'<button type="submit" name="action" value="lookup" id="lookup">'
        f"{escape(t(lang, 'web.look_up'))}</button></div>"
    )
    if state.fell_back:
        where.append(f'<p class="note">{escape(t(lang, "address.offline"))}</p>')
    if state.not_found:
        text = t(lang, "address.not_found", hotline=site.hotline)
        where.append(f'<p class="problem" role="alert">{escape(text)}</p>')
    if state.candidates:
        where.append(f'<fieldset id="places"><legend>{escape(t(lang, "web.places"))}</legend>')
        for i, candidate in enumerate(state.candidates):
            value = _candidate_value(candidate)
            where.append(_radio("place", value, escape(candidate[2]), i == 0))
        where.append(_radio("place", "", escape(t(lang, "web.place_none")), False))
        where.append("</fieldset>")
    where.append("</fieldset>")

    spot = f.spot.value if f is not None and f.spot is not None else ""
    spots = [f'<fieldset id="spot"><legend>{escape(t(lang, "web.spot"))}</legend>']
    for choice in SPOT_CHOICES:
        spots.append(
            _radio("spot", choice.value, escape(t(lang, keys.SPOT[choice])), spot == choice)
        )
    spots.append(_radio("spot", "", escape(t(lang, "web.spot_unsure")), not spot))
    spot_text = escape(f.spot_text) if f is not None else ""
    spots.append(
        f'<input name="spot_text" maxlength="{SPOT_MAX_CHARS}" value="{spot_text}"'
        f' aria-label="{escape(t(lang, "web.spot_text", limit=SPOT_MAX_CHARS))}"'
        f' placeholder="{escape(t(lang, "web.spot_text", limit=SPOT_MAX_CHARS))}">'
    )
    spots.append("</fieldset>")

    seen = f.seen if f is not None else None
    seens = [f'<fieldset id="seen"><legend>{escape(t(lang, "web.seen"))}</legend>']
    seens += [_radio("seen", s.value, escape(t(lang, keys.SEEN[s])), seen is s) for s in Seen]
    seens.append("</fieldset>")

    people = f.people if f is not None else None
    peoples = [f'<fieldset id="people"><legend>{escape(t(lang, "web.people"))}</legend>']
    peoples += [
        _radio("people", p.value, escape(t(lang, keys.PEOPLE[p])), people is p) for p in People
    ]
    peoples.append("</fieldset>")

    chosen_flags = f.flags if f is not None else frozenset()
    flags = [f'<fieldset id="flags"><legend>{escape(t(lang, "web.flags"))}</legend>']
    for flag in FLAG_ORDER:
        urgent = " data-urgent" if flag in URGENT_FLAGS else ""
        flags.append(
            f'<label class="choice"><input type="checkbox" name="flag" value="{flag.value}"'
            f"{_checked(flag in chosen_flags)}{urgent}> {escape(t(lang, keys.FLAG[flag]))}"
            "</label>"
        )
    flags.append(f'<p id="urgent-advice" class="urgent">{t(lang, "urgent.advice")}</p>')
    flags.append("</fieldset>")

    words = escape(f.words) if f is not None else ""
    phone = escape(f.phone or "") if f is not None else ""
    rest = (
        f'<fieldset id="more"><label for="words">{escape(t(lang, "web.words"))}</label>'
        f'<p class="hint">{escape(t(lang, "web.words_hint"))}</p>'
        f'<textarea id="words" name="words" rows="3" maxlength="{WORDS_MAX}">{words}</textarea>'
        f'<label for="photo">{escape(t(lang, "web.photo", mb=site.photo_mb))}</label>'
        f'<p class="hint">{escape(t(lang, "web.photo_hint"))}</p>'
        '<input type="file" id="photo" name="photo" accept="image/*">'
        f'<label for="phone">{escape(t(lang, "web.phone"))}</label>'
        f'<p class="hint">{escape(t(lang, "web.phone_hint"))}</p>'
        f'<input type="tel" id="phone" name="phone" value="{phone}" maxlength="20"'
        ' autocomplete="tel" inputmode="tel"></fieldset>'
        # The honeypot: hidden from people (CSS, aria), filled in by form-filling bots.
        f'<div class="hp" aria-hidden="true"><label>{escape(t(lang, "web.trap"))}'
        '<input name="website" tabindex="-1" autocomplete="off"></label></div>'
        + (
            f'<p class="reward">{escape(t(lang, "web.reward_note", amount=site.amount))}</p>'
            if state.rewards
            else ""
        )
        + f'<button type="submit" name="action" value="submit" id="send" class="primary">'
        f"{escape(t(lang, 'web.submit'))}</button>"
    )
    again = (
        f'<p class="problems" role="alert">{escape(t(lang, "web.again"))}</p>'
        if state.again
        else ""
    )
    body = (
        head
        + again
        + _problems(lang, state.problems, site)
        + '<form method="post" action="/report/" enctype="multipart/form-data" id="report">'
        + f'<input type="hidden" name="form" value="{escape(token)}">'
        + f'<input type="hidden" name="lang" value="{lang}">'
        + "".join(where + spots + seens + peoples + flags)
        + rest
        + "</form>"
    )
    return page(lang, t(lang, "web.title"), body, site, script=True)


def _landmarks(lang: str) -> str:
    """The gazetteer's landmarks for the map (there are no tiles: these give the bearings)."""
    places = [
        [round(p.lat, 5), round(p.lon, 5), p.name(lang)] for p in PLACES if p.kind == "landmark"
    ]
    return json.dumps(places, ensure_ascii=False, separators=(",", ":"))


def _candidate_value(candidate: Candidate) -> str:
    lat, lon, label = candidate
    return f"{lat:.6f},{lon:.6f},{label}"


def read_candidate(value: str | None) -> Candidate | None:
    """A place the reporter confirmed (the radio's value); None for "none of these"."""
    if not value:
        return None
    parts = value.split(",", 2)
    if len(parts) != 3:
        return None
    try:
        lat, lon = float(parts[0]), float(parts[1])
    except ValueError:
        return None
    return lat, lon, " ".join(parts[2].split())[:200]


def message_page(lang: str, site: Site, title: str, text: str, *, back: bool = True) -> str:
    link = f'<p><a href="/report/?lang={lang}">{escape(t(lang, "web.back"))}</a></p>'
    body = f"<h1>{escape(title)}</h1><p class='message'>{escape(text)}</p>" + (link if back else "")
    return page(lang, title, body, site)


def done_page(
    lang: str, site: Site, code: str, secret: str, prospect: Ineligible | None, urgent: bool
) -> str:
    """``prospect``: why this tip cannot earn (None: it can). Outside the campaign there is
    no reward to speak of; the monthly cap is said (never promise what the rules cannot give)."""
    reward = ""
    if prospect is None:
        reward = t(lang, "web.done_reward", amount=site.amount)
    elif prospect is Ineligible.MONTHLY_CAP:
        reward = t(lang, "web.done_no_reward")
    advice = f'<p class="urgent shown">{t(lang, "urgent.advice")}</p>' if urgent else ""
    body = (
        f"<h1>{escape(t(lang, 'web.done_title'))}</h1>{advice}"
        f'<div class="ticket"><p id="code">{escape(t(lang, "web.done_code", code=code))}</p>'
        f'<p id="secret">{escape(t(lang, "web.done_secret", secret=secret))}</p></div>'
        f'<p class="save"><b>{escape(t(lang, "web.done_save"))}</b></p>'
        + (f'<p id="reward-note">{escape(reward)}</p>' if reward else "")
        + f'<p><a id="status-link" class="button" href="/t/{escape(code)}?lang={lang}">'
        f"{escape(t(lang, 'web.done_status'))}</a></p>"
    )
    return page(lang, t(lang, "web.done_title"), body, site)


def secret_page(
    lang: str, site: Site, code: str, token: str, *, wrong: bool = False, locked: bool = False
) -> str:
    title = t(lang, "web.status_title", code=code)
    if locked:
        text = escape(t(lang, "web.locked", hotline=site.hotline))
        body = f'<h1>{escape(title)}</h1><p class="problem" role="alert">{text}</p>'
        return page(lang, title, body, site)
    alert = f'<p class="problem" role="alert">{escape(t(lang, "web.wrong"))}</p>' if wrong else ""
    body = (
        f"<h1>{escape(title)}</h1>{alert}<p>{escape(t(lang, 'web.status_ask'))}</p>"
        f'<form method="post" action="/t/{escape(code)}">'
        f'<input type="hidden" name="csrf" value="{escape(token)}">'
        f'<input type="hidden" name="lang" value="{lang}">'
        f'<label for="secret">{escape(t(lang, "web.secret"))}</label>'
        '<input id="secret" name="secret" autocomplete="off" autocapitalize="characters"'
        ' maxlength="20" required>'
        f'<button type="submit" class="primary">{escape(t(lang, "web.open"))}</button></form>'
    )
    return page(lang, title, body, site)


def _reward_words(lang: str, status: WebStatus, site: Site, has_phone: bool) -> str:
    reward = status.reward
    if reward is None:
        words = t(lang, "web.reward_none")
        if not status.tip.is_open:
            words = t(lang, "web.reward_refused")
        return escape(t(lang, "web.reward", state=words))
    state = t(lang, keys.REWARD_STATE[reward.state])
    amount = t(lang, "web.amount", amount=reward.amount)
    line = escape(t(lang, "web.reward", state=f"{state} · {amount}"))
    if reward.state in (RewardState.PENDING, RewardState.APPROVED):
        how = t(lang, "web.reward_phone") if has_phone else t(lang, "web.reward_counter")
        line += f"<br>{escape(how)}"
    return line


def status_page(
    lang: str,
    site: Site,
    status: WebStatus,
    token: str,
    *,
    has_phone: bool,
    said: str | None = None,
) -> str:
    tip = status.tip
    title = t(lang, "web.status_title", code=tip.code)
    tz = zoneinfo.ZoneInfo(site.timezone)
    state = escape(t(lang, "web.state", state=reporter_state(tip, lang)))
    parts = [
        f"<h1>{escape(title)}</h1>",
        f'<p class="said" role="status">{escape(said)}</p>' if said else "",
        f'<p id="state" class="state">{state}</p>',
        f'<p id="reward">{_reward_words(lang, status, site, has_phone)}</p>',
    ]
    shown = [n for n in status.notices if _shown(n)]
    if shown:
        parts.append(f'<h2>{escape(t(lang, "web.messages"))}</h2><ol id="messages">')
        for notice in shown:
            when = notice.created_at.astimezone(tz).strftime("%m-%d %H:%M")
            text = notices.render(decode("notice", notice.payload).text, lang)  # type: ignore[union-attr]
            parts.append(f"<li><time>{when}</time> {text.replace(chr(10), '<br>')}</li>")
        parts.append("</ol>")
    hidden = (
        f'<input type="hidden" name="csrf" value="{escape(token)}">'
        f'<input type="hidden" name="lang" value="{lang}">'
    )
    if status.question_open:
        question = _last_question(status.notices)
        parts.append(
            f'<form method="post" action="/t/{tip.code}/answer" id="answer-form">{hidden}'
            f'<p class="question">{escape(t(lang, "web.question"))} {escape(question)}</p>'
            f'<label for="answer">{escape(t(lang, "web.answer"))}</label>'
            '<textarea id="answer" name="answer" rows="2" maxlength="500" required></textarea>'
            f'<button type="submit">{escape(t(lang, "web.answer_send"))}</button></form>'
        )
    if status.still_open:
        buttons = "".join(
            f'<button type="submit" name="answer" value="{p.value}">'
            f"{escape(t(lang, keys.PRESENCE[p]))}</button>"
            for p in Presence
        )
        parts.append(
            f'<form method="post" action="/t/{tip.code}/still" id="still-form">{hidden}'
            f'<p class="question">{escape(t(lang, "still.ask", code=tip.code))}</p>'
            f"{buttons}</form>"
        )
    if status.more_open:
        parts.append(
            f'<form method="post" action="/t/{tip.code}/more" id="more-form">{hidden}'
            f'<label for="more-words">{escape(t(lang, "web.more"))}</label>'
            '<textarea id="more-words" name="words" rows="2" maxlength="500" required></textarea>'
            f'<button type="submit">{escape(t(lang, "web.more_send"))}</button></form>'
        )
    if status.can_add:
        parts.append(
            f'<form method="post" action="/t/{tip.code}/add" enctype="multipart/form-data"'
            f' id="add-form">{hidden}'
            f'<label for="more">{escape(t(lang, "web.add", minutes=site.amend_minutes))}</label>'
            f'<textarea id="more" name="words" rows="2" maxlength="{WORDS_MAX}"></textarea>'
            '<input type="file" name="photo" accept="image/*" aria-label="photo">'
            f'<button type="submit">{escape(t(lang, "web.add_send"))}</button></form>'
        )
    parts.append(
        f'<p><a id="refresh" href="/t/{tip.code}?lang={lang}">'
        f"{escape(t(lang, 'web.refresh'))}</a></p>"
    )
    return page(lang, title, "".join(parts), site)


def _shown(notice: WebNotice) -> bool:
    text = notice.payload.get("notice") or {}
    key = text.get("key") or ""
    return isinstance(key, str) and key.startswith(SHOWN_NOTICES)


def _last_question(shown: list[WebNotice]) -> str:
    """The patrol's latest question, as it was relayed (its words are the patrol's)."""
    for notice in reversed(shown):
        text = notice.payload.get("notice") or {}
        if text.get("key") == "ask.question":
            question = (text.get("params") or {}).get("question")
            return question if isinstance(question, str) else ""
    return ""
