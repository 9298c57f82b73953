"""An offline gazetteer of Huangshi: county-level units and well-known public places.

It answers when no online geocoder is configured or reachable, and it understands the way
people actually type a place into a chat ("黄石站门口", "磁湖边上有人", "huangshi railway
station"), which a geocoder given the whole sentence often does not.

Accuracy — read before relying on a point
-----------------------------------------
Coordinates are WGS-84 *approximate centre points*, compiled offline (no survey, no
online map). Points taken from public references (Wikipedia infoboxes for the district
seats, 黄石站, 黄石长江大桥, 鄂东长江大桥, 黄石市中心医院, 黄石国家矿山公园) are good to a
few hundred metres. The others are best estimates, good to roughly 1 km, and the ones
marked ``# rough`` in :data:`PLACES` may be off by up to 2–3 km. Large features (磁湖, a
county) are represented by a single central point. That is good enough to name an area
and centre a map for a patrol who will then ask or look, and not better: check a point on
a real map before trusting it for anything else. In particular the entry for the relief
station itself (``relief_station``) is a placeholder near the urban centre and should be
corrected with the station's real position.

Every point lies inside :data:`bot.geo.area.HUANGSHI` (a test checks it).
"""

from __future__ import annotations

import functools
import unicodedata
from dataclasses import dataclass
from typing import NamedTuple

from bot.geo.area import valid_coordinates
from bot.geo.coords import haversine_m

__all__ = [
    "NEAR_MAX_M",
    "PLACES",
    "Nearby",
    "Place",
    "describe",
    "get",
    "nearest_district",
    "nearest_landmark",
    "normalize",
    "search",
]

_KINDS = frozenset({"district", "landmark"})


@dataclass(frozen=True)
class Place:
    """A named point. ``aliases`` hold other Chinese names and English/pinyin forms."""

    key: str
    name_zh: str
    name_en: str
    lat: float
    lon: float
    kind: str  # "district" | "landmark"
    aliases: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.kind not in _KINDS:
            raise ValueError(f"unknown place kind {self.kind!r} for {self.key!r}")
        if not valid_coordinates(self.lat, self.lon):
            raise ValueError(f"invalid coordinates for {self.key!r}")

    def name(self, language: str) -> str:
        """The display name: Chinese for ``"zh"`` (and ``"zh-CN"`` etc.), English otherwise."""
        return self.name_zh if language.lower().startswith("zh") else self.name_en


def _d(key: str, zh: str, en: str, lat: float, lon: float, *aliases: str) -> Place:
    return Place(key, zh, en, lat, lon, "district", tuple(aliases))


def _l(key: str, zh: str, en: str, lat: float, lon: float, *aliases: str) -> Place:
    return Place(key, zh, en, lat, lon, "landmark", tuple(aliases))


