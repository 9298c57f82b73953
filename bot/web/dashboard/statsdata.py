"""The numbers page's JSON: the campaign's figures (bot/domain/campaign.py) as they are,
each median beside the count it comes from."""

from __future__ import annotations

from bot.domain.campaign import Counts, Group, Leg, PeriodFigures, PeriodKey, Spread, Unit


def _spread(spread: Spread) -> dict:
    return {"count": spread.count, "median": spread.median, "p90": spread.p90}


def _counts(counts: Counts) -> dict:
    tip, incident = counts.resolution[Unit.TIP], counts.resolution[Unit.INCIDENT]
    return {
        "received": counts.received,
        "urgent": counts.urgent,
        "open": counts.open,
        "withdrawn": counts.withdrawn,
        "outcomes": dict(counts.outcomes),
        "located": tip.located,
        "not_found": tip.not_found,
        "incidents": incident.total,
        "incidents_located": incident.located,
        "incidents_not_found": incident.not_found,
    }


def _group(group: Group) -> dict:
    return {
        "key": group.key,
        **_counts(group.counts),
        "response": {leg.value: _spread(group.response[leg]) for leg in Leg},
    }


def _period(f: PeriodFigures) -> dict:
    return {
        "since": f.period.since.date().isoformat(),
        "until": f.period.until.date().isoformat(),
        **_counts(f.counts),
        "response": {leg.value: _spread(f.response[leg]) for leg in Leg},
        "patrols_done": f.patrols_done,
        "patrols_required": f.patrols_required,
        "rewards": {
            "pending": list(f.rewards.pending),
            "approved": list(f.rewards.approved),
            "paid": list(f.rewards.paid),
            "rejected": list(f.rewards.rejected),
        },
        "by_district": [_group(g) for g in f.by_district],
        "by_hour": [_group(g) for g in f.by_hour],
        "by_day": [_group(g) for g in f.by_day],
    }


def stats_json(figures: dict[PeriodKey, PeriodFigures]) -> dict:
    return {"periods": [{"key": key.value, **_period(f)} for key, f in figures.items()]}
