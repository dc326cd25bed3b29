"""Geocoding Chinese address text to buildings: normalization, parsing and a blocked fuzzy gazetteer.

How `Gazetteer.geocode` places a text, in order (numbers are never fuzzy-matched, only names are):

1. `normalize_address` (rules listed on the function). A normalized text equal to one building's
   normalized address or "compound + N栋" key is an "exact" match, confidence 1.0.
2. `parse_address` splits the text into road (a road, or a village and its group, "沙河村3组"),
   house number, compound (小区) and building number.
3. The road and compound names are looked up in the gazetteer's name lists: exactly; then a known
   name followed by 小区, or the longest known name ending the text (an unstripped prefix such as
   "赣州" before it); then by rapidfuzz `fuzz.ratio` over all names (one `process.cdist` per batch),
   keeping names that score at least `MIN_NAME_SCORE` and carry the same digits. "华城新城4号" (a
   compound where a road should be) is read as building 4 of the compound. These names are the blocks.
4. Within the blocks, the house and building numbers pick buildings by dictionary look-ups. A
   building's confidence is `fuzz.ratio` (over 100) of the parts the text gives against the same
   parts of the building's address, times `NUMBER_MISMATCH` when the text's house number disagrees
   and `MISSING_COMPOUND` when the text names a compound the building lacks. A building at
   `MIN_BUILDING_CONFIDENCE` or more is returned: "exact" at 1.0 (every given part equal), else
   "fuzzy". Two different buildings with the same best confidence are a tie: none is guessed.
5. Otherwise a coarser place: the compound's buildings ("compound", for example when the building
   number does not exist in it), the buildings at the road and house number, or the nearest house
   number of the same parity within `NEAR_NUMBER_WINDOW` on that road ("road"). A place is used only
   when its buildings lie within `MAX_PLACE_RADIUS_M` of their mean (one compound, not two
   compounds of the same name in different places); its confidence is scaled down.
6. Else not found, with the reason.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray
from rapidfuzz import fuzz, process

from geogrid.errors import InputError

MIN_NAME_SCORE = 65.0  # fuzz.ratio (0-100) a road/compound name needs to be a candidate; one typo in 3 chars is 66.7
PREFIX_SCORE = 95.0  # a known name that ends the text's road/compound part after unknown characters
GENERIC_SUFFIX = "小区"  # often added to a compound's name ("华城新城小区" for 华城新城)
NAME_CANDIDATES = 5  # fuzzy names kept per part
NUMBER_MISMATCH = 0.7  # factor when the text's house number differs from the building's
MISSING_COMPOUND = 0.8  # factor when the text names a compound but the building has none
MIN_BUILDING_CONFIDENCE = 0.6  # below this no building is returned
COMPOUND_CONFIDENCE = 0.5  # a compound's centre, times the compound name score
ROAD_CONFIDENCE = 0.45  # the buildings at a road and house number, times the road score
NEAR_NUMBER_CONFIDENCE = 0.3  # the nearest house number on the road, times the road score
NEAR_NUMBER_WINDOW = 6  # how far (in house numbers, same parity) the nearest number may be
MAX_PLACE_RADIUS_M = 300.0  # a compound or lot whose buildings spread further is not one place
TIE_EPSILON = 1e-9  # confidences closer than this are equal (a tie)
FUZZY_BATCH = 256  # query names per cdist call (memory: batch x names float32)

Floats = NDArray[np.float64]
Rows = NDArray[np.int64]
_NO_ROWS: Rows = np.zeros(0, np.int64)

# --- normalization -----------------------------------------------------------------------------------

_CJK = "\u4e00-\u9fff"
_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8,
              "九": 9}
_CN_UNITS = {"十": 10, "百": 100, "千": 1000}
_DASHES = str.maketrans({c: "-" for c in "—–―‐‑−~～"})
_PUNCTUATION = re.compile(r"[^\w#-]|_")
_ADMIN_PREFIXES = (  # applied in order, each at most once, each only at the start of the text
    re.compile(r"^中华人民共和国|^中国"),
    re.compile(rf"^[{_CJK}]{{2,8}}?(?:省|自治区|特别行政区)"),
    re.compile(rf"^[{_CJK}]{{2,4}}?(?:市|自治州|地区|盟)"),
    re.compile(rf"^[{_CJK}]{{1,4}}?(?<![小社园校厂矿景活城苑宅业])(?:区|县|旗)"),
    re.compile(rf"^[{_CJK}]{{2,5}}?(?:街道办事处|街道办|街道|(?<!小)镇|乡)"),
    re.compile(rf"^[{_CJK}]{{2,6}}?(?:社区居民委员会|社区居委会|居民委员会|居委会|社区)"),
)
_VILLAGE_COMMITTEE = re.compile(rf"^([{_CJK}]{{2,5}}?)村(?:民委员会|委会)")
_NOISE = re.compile(r"附近|旁边|边上|对面|门口|周边|一带|楼下|楼道|隔壁")
_TRAILING_NOISE = re.compile(r"(?:[东南西北](?:门|侧|面|边)|里面|内|处)+$")
_CN_NUMBER = re.compile(r"第?([零〇一二两三四五六七八九十百千]+)(?=号|栋|幢|座|单元|楼|层|室|房|户|组|期)")
_ORDINAL = re.compile(r"第(?=\d)")
_SUB_NUMBER = re.compile(r"(\d+)号?[之附](\d+)号?")
_BUILDING_WORD = re.compile(r"([0-9]+|[A-Z])(?:号楼|号栋|号幢|号座|栋楼|#楼|#|幢|座|栋)")
_DASH_TRIPLE = re.compile(r"(?<=\D)(\d+)-\d+-\d+$")  # 4-2-501: building-unit-room
_AFTER_BUILDING = re.compile(r"^(.*?(?:[0-9]+|[A-Z])栋).*$")
_UNIT_FLOOR_ROOM = re.compile(r"\d+(?:单元|号?(?:室|房|户)|层|楼)")
_AFTER_HOUSE_NUMBER = re.compile(r"(\d+号)[\d-]+$")
_ADMIN_CHARS = re.compile("[中省区市州盟县旗街镇乡社居]")
_NOISE_CHARS = re.compile("[附旁边对门周带楼隔]")
_TRAILING_NOISE_LAST = frozenset("门侧面边内处")
_CN_NUMERAL_CHARS = re.compile(f"[{''.join(_CN_DIGITS)}{''.join(_CN_UNITS)}]")
_BUILDING_CHARS = re.compile("[楼幢座#栋]")
_UNIT_CHARS = re.compile("[单室房户层楼]")
_DIGITS_DASH = frozenset("0123456789-")
_DIGITS_LETTERS = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ")
_MISSING_HAO = re.compile(r"(?<=[路街巷道弄里组])(\d+(?:-[0-9A-Z]+)?)$")


def chinese_to_int(numeral: str) -> int:
    """The value of a Chinese numeral: positional ("二十三" 23, "一百零五" 105) or digit by digit ("五零一" 501)."""
    if not any(c in _CN_UNITS for c in numeral):
        return int("".join(str(_CN_DIGITS[c]) for c in numeral))
    total, digit = 0, 0
    for char in numeral:
        if char in _CN_DIGITS:
            digit = _CN_DIGITS[char]
        else:
            total += (digit or 1) * _CN_UNITS[char]
            digit = 0
    return total + digit


def _first_group(match: re.Match[str]) -> str:
    """The first group of a match (a function replacement is much faster than a template in re.sub)."""
    return match.group(1)


def _first_group_building(match: re.Match[str]) -> str:
    """The first group of a match followed by 栋."""
    return match.group(1) + "栋"


def _has_any(text: str, chars: re.Pattern[str]) -> bool:
    """True when text contains one of the characters of a character-class pattern (a cheap guard)."""
    return chars.search(text) is not None


def _strip_admin(text: str) -> str:
    """Drop leading 省/市/区县/街道镇乡/社区 names; a 村委会 becomes its village ("七里村委会" -> "七里村")."""
    if _has_any(text, _ADMIN_CHARS):
        for pattern in _ADMIN_PREFIXES:
            stripped = pattern.sub("", text, count=1)
            text = stripped if stripped else text
    if "村委" in text or "村民委" in text:
        text = _VILLAGE_COMMITTEE.sub(lambda m: m.group(1) + "村", text, count=1)
    return text


def _strip_noise(text: str) -> str:
    """Drop position words (附近, 旁边, 对面, 门口, ...) anywhere and gate/side words at the end."""
    if _has_any(text, _NOISE_CHARS):
        text = _NOISE.sub("", text)
    if text[-1:] in _TRAILING_NOISE_LAST:
        text = _TRAILING_NOISE.sub("", text)
    return text


def _numerals_to_digits(text: str) -> str:
    """Chinese numerals before 号/栋/幢/座/单元/楼/层/室/房/户/组/期 become digits; 第 before a number is dropped."""
    if _has_any(text, _CN_NUMERAL_CHARS):
        text = _CN_NUMBER.sub(lambda m: str(chinese_to_int(m.group(1))), text)
    return _ORDINAL.sub("", text) if "第" in text else text


def _unify_building(text: str) -> str:
    """Sub-numbers to "48-1号"; 幢/座/号楼/号栋/栋楼/# to 栋; "4-2-501" to "4栋"; cut what follows N栋."""
    if "之" in text or "附" in text:
        text = _SUB_NUMBER.sub(lambda m: f"{m.group(1)}-{m.group(2)}号", text)
    if _has_any(text, _BUILDING_CHARS):
        text = _BUILDING_WORD.sub(_first_group_building, text)
    if text.count("-") >= 2:
        text = _DASH_TRIPLE.sub(_first_group_building, text)
    if "栋" in text and not text.endswith("栋"):
        text = _AFTER_BUILDING.sub(_first_group, text)
    return text