# fmt: off
PLACES: tuple[Place, ...] = (
    # --- County-level units (seat / government point) -------------------------------
    _d("huangshigang", "黄石港区", "Huangshigang District", 30.2264, 115.0636,
       "黄石港", "huangshigang", "huangshigang district", "huangshi gang"),
    _d("xisaishan", "西塞山区", "Xisaishan District", 30.2090, 115.0921,
       "西塞山", "xisaishan", "xisaishan district", "xisai shan"),
    _d("xialu", "下陆区", "Xialu District", 30.1736, 114.9611,
       "下陆", "xialu", "xialu district", "xia lu"),
    _d("tieshan", "铁山区", "Tieshan District", 30.2060, 114.9010,  # rough
       "铁山", "tieshan", "tieshan district", "tie shan"),
    _d("daye", "大冶市", "Daye City", 30.0961, 114.9804,
       "大冶", "daye", "daye city"),
    _d("yangxin", "阳新县", "Yangxin County", 29.8303, 115.2152,
       "阳新", "兴国镇", "yangxin", "yangxin county", "xingguo"),
    # --- Railway and bus stations ---------------------------------------------------
    _l("huangshi_station", "黄石站", "Huangshi Railway Station", 30.1565, 114.9355,
       "黄石火车站", "黄石车站", "huangshi railway station", "huangshi station",
       "huangshi train station", "huangshizhan"),
    _l("huangshi_north_station", "黄石北站", "Huangshi North Railway Station",
       30.2280, 114.9980,  # rough
       "黄石北", "黄石高铁站", "huangshi north railway station", "huangshi north station",
       "huangshibei", "huangshibei station"),
    _l("huangshi_east_station", "黄石东站", "Huangshi East Station (old railway station)",
       30.2050, 115.0950,  # rough
       "黄石老火车站", "老火车站", "老黄石站", "huangshi east station",
       "huangshi east railway station", "huangshidong"),
    _l("daye_north_station", "大冶北站", "Daye North Railway Station", 30.1150, 114.9650,  # rough
       "daye north station", "daye north railway station", "dayebei"),
    _l("huangshi_bus_station", "黄石汽车站", "Huangshi Long-distance Bus Station",
       30.2150, 115.0700,  # rough
       "黄石汽车客运站", "黄石客运站", "长途汽车站", "汽车站", "客运站",
       "huangshi bus station", "long distance bus station", "bus station"),
    _l("daye_bus_station", "大冶汽车站", "Daye Bus Station", 30.1000, 114.9650,  # rough
       "大冶汽车客运站", "大冶客运站", "daye bus station"),
    _l("yangxin_bus_station", "阳新汽车站", "Yangxin Bus Station", 29.8380, 115.2050,  # rough
       "阳新汽车客运站", "阳新客运站", "yangxin bus station"),
    # --- Lake, parks, squares -------------------------------------------------------
    _l("cihu", "磁湖", "Cihu Lake", 30.2030, 115.0480,
       "磁湖风景区", "张家湖", "cihu", "ci hu", "cihu lake", "ci lake"),
    _l("tuanchengshan_park", "团城山公园", "Tuanchengshan Park", 30.1985, 115.0330,
       "团城山", "tuanchengshan", "tuanchengshan park"),
    _l("yiquyuan", "逸趣园", "Yiquyuan Park (south shore of Cihu Lake)", 30.1935, 115.0560,  # rough
       "磁湖逸趣园", "磁湖南岸", "yiquyuan", "yiquyuan park"),
    _l("mingzhu_square", "明珠广场", "Mingzhu Square", 30.2180, 115.0780,  # rough
       "mingzhu square", "pearl square"),
    _l("xialu_square", "下陆广场", "Xialu Square", 30.1736, 114.9611,
       "xialu square"),
    _l("zhangzhidong_square", "张之洞广场", "Zhang Zhidong Square", 30.2090, 114.9100,  # rough
       "zhang zhidong square", "zhangzhidong square"),
    _l("mine_park", "黄石国家矿山公园", "Huangshi National Mine Park", 30.2152, 114.9083,
       "国家矿山公园", "矿山公园", "大冶铁矿", "national mine park", "mine park"),
    _l("dongfangshan", "东方山", "Dongfangshan Scenic Area", 30.1580, 115.0150,  # rough
       "东方山风景区", "dongfangshan"),
    _l("daye_century_clock", "大冶世纪钟广场", "Daye Century Clock Square",
       30.0985, 114.9700,  # rough
       "世纪钟广场", "世纪钟", "century clock", "century clock square"),
    # --- Riverside, bridges, neighbourhoods -----------------------------------------
    _l("huangshi_bridge", "黄石长江大桥", "Huangshi Yangtze River Bridge", 30.2512, 115.0721,
       "黄石长江公路大桥", "长江大桥", "黄石大桥", "huangshi bridge",
       "huangshi yangtze river bridge", "yangtze river bridge"),
    _l("edong_bridge", "鄂东长江大桥", "E'dong Yangtze River Bridge", 30.2607, 115.0744,
       "鄂东大桥", "edong bridge", "edong yangtze river bridge"),
    _l("riverfront", "黄石港江滩", "Huangshigang Riverside Park", 30.2290, 115.0760,  # rough
       "江滩", "江滩公园", "黄石江滩", "黄石港码头", "riverside park", "riverfront",
       "jiangtan"),
    _l("shengyanggang", "胜阳港", "Shengyanggang", 30.2190, 115.0830,  # rough
       "shengyanggang", "shengyang gang"),
    _l("shenjiaying", "沈家营", "Shenjiaying", 30.2160, 115.0590,  # rough
       "shenjiaying"),
    _l("huahu", "花湖", "Huahu", 30.2420, 115.0300,  # rough
       "花湖街道", "花湖大道", "huahu"),
    # --- Hospitals, malls, public offices -------------------------------------------
    _l("central_hospital", "黄石市中心医院", "Huangshi Central Hospital", 30.2129, 115.0845,
       "中心医院", "市中心医院", "黄石中心医院", "普爱医院", "huangshi central hospital",
       "central hospital"),
    _l("daye_hospital", "大冶市人民医院", "Daye People's Hospital", 30.0990, 114.9720,  # rough
       "大冶人民医院", "daye peoples hospital", "daye people's hospital", "daye hospital"),
    _l("yangxin_hospital", "阳新县人民医院", "Yangxin People's Hospital",
       29.8350, 115.2100,  # rough
       "阳新人民医院", "yangxin peoples hospital", "yangxin people's hospital",
       "yangxin hospital"),
    _l("wanda_plaza", "黄石万达广场", "Huangshi Wanda Plaza", 30.2080, 115.0800,  # rough
       "万达广场", "万达", "wanda plaza", "wanda"),
    _l("city_government", "黄石市人民政府", "Huangshi Municipal Government",
       30.2035, 115.0336,
       "黄石市政府", "市政府", "市人民政府", "municipal government", "city government"),
    # Placeholder position (urban centre): correct it with the station's real location.
    _l("relief_station", "黄石市救助管理站", "Huangshi Relief and Assistance Station",
       30.2000, 115.0350,  # rough, placeholder
       "黄石救助站", "救助管理站", "救助站", "relief station", "assistance station",
       "rescue station", "jiuzhuzhan"),
)
# fmt: on

