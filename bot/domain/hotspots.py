"""Hotspots: where people were found lately, as clusters of nearby sightings. Pure.

A sighting is a closed tip whose person was found (brought in, hospital, supplies only,
family). Sightings within :data:`RADIUS_M` of a cluster's centre join it (the nearest such
cluster), taken oldest first, so the result does not depend on the order they are given in;
a cluster's centre is the mean of its sightings. Clusters rank by count, then by the latest
sighting.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from bot.geo.coords import haversine_m

#: Sightings this close to a cluster's centre (metres) belong to it.
RADIUS_M = 200.0
#: How many hotspots a reminder and /hotspots list.
TOP = 5


@dataclass(frozen=True)
class Sighting:
    lat: float
    lon: float
    at: dt.datetime
    label: str | None = None  # the place's name (a landmark, a typed address), if known


@dataclass(frozen=True)
class Hotspot:
    lat: float  # the centre: the mean of its sightings
    lon: float
    count: int
    last_at: dt.datetime
    label: str | None  # the latest sighting's place name that has one


@dataclass
class _Cluster:
    members: list[Sighting]
    lat: float
    lon: float

    def add(self, sighting: Sighting) -> None:
        self.members.append(sighting)
        n = len(self.members)
        self.lat += (sighting.lat - self.lat) / n
        self.lon += (sighting.lon - self.lon) / n

    def hotspot(self) -> Hotspot:
        last = max(self.members, key=lambda s: s.at)
        labelled = [s for s in self.members if s.label]
        label = max(labelled, key=lambda s: s.at).label if labelled else None
        return Hotspot(self.lat, self.lon, len(self.members), last.at, label)


def hotspots(
    sightings: Iterable[Sighting], radius_m: float = RADIUS_M, top: int = TOP
) -> list[Hotspot]:
    """The ``top`` clusters of ``sightings``: most sightings first, then the most recent."""
    clusters: list[_Cluster] = []
    for sighting in sorted(sightings, key=lambda s: (s.at, s.lat, s.lon)):
        best: _Cluster | None = None
        best_m = radius_m
        for cluster in clusters:
            metres = haversine_m(sighting.lat, sighting.lon, cluster.lat, cluster.lon)
            if metres <= best_m:
                best, best_m = cluster, metres
        if best is None:
            clusters.append(_Cluster([sighting], sighting.lat, sighting.lon))
        else:
            best.add(sighting)
    found = [c.hotspot() for c in clusters]
    found.sort(key=lambda h: (-h.count, -h.last_at.timestamp(), h.lat, h.lon))
    return found[: max(top, 0)]