def _drop_unit_floor_room(text: str) -> str:
    """Drop 2单元, 501室, 501房, 5楼, 5层, and digits after a house number ("48号501")."""
    if _has_any(text, _UNIT_CHARS):
        text = _UNIT_FLOOR_ROOM.sub("", text)
    if "号" in text and text[-1:] in _DIGITS_DASH:
        text = _AFTER_HOUSE_NUMBER.sub(_first_group, text)
    return text


def _add_missing_hao(text: str) -> str:
    """Add 号 to a trailing house number after a road or group ("迎宾巷48" -> "迎宾巷48号")."""
    if text[-1:] not in _DIGITS_LETTERS:
        return text
    return _MISSING_HAO.sub(lambda m: m.group(1) + "号", text)


def normalize_address(text: str | None) -> str:
    """A canonical form of Chinese address text for matching; the rules, in order:

    1. Unicode NFKC (full-width digits, letters and punctuation to half-width), letters upper-cased,
       every dash-like character (—, –, ~, ～) to "-".
    2. Whitespace and punctuation removed (only "-" and "#" are kept, they carry numbers).
    3. Leading administrative names dropped, each at most once and in this order: 中国; a province
       (省/自治区); a city (2-4 characters + 市/州/地区/盟); a district or county (区/县/旗, but not
       小区/园区/生活区/...); a street or town (街道/镇/乡, not 小镇); a community (社区/居委会).
       "XX村委会"/"XX村民委员会" becomes "XX村": villages address their houses by village name.
    4. Position words dropped: 附近, 旁边, 边上, 对面, 门口, 周边, 一带, 楼下, 楼道, 隔壁 anywhere, and
       a trailing gate or side (南门, 东侧), 里面, 内, 处.
    5. Chinese numerals before 号/栋/幢/座/单元/楼/层/室/房/户/组/期 to digits (三栋 -> 3栋, 十二号 -> 12号,
       第五组 -> 5组, 第3栋 -> 3栋); numerals inside names (华坚二路, 七里村) are kept.
    6. Sub-numbers "48号之1"/"48之1号"/"48号附1号" to "48-1号"; building words 幢/座/号楼/号栋/栋楼/#
       to 栋 (二十三号楼 -> 23栋, 4#楼 -> 4栋); "4-2-501" at the end to "4栋"; whatever follows the
       first "N栋" (units, floors, rooms, remarks) is cut.
    7. Unit, floor and room parts dropped: 2单元, 501室, 501房, 501号房, 5楼, 5层, and bare digits after a
       house number ("48号501" -> "48号").
    8. A trailing house number without 号 after a road or group gets it ("迎宾巷48" -> "迎宾巷48号").
    """
    if not text:
        return ""
    text = unicodedata.normalize("NFKC", str(text)).upper().translate(_DASHES)
    text = _PUNCTUATION.sub("", text)
    text = _strip_admin(text)
    text = _strip_noise(text)
    text = _numerals_to_digits(text)
    text = _unify_building(text)
    text = _drop_unit_floor_room(text)
    return _add_missing_hao(text)


