"""Geography for warmline: coordinates, the service area, the gazetteer and geocoding.

* :mod:`bot.geo.coords` — WGS-84 → GCJ-02 / BD-09, distances, map links (pure).
* :mod:`bot.geo.area` — the service-area rectangle and coordinate validation (pure).
* :mod:`bot.geo.gazetteer` — offline places of Huangshi, text search, nearest district (pure).
* :mod:`bot.geo.geocoder` — Nominatim via geopy (rate-limited, cached) with gazetteer fallback.

No Telegram, no SQL and no user-facing text here: functions return data; callers render it.
"""