_BY_KEY: dict[str, Place] = {p.key: p for p in PLACES}
if len(_BY_KEY) != len(PLACES):  # pragma: no cover - guards edits to the table above
    raise RuntimeError("duplicate place key in gazetteer")

_DISTRICTS: tuple[Place, ...] = tuple(p for p in PLACES if p.kind == "district")


# --------------------------------------------------------------------------- matching


class _Norm(NamedTuple):
    """A normalised text: ``compact`` ignores separators, ``words`` keeps word boundaries."""

    compact: str  # every letter/digit, nothing else: "黄石站", "huangshirailwaystation"
    words: str  # tokens joined by single spaces: "huangshi railway station", "在 磁湖边"
    latin: bool  # True when no CJK token is present


def _is_cjk(ch: str) -> bool:
    # Everything from CJK Radicals Supplement upward (CJK ideographs, kana, hangul, ...)
    # is written without spaces; compare it character by character.
    return ord(ch) >= 0x2E80


def normalize(text: str) -> _Norm:
    """NFKC + casefold, drop whitespace and punctuation, keep word boundaries for Latin.

    Latin words are separated at spaces/punctuation and at switches to or from CJK, so
    "在huangshi railway station门口" → words "在 huangshi railway station 门口".
    """
    text = unicodedata.normalize("NFKC", text).casefold()
    tokens: list[str] = []
    current: list[str] = []
    current_cjk = False
    for ch in text:
        if not ch.isalnum():
            if current:
                tokens.append("".join(current))
                current = []
            continue
        cjk = _is_cjk(ch)
        if current and cjk != current_cjk:
            tokens.append("".join(current))
            current = []
        current.append(ch)
        current_cjk = cjk
    if current:
        tokens.append("".join(current))
    compact = "".join(tokens)
    latin = not any(_is_cjk(ch) for ch in compact)
    return _Norm(compact=compact, words=" ".join(tokens), latin=latin)


def _contains(haystack: _Norm, needle: _Norm) -> bool:
    """Does ``needle`` occur in ``haystack``? Latin needles must match whole words."""
    if not needle.compact:
        return False
    if needle.latin:
        return f" {needle.words} " in f" {haystack.words} "
    return needle.compact in haystack.compact


def _index(place: Place) -> tuple[_Norm, ...]:
    names = (place.name_zh, place.name_en, *place.aliases)
    seen: dict[str, _Norm] = {}
    for name in names:
        norm = normalize(name)
        if norm.compact:
            seen.setdefault(norm.words, norm)
    return tuple(seen.values())


@functools.cache
def _places_index() -> tuple[tuple[Place, tuple[_Norm, ...]], ...]:
    """Every place with its normalised names: built at the first search, not at import (the
    bot's cold start, issue 16)."""
    return tuple((p, _index(p)) for p in PLACES)


# A query contained in a name must be at least this long to count ("站" alone is noise).
_MIN_REVERSE_CJK = 2
_MIN_REVERSE_LATIN = 3


