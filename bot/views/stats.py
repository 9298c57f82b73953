"""`/stats`: the campaign's figures for today, the last 7 days and the campaign, in words
(the chart goes with them). Each median is shown with the count it comes from."""

from __future__ import annotations

from bot.domain.campaign import Leg, PeriodFigures, PeriodKey, Spread, Unit
from bot.i18n import t

_DASH = "—"

_PERIOD_KEYS = {
    PeriodKey.TODAY: "stats.today",
    PeriodKey.LAST_7_DAYS: "stats.last_7_days",
    PeriodKey.CAMPAIGN: "stats.campaign",
}


def _minutes(value: float | None) -> str:
    return _DASH if value is None else f"{value:.0f}"


def _leg(spread: Spread) -> dict[str, object]:
    return {"median": _minutes(spread.median), "p90": _minutes(spread.p90), "n": spread.count}


def render_stats(figures: dict[PeriodKey, PeriodFigures], lang: str) -> str:
    """HTML: one block per period."""
    blocks = [t(lang, "stats.head")]
    for key, title in _PERIOD_KEYS.items():
        f = figures[key]
        tip = f.counts.resolution[Unit.TIP]
        incident = f.counts.resolution[Unit.INCIDENT]
        response = f.response
        blocks.append(
            t(
                lang,
                "stats.block",
                title=t(lang, title),
                received=f.counts.received,
                urgent=f.counts.urgent,
                open=f.counts.open,
                located=tip.located,
                not_found=tip.not_found,
                incidents=incident.total,
                incidents_located=incident.located,
                incidents_not_found=incident.not_found,
                claim=t(lang, "stats.leg", **_leg(response[Leg.REPORT_CLAIM])),
                arrival=t(lang, "stats.leg", **_leg(response[Leg.CLAIM_ARRIVAL])),
                scene=t(lang, "stats.leg", **_leg(response[Leg.REPORT_ARRIVAL])),
                patrols=f.patrols_done,
                required=f.patrols_required,
                pending=f.rewards.pending[0],
                approved=f.rewards.approved[0],
                paid=f.rewards.paid[0],
                paid_yuan=f.rewards.paid[1],
            )
        )
    return "\n\n".join(blocks)
