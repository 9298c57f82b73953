"""The dashboard's HTML. No inline script or style (the Content-Security-Policy forbids them):
each page loads its script and stylesheet from this origin and reads its data and words
from a JSON block (``<script type="application/json">``, which is never run)."""

from __future__ import annotations

import json
from html import escape

from bot.i18n import t

STATIC = "/dashboard/static"

#: The words the map's script shows (catalog keys, in the viewer's language).
MAP_KEYS = (
    "web.dash.title",
    "web.dash.open_count",
    "web.dash.none_open",
    "web.dash.live",
    "web.dash.offline",
    "web.dash.late",
    "web.dash.minutes_ago",
    "web.dash.eta",
    "web.dash.claimer",
    "web.dash.group",
    "web.dash.timeline",
    "web.dash.evidence",
    "web.dash.no_evidence",
    "web.dash.close",
    "web.dash.action.copy",
    "web.dash.action.release",
    "web.dash.action.escalate",
    "web.dash.action.invalid",
    "web.dash.confirm_invalid",
    "web.dash.done.copy",
    "web.dash.done.release",
    "web.dash.done.escalate",
    "web.dash.done.invalid",
    "web.dash.refused",
    "web.dash.read_only",
    "web.dash.positions",
    "web.dash.hotspots",
    "web.dash.landmarks",
)

#: The words the numbers page's script shows.
STATS_KEYS = (
    "stats.today",
    "stats.last_7_days",
    "stats.campaign",
    "web.dash.stats.received",
    "web.dash.stats.urgent",
    "web.dash.stats.open",
    "web.dash.stats.located",
    "web.dash.stats.not_found",
    "web.dash.stats.incidents",
    "web.dash.stats.patrols",
    "web.dash.stats.rewards",
    "web.dash.stats.pending",
    "web.dash.stats.approved",
    "web.dash.stats.paid",
    "web.dash.stats.yuan",
    "web.dash.stats.response",
    "web.dash.stats.median",
    "web.dash.stats.p90",
    "web.dash.stats.count",
    "web.dash.stats.by_day",
    "web.dash.stats.by_hour",
    "web.dash.stats.by_district",
    "web.dash.stats.unknown_district",
    "web.dash.stats.outcomes",
    "chart.leg.report_claim",
    "chart.leg.claim_arrival",
    "chart.leg.report_arrival",
)


def _data_block(data: dict) -> str:
    # "<" escaped: nothing in the data can close the block.
    text = json.dumps(data, ensure_ascii=False).replace("<", "\\u003c")
    return f'<script type="application/json" id="wl-data">{text}</script>'


def _head(lang: str, title: str, css: tuple[str, ...]) -> str:
    links = "".join(f'<link rel="stylesheet" href="{href}">' for href in css)
    return (
        f'<!doctype html><html lang="{"zh-CN" if lang == "zh" else "en"}"><head>'
        '<meta charset="utf-8"><link rel="icon" href="data:,">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<meta name="referrer" content="no-referrer"><title>{escape(title)}</title>'
        f"{links}</head>"
    )


def _nav(lang: str, here: str, who: str) -> str:
    def item(href: str, key: str, name: str) -> str:
        current = ' aria-current="page"' if name == here else ""
        return f'<a href="{href}"{current}>{escape(t(lang, key))}</a>'

    return (
        '<header class="wl-bar"><nav>'
        + item("/dashboard/", "web.dash.nav_map", "map")
        + item("/dashboard/stats", "web.dash.nav_stats", "stats")
        + f'</nav><span class="wl-who">{escape(who)}</span>'
        + f'<a class="wl-logout" href="/dashboard/logout">{escape(t(lang, "web.dash.logout"))}</a>'
        + "</header>"
    )


def _signed_in_page(
    lang: str,
    who: str,
    *,
    name: str,
    title: str,
    css: tuple[str, ...],
    body: str,
    data: dict,
    strings: tuple[str, ...],
    scripts: tuple[str, ...],
) -> str:
    """A page of the signed-in dashboard: its head, the bar (``name`` current), ``body``, the
    data block with the words its script shows, then its scripts."""
    return (
        _head(lang, title, css)
        + f'<body class="wl-{name}-page">'
        + _nav(lang, name, who)
        + body
        + _data_block({**data, "strings": {key: t(lang, key) for key in strings}})
        + "".join(f'<script src="{src}"></script>' for src in scripts)
        + "</body></html>"
    )


def map_page(lang: str, who: str, data: dict) -> str:
    return _signed_in_page(
        lang,
        who,
        name="map",
        title=t(lang, "web.dash.title"),
        css=(f"{STATIC}/vendor/leaflet/leaflet.css", f"{STATIC}/dashboard/dashboard.css"),
        body='<div class="wl-status"><span id="wl-live" class="wl-off"></span>'
        '<span id="wl-count"></span></div>'
        '<main class="wl-main"><div id="map" role="application"></div>'
        '<aside id="wl-panel" hidden></aside></main>'
        '<ul id="wl-legend" class="wl-legend"></ul>',
        data=data,
        strings=MAP_KEYS,
        scripts=(f"{STATIC}/vendor/leaflet/leaflet.js", f"{STATIC}/dashboard/map.js"),
    )


def stats_page(lang: str, who: str, data: dict) -> str:
    return _signed_in_page(
        lang,
        who,
        name="stats",
        title=t(lang, "web.dash.stats_title"),
        css=(f"{STATIC}/dashboard/dashboard.css",),
        body=f'<main class="wl-stats"><h1>{escape(t(lang, "web.dash.stats_title"))}</h1>'
        '<div id="wl-periods" class="wl-tabs" role="tablist"></div>'
        '<div id="wl-figures"></div></main>',
        data=data,
        strings=STATS_KEYS,
        scripts=(f"{STATIC}/vendor/chartjs/chart.umd.min.js", f"{STATIC}/dashboard/stats.js"),
    )


def message_page(lang: str, title_key: str, text_key: str) -> str:
    """A friendly page: a refused link, a sign-in needed, signed out."""
    return (
        _head(lang, t(lang, title_key), (f"{STATIC}/dashboard/dashboard.css",))
        + '<body class="wl-message-page"><main class="wl-message">'
        + f"<h1>{escape(t(lang, title_key))}</h1><p>{escape(t(lang, text_key))}</p>"
        + "</main></body></html>"
    )