def _score(
    query: _Norm, names: tuple[_Norm, ...], landmark: bool
) -> tuple[int, int, int, int] | None:
    """Best match of ``query`` against one place's names, as a sortable key, or None.

    Key: (tier, matched length, landmark, -name length). Tier 1 = a name occurs in the
    query ("黄石站门口" ⊇ "黄石站"); tier 0 = the query occurs in a name ("大冶" ⊆
    "大冶北站"). Longer matches first, landmarks before districts, then shorter names.
    """
    best: tuple[int, int, int, int] | None = None
    min_reverse = _MIN_REVERSE_LATIN if query.latin else _MIN_REVERSE_CJK
    for name in names:
        if _contains(query, name):
            key = (1, len(name.compact), int(landmark), -len(name.compact))
        elif len(query.compact) >= min_reverse and _contains(name, query):
            key = (0, len(query.compact), int(landmark), -len(name.compact))
        else:
            continue
        if best is None or key > best:
            best = key
    return best


def search(query: str, limit: int = 5) -> list[Place]:
    """Places whose names occur in ``query`` or contain it, best first; ``[]`` if none.

    Case-insensitive; spaces and punctuation are ignored (Latin names still match on
    whole words, so "today every" does not find "daye"). Order: names found inside the
    query before names that merely contain the query, then longest match, then landmarks
    before districts.
    """
    if limit <= 0:
        return []
    q = normalize(query)
    if not q.compact:
        return []
    scored: list[tuple[tuple[int, int, int, int], int, Place]] = []
    for position, (place, names) in enumerate(_places_index()):
        key = _score(q, names, place.kind == "landmark")
        if key is not None:
            scored.append((key, position, place))
    # Best key first; equal keys keep table order.
    scored.sort(key=lambda item: (tuple(-k for k in item[0]), item[1]))
    return [place for _, _, place in scored[:limit]]


def nearest_district(lat: float, lon: float) -> Place:
    """The district/county whose seat point is nearest (great-circle distance).

    An approximation, not a boundary test: districts are not circles, so a point near a
    border can be attributed to a neighbour. For example Tuanchengshan (团城山, the city
    government, administratively in 下陆区) is nearer to the 黄石港区 seat point. Good for
    "roughly where", not for jurisdiction. Points outside Huangshi still get the nearest
    unit; check :meth:`bot.geo.area.ServiceArea.contains` first where that matters.
    """
    if not valid_coordinates(lat, lon):
        raise ValueError(f"invalid coordinates: {lat!r}, {lon!r}")
    return min(_DISTRICTS, key=lambda d: haversine_m(lat, lon, d.lat, d.lon))


#: Beyond this distance the nearest landmark says nothing useful about a pin (the table's
#: rough points are off by 1 km or more): only the district and the coordinates are shown.
NEAR_MAX_M = 1500.0
#: Up to this distance a pin is "at" the landmark (its point is a centre, not a door).
AT_MAX_M = 100.0
#: Entries whose point is a placeholder: never used to say where a pin is.
_NOT_FOR_PINS = frozenset({"relief_station"})


@dataclass(frozen=True)
class Nearby:
    """Where a bare pin is, in words: the nearest landmark (if close enough) and district."""

    landmark: Place | None  # None: no landmark within NEAR_MAX_M
    metres: float  # distance to ``landmark`` (0 when there is none)
    district: Place

    @property
    def at(self) -> bool:
        """Close enough to say the pin is at the landmark rather than near it."""
        return self.landmark is not None and self.metres <= AT_MAX_M

    @property
    def rounded_m(self) -> int:
        """The distance as a person would say it: 10 m steps up to 100 m, then 50 m steps."""
        step = 10 if self.metres < AT_MAX_M else 50
        return int(round(self.metres / step) * step)


def nearest_landmark(lat: float, lon: float) -> tuple[Place, float]:
    """The landmark nearest to the point and its great-circle distance in metres (placeholder
    entries such as the relief station's own point are left out)."""
    if not valid_coordinates(lat, lon):
        raise ValueError(f"invalid coordinates: {lat!r}, {lon!r}")
    metres, place = min(
        (
            (haversine_m(lat, lon, p.lat, p.lon), p)
            for p in PLACES
            if p.kind == "landmark" and p.key not in _NOT_FOR_PINS
        ),
        key=lambda item: item[0],
    )
    return place, metres


def describe(lat: float, lon: float, max_m: float = NEAR_MAX_M) -> Nearby:
    """The nearest landmark within ``max_m`` (else none) and the nearest district."""
    place, metres = nearest_landmark(lat, lon)
    district = nearest_district(lat, lon)
    if metres > max_m:
        return Nearby(None, 0.0, district)
    return Nearby(place, metres, district)


def get(key: str) -> Place:
    """The place with this key; ``KeyError`` if there is none."""
    try:
        return _BY_KEY[key]
    except KeyError:
        raise KeyError(f"no place with key {key!r}") from None