# --- parsing -----------------------------------------------------------------------------------------

_PARTS = re.compile(r"^(?:(?P<road>.*?)(?P<number>\d+)(?:-(?P<sub>[0-9A-Z]+))?号)?"
                    r"(?P<compound>.*?)(?:(?P<building>[0-9]+|[A-Z])栋)?$")


@dataclass(frozen=True)
class AddressParts:
    """A normalized address split into parts; empty strings where the text has none."""

    road: str = ""  # road, street or lane, or a village with its group ("沙河村3组")
    number: str = ""  # house number on the road ("48")
    compound: str = ""  # 小区 name
    building: str = ""  # building in the compound (N栋) or sub-number of the house number (48-N号)


def parse_address(text: str, *, normalized: bool = False) -> AddressParts:
    """Split address text into road, house number, compound and building (normalizing it first unless told)."""
    match = _PARTS.match(text if normalized else normalize_address(text))
    assert match is not None  # every part is optional: the pattern matches any text
    parts = match.groupdict(default="")
    return AddressParts(parts["road"], parts["number"], parts["compound"], parts["building"] or parts["sub"])


def _parse_many(texts: Iterable[str]) -> pd.DataFrame:
    """Normalized key, road, number, compound and building of many address texts, one row each."""
    rows = []
    for text in texts:
        key = normalize_address(text)
        match = _PARTS.match(key)
        assert match is not None
        road, number, sub, compound, building = match.group("road", "number", "sub", "compound", "building")
        rows.append((key, road or "", number or "", compound or "", building or sub or ""))
    return pd.DataFrame(rows, columns=["key", "road", "number", "compound", "building"], dtype=object)


