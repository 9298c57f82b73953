"""The exact spot within a place: the quick choices offered after a location.

Shared by the Telegram report flow and the web report form. A choice is stored by its key;
its words come from the catalogs (``bot.i18n.keys.SPOT``); "other" means the reporter typed it.
"""

from __future__ import annotations

from enum import StrEnum


class Spot(StrEnum):
    UNDER_BRIDGE = "under_bridge"  # 桥下/涵洞
    UNDERPASS = "underpass"  # 地下通道
    BUS_STOP = "bus_stop"  # 公交站/候车亭
    SHOPFRONT = "shopfront"  # 商铺/银行门口
    PARK_BENCH = "park_bench"  # 公园长椅
    STATION_HOSPITAL = "station_hospital"  # 车站/医院
    OTHER = "other"  # 其他 — typed


# The order the choices are offered in.
SPOT_CHOICES: tuple[Spot, ...] = tuple(Spot)
# A typed spot is at most this long.
SPOT_MAX_CHARS = 40
