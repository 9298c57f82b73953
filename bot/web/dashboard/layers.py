"""The map's optional layers, fed by issue 13's features: the claimers' arrival times are on
the tips themselves; staff members' shared live positions (bot/services/live.py) and the
hotspots (bot/services/hotspots.py) come from their services. A leader sees only their own
group's members; hotspots are staff data, and every dashboard viewer is staff."""

from __future__ import annotations

from bot.domain.tips import Role
from bot.services.dashboard import Viewer
from bot.services.registry import Services
from bot.views.people import label
from bot.web.dashboard.mapdata import Hotspot, MapLayers, Position


async def feature_layers(s: Services, viewer: Viewer) -> MapLayers:
    lang = s.config.station.language
    positions = [
        Position(label(person, lang), p.lat, p.lon, p.updated_at)
        for person, p in await s.live.positions()
        if viewer.role is Role.OFFICER or p.group_key == viewer.group_key
    ]
    hotspots = [
        Hotspot(h.label or "", h.lat, h.lon, h.count) for h in await s.hotspots.hotspots()
    ]
    return MapLayers(positions=positions, hotspots=hotspots)