# --- results -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GeocodeResult:
    """Where an address text was placed: a building, a compound or lot centre, or nowhere (with a reason)."""

    text: str
    building_id: Any | None
    lon: float | None
    lat: float | None
    method: str | None  # exact | fuzzy | compound | road | None (not found)
    confidence: float
    matched_address: str | None  # the building's address, or the compound / road and number used
    reason: str | None  # why not found, or why only a compound or road was placed


def results_frame(results: Iterable[GeocodeResult]) -> pd.DataFrame:
    """Geocode results as a DataFrame, one row each."""
    columns = list(GeocodeResult.__dataclass_fields__)
    return pd.DataFrame([asdict(r) for r in results], columns=columns)


def _parts_text(parts: AddressParts, given: AddressParts, use_compound: bool) -> str:
    """The parts of an address that the text `given` has, joined for comparison."""
    return "".join((parts.road if given.road else "",
                    f"{parts.number}号" if given.number else "",
                    parts.compound if use_compound else "",
                    f"{parts.building}栋" if given.building else ""))


def _not_found(text: str, reason: str) -> GeocodeResult:
    """A result with no place."""
    return GeocodeResult(text, None, None, None, None, 0.0, None, reason)


@dataclass(frozen=True)
class _Hit:
    """The chosen building (row position) and its confidence."""

    row: int
    confidence: float


@dataclass(frozen=True)
class _Place:
    """A coarser place: the mean point of some buildings."""

    lon: float
    lat: float
    radius_m: float


# --- name vocabularies -------------------------------------------------------------------------------


def _digits(text: str) -> str:
    """The digit runs of a name, as a comparable signature."""
    return " ".join(re.findall(r"\d+", text))


class _Names:
    """Distinct road or compound names, looked up exactly, as a suffix, or by rapidfuzz ratio."""

    def __init__(self, names: Iterable[str]) -> None:
        """Index the distinct non-empty names, sorted (fuzzy ties go to the first in this order)."""
        self.names = sorted({n for n in names if n})
        self.known = set(self.names)
        self.lengths = sorted({len(n) for n in self.names}, reverse=True)
        self.signatures = np.array([_digits(n) for n in self.names], dtype=object)

    def exact_or_suffix(self, text: str) -> list[tuple[str, float]] | None:
        """[(name, 100)] if known; [(name, PREFIX_SCORE)] for name + 小区 or the longest known name ending text."""
        if text in self.known:
            return [(text, 100.0)]
        if text.endswith(GENERIC_SUFFIX) and text[:-len(GENERIC_SUFFIX)] in self.known:
            return [(text[:-len(GENERIC_SUFFIX)], PREFIX_SCORE)]
        for length in self.lengths:
            if length < len(text) and text[-length:] in self.known:
                return [(text[-length:], PREFIX_SCORE)]
        return None

    def fuzzy(self, texts: Sequence[str]) -> dict[str, list[tuple[str, float]]]:
        """For each text, up to NAME_CANDIDATES names with the same digits scoring MIN_NAME_SCORE or more."""
        found: dict[str, list[tuple[str, float]]] = {}
        if not self.names:
            return {t: [] for t in texts}
        for start in range(0, len(texts), FUZZY_BATCH):
            batch = texts[start:start + FUZZY_BATCH]
            scores = process.cdist(batch, self.names, scorer=fuzz.ratio, score_cutoff=MIN_NAME_SCORE,
                                   dtype=np.float32)
            for text, row in zip(batch, scores):
                found[text] = self._best(text, row)
        return found

    def _best(self, text: str, scores: NDArray[np.float32]) -> list[tuple[str, float]]:
        """The best-scoring names of one cdist row with the text's digits, highest first, then by name."""
        keep = np.flatnonzero((scores >= MIN_NAME_SCORE) & (self.signatures == _digits(text)))
        order = keep[np.lexsort((keep, -scores[keep]))][:NAME_CANDIDATES]
        return [(self.names[k], float(scores[k])) for k in order]

    def resolve(self, texts: Iterable[str]) -> dict[str, list[tuple[str, float]]]:
        """Candidate names for each distinct non-empty text: exact or suffix, else fuzzy."""
        resolved: dict[str, list[tuple[str, float]]] = {}
        pending = []
        for text in dict.fromkeys(t for t in texts if t):
            hit = self.exact_or_suffix(text)
            if hit is None:
                pending.append(text)
            else:
                resolved[text] = hit
        return resolved | self.fuzzy(pending)


# --- the gazetteer -----------------------------------------------------------------------------------


def _key(*parts: str) -> str:
    """One dictionary key for several address parts."""
    return "\x1f".join(parts)


def _group_rows(frame: pd.DataFrame, columns: list[str]) -> dict[str, Rows]:
    """Row positions of frame grouped by _key of the columns' values (rows with an empty value left out)."""
    keep = (frame[columns] != "").all(axis=1).to_numpy()
    if not keep.any():
        return {}
    keys = frame.loc[keep, columns[0]]
    for column in columns[1:]:
        keys = keys + "\x1f" + frame.loc[keep, column]
    codes, uniques = pd.factorize(keys.to_numpy(dtype=object))
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(1, len(uniques)))
    positions = np.flatnonzero(keep)[order]
    return dict(zip(uniques, np.split(positions, bounds)))


def _text_column(buildings: gpd.GeoDataFrame, name: str) -> pd.Series:
    """A text column with missing values as ''; all '' when the column is absent."""
    if name not in buildings.columns:
        return pd.Series("", index=buildings.index, dtype=object)
    return buildings[name].astype(object).where(buildings[name].notna(), "").astype(str)


def _normalize_repeated(texts: pd.Series) -> pd.Series:
    """normalize_address of a column with many repeated values, each distinct value normalized once."""
    codes, uniques = pd.factorize(texts.to_numpy(dtype=object))
    normalized = np.array([normalize_address(u) for u in uniques] + [""], dtype=object)
    return pd.Series(normalized[codes], dtype=object)  # code -1 (missing) takes the last, ""


def _representative_points(buildings: gpd.GeoDataFrame) -> tuple[Floats, Floats]:
    """A point inside each building (point_on_surface), in WGS-84 lon/lat."""
    geoms = buildings.geometry
    if geoms.crs is not None and not geoms.crs.equals("EPSG:4326"):
        geoms = geoms.to_crs("EPSG:4326")
    xy = shapely.get_coordinates(shapely.point_on_surface(np.asarray(geoms.values)))
    return xy[:, 0].astype(float), xy[:, 1].astype(float)


def _mean_place(lon: Floats, lat: Floats) -> _Place:
    """Mean point of some points and their largest distance from it (equirectangular, metres)."""
    mlon, mlat = float(lon.mean()), float(lat.mean())
    dx = (lon - mlon) * 111_320.0 * math.cos(math.radians(mlat))
    dy = (lat - mlat) * 110_540.0
    return _Place(mlon, mlat, float(np.sqrt(dx * dx + dy * dy).max()))


class Gazetteer:
    """Buildings indexed by normalized address keys, road and compound names, for geocoding address text."""

    def __init__(self, buildings: gpd.GeoDataFrame) -> None:
        """Index buildings (building_id, address, compound, geometry; community_code optional and unused)."""
        if not isinstance(buildings, gpd.GeoDataFrame) or buildings.active_geometry_name is None \
                or "building_id" not in buildings.columns:
            raise InputError("geocoding needs buildings with a building_id column and geometries")
        usable = buildings[~buildings.geometry.is_empty & buildings.geometry.notna()]
        self.ids = usable["building_id"].to_numpy(dtype=object)
        self.addresses = _text_column(usable, "address").to_numpy(dtype=object)
        self.lon, self.lat = _representative_points(usable)
        self.table = self._parts_table(usable)
        self.parts = {field: self.table[field].to_numpy(dtype=object) for field in AddressParts.__dataclass_fields__}
        self.exact = self._exact_keys()
        self.by_lot = _group_rows(self.table, ["road", "number"])
        self.by_lot_building = _group_rows(self.table, ["road", "number", "building"])
        self.by_compound = _group_rows(self.table, ["compound"])
        self.by_compound_building = _group_rows(self.table, ["compound", "building"])
        self.road_numbers = self._numbers_by_road()
        self.roads = _Names(self.table["road"])
        self.compounds = _Names(self.table["compound"])
        self.compound_names = self._original_compound_names(usable)

    def __len__(self) -> int:
        """The number of buildings indexed."""
        return len(self.ids)

    # --- building the index

    def _parts_table(self, buildings: gpd.GeoDataFrame) -> pd.DataFrame:
        """Normalized address, road, number, compound and building of each building."""
        parts = _parse_many(self.addresses)
        compound_column = _normalize_repeated(_text_column(buildings, "compound"))
        parts["compound"] = compound_column.where(compound_column != "", parts["compound"])
        return parts

    def _exact_keys(self) -> dict[str, Rows]:
        """Normalized full address and "compound + N栋" keys to the buildings that carry them."""
        table = self.table
        with_building = (table["compound"] != "") & (table["building"] != "")
        compound_keys = (table["compound"] + table["building"] + "栋").where(with_building, "")
        keys = pd.concat([table["key"], compound_keys], ignore_index=True)
        rows = np.concatenate([np.arange(len(table)), np.arange(len(table))])
        distinct = ~pd.DataFrame({"key": keys, "row": rows}).duplicated().to_numpy()
        distinct_rows = rows[distinct]
        grouped = _group_rows(pd.DataFrame({"key": keys[distinct]}), ["key"])
        return {key: distinct_rows[idx] for key, idx in grouped.items()}

    def _numbers_by_road(self) -> dict[str, NDArray[np.int64]]:
        """The sorted distinct house numbers of each road."""
        lots = self.table.loc[(self.table["road"] != "") & (self.table["number"] != ""), ["road", "number"]]
        lots = lots.assign(number=lots["number"].astype(np.int64)).drop_duplicates()
        return {road: np.sort(group.to_numpy()) for road, group in lots.groupby("road")["number"]}

    def _original_compound_names(self, buildings: gpd.GeoDataFrame) -> dict[str, str]:
        """Each normalized compound name to a name as written in the data."""
        original = _text_column(buildings, "compound").to_numpy(dtype=object)
        names: dict[str, str] = {}
        for key, rows in self.by_compound.items():
            names[key] = original[rows[0]] or key
        return names

    # --- geocoding

    def geocode(self, texts: Sequence[str]) -> list[GeocodeResult]:
        """Geocode address texts, one result each, in order."""
        texts = [("" if t is None else str(t)) for t in texts]
        normalized = [normalize_address(t) for t in texts]
        results: list[GeocodeResult | None] = [self._exact_result(t, n) for t, n in zip(texts, normalized)]
        pending = [i for i, r in enumerate(results) if r is None]
        parts = {i: self._reinterpret(parse_address(normalized[i], normalized=True)) for i in pending}
        roads = self.roads.resolve(p.road for p in parts.values())
        compounds = self.compounds.resolve(p.compound for p in parts.values())
        for i in pending:
            p = parts[i]
            results[i] = self._resolve(texts[i], p, roads.get(p.road, []), compounds.get(p.compound, []))
        return results  # type: ignore[return-value]

    def _reinterpret(self, parts: AddressParts) -> AddressParts:
        """Read "compound + N号" ("华城新城4号", a known compound but no known road) as building N of the compound."""
        if (parts.road in self.compounds.known and parts.road not in self.roads.known and not parts.compound
                and not parts.building):
            return AddressParts(compound=parts.road, building=parts.number)
        return parts

    def geocode_one(self, text: str) -> GeocodeResult:
        """Geocode one address text."""
        return self.geocode([text])[0]

    def _exact_result(self, text: str, normalized: str) -> GeocodeResult | None:
        """The exact match of a normalized text, a not-found result for empty text, or None to go on."""
        if not normalized:
            return _not_found(text, "no address text left after normalization")
        rows = self.exact.get(normalized)
        if rows is None or len(rows) != 1:
            return None
        return self._building_result(text, int(rows[0]), 1.0, "exact")

    def _building_result(self, text: str, row: int, confidence: float, method: str) -> GeocodeResult:
        """A result placed at one building."""
        return GeocodeResult(text, self.ids[row], float(self.lon[row]), float(self.lat[row]), method,
                             round(confidence, 4), str(self.addresses[row]), None)

    def _resolve(self, text: str, parts: AddressParts, roads: list[tuple[str, float]],
                 compounds: list[tuple[str, float]]) -> GeocodeResult:
        """The best building for the parts, else a compound or road place, else not found."""
        hits = self._building_hits(parts, roads, compounds)
        best = self._best_hit(hits)
        if best is not None:
            method = "exact" if best.confidence >= 1.0 - TIE_EPSILON else "fuzzy"
            return self._building_result(text, best.row, best.confidence, method)
        why = self._why_no_building(parts, hits, roads, compounds)
        return (self._compound_place(text, parts, compounds, why)
                or self._road_place(text, parts, roads, why)
                or _not_found(text, why))

    # --- buildings

    def _building_hits(self, parts: AddressParts, roads: list[tuple[str, float]],
                       compounds: list[tuple[str, float]]) -> dict[int, float]:
        """Candidate buildings with confidence: by compound and building, by road, number and building."""
        rows: list[Rows] = []
        if parts.building:
            rows += [self.by_compound_building.get(_key(name, parts.building), _NO_ROWS) for name, _ in compounds]
        if parts.number:
            rows += [self._lot_rows(name, parts) for name, _ in roads]
        found = np.unique(np.concatenate(rows)) if rows else _NO_ROWS
        return {int(row): self._confidence(parts, int(row)) for row in found}

    def _lot_rows(self, road: str, parts: AddressParts) -> Rows:
        """Buildings at road and number: the given building, or the only building of the lot."""
        if parts.building:
            return self.by_lot_building.get(_key(road, parts.number, parts.building), _NO_ROWS)
        rows = self.by_lot.get(_key(road, parts.number), _NO_ROWS)
        return rows if len(rows) == 1 else _NO_ROWS

    def _confidence(self, parts: AddressParts, row: int) -> float:
        """fuzz.ratio of the text's parts against the same parts of the building, with number/compound penalties.

        Only the parts the text gives are compared, so a text without a road is not penalized for it.
        """
        building = AddressParts(**{field: values[row] for field, values in self.parts.items()})
        factor = 1.0
        if parts.number and parts.number != building.number:
            factor *= NUMBER_MISMATCH
        use_compound = bool(parts.compound and building.compound)
        if parts.compound and not building.compound:
            factor *= MISSING_COMPOUND
        text = _parts_text(parts, parts, use_compound)
        return factor * fuzz.ratio(text, _parts_text(building, parts, use_compound)) / 100

    def _best_hit(self, hits: dict[int, float]) -> _Hit | None:
        """The single best hit at MIN_BUILDING_CONFIDENCE or more; None when absent or tied."""
        if not hits:
            return None
        ranked = sorted(hits.items(), key=lambda item: (-item[1], item[0]))
        row, confidence = ranked[0]
        tied = len(ranked) > 1 and ranked[1][1] >= confidence - TIE_EPSILON
        if confidence < MIN_BUILDING_CONFIDENCE or tied:
            return None
        return _Hit(row, confidence)

    def _why_no_building(self, parts: AddressParts, hits: dict[int, float], roads: list[tuple[str, float]],
                         compounds: list[tuple[str, float]]) -> str:
        """A reason no single building was chosen."""
        if hits:
            top = max(hits.values())
            if top < MIN_BUILDING_CONFIDENCE:
                return f"best building match has confidence {top:.2f}, below {MIN_BUILDING_CONFIDENCE}"
            tied = sorted(str(self.addresses[r]) for r, c in hits.items() if c >= top - TIE_EPSILON)
            return f"ambiguous between {len(tied)} buildings: {', '.join(tied[:3])}"
        if not roads and not compounds:
            if parts.compound in self.roads.known:
                return f"{parts.compound} is a road but the text has no house number"
            return "no known road, compound or village in the text"
        if compounds and parts.building:
            return f"no building {parts.building}栋 in {compounds[0][0]}"
        if roads and parts.number:
            number = parts.number + (f"-{parts.building}" if parts.building else "")
            return f"no single building at {roads[0][0]}{number}号"
        return "no house or building number in the text"

    # --- coarser places

    def _place(self, rows: Rows) -> _Place | None:
        """The mean point of buildings if they lie within MAX_PLACE_RADIUS_M of it, else None."""
        if len(rows) == 0:
            return None
        place = _mean_place(self.lon[rows], self.lat[rows])
        return place if place.radius_m <= MAX_PLACE_RADIUS_M else None

    def _compound_place(self, text: str, parts: AddressParts, compounds: list[tuple[str, float]],
                        why: str) -> GeocodeResult | None:
        """The centre of the best compound, if one compound scores best and is one place."""
        if not compounds or (len(compounds) > 1 and compounds[1][1] >= compounds[0][1] - TIE_EPSILON):
            return None
        name, score = compounds[0]
        place = self._place(self.by_compound.get(name, _NO_ROWS))
        if place is None:
            return None
        confidence = COMPOUND_CONFIDENCE * score / 100
        return GeocodeResult(text, None, place.lon, place.lat, "compound", round(confidence, 4),
                             self.compound_names.get(name, name), why)

    def _road_place(self, text: str, parts: AddressParts, roads: list[tuple[str, float]],
                    why: str) -> GeocodeResult | None:
        """The buildings at the best road and house number, or at the nearest number of the same parity."""
        if not roads or not parts.number or (len(roads) > 1 and roads[1][1] >= roads[0][1] - TIE_EPSILON):
            return None
        road, score = roads[0]
        rows = self.by_lot.get(_key(road, parts.number))
        if rows is not None:
            place, number, factor = self._place(rows), parts.number, ROAD_CONFIDENCE
        else:
            nearest = self._nearest_number(road, int(parts.number))
            if nearest is None:
                return None
            number = str(nearest)
            place, factor = self._place(self.by_lot[_key(road, number)]), NEAR_NUMBER_CONFIDENCE
            why = f"{why}; no {parts.number}号 on {road}, placed at {number}号"
        if place is None:
            return None
        return GeocodeResult(text, None, place.lon, place.lat, "road", round(factor * score / 100, 4),
                             f"{road}{number}号", why)

    def _nearest_number(self, road: str, number: int) -> int | None:
        """The nearest house number of the same parity on road within NEAR_NUMBER_WINDOW (lower on ties)."""
        numbers = self.road_numbers.get(road)
        if numbers is None:
            return None
        same = numbers[(numbers % 2 == number % 2) & (np.abs(numbers - number) <= NEAR_NUMBER_WINDOW)]
        if len(same) == 0:
            return None
        return int(same[np.lexsort((same, np.abs(same - number)))][0])
