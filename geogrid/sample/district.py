"""Deterministic generator of a realistic synthetic Chinese urban district (streets to buildings, cameras, incidents)."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pyproj
import shapely
from scipy import ndimage
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components, dijkstra

from geogrid.incidents.china_time import OFFSET_TEXT

DISTRICT_CODE = "360702"
DISTRICT_NAME = "章贡区"
CENTER_LONLAT = (114.93, 25.83)  # Ganzhou, Jiangxi
METRIC_CRS = "EPSG:4547"  # CGCS2000 / 3-degree Gauss-Kruger CM 114E
WGS84 = "EPSG:4326"
DECIMALS = 7
LAYERS = ("district", "streets", "communities", "buildings", "villager_groups", "roads", "cameras", "incidents")

CELL_M = 230.0  # nominal block size between two roads of the lattice
HALF_WIDTH = np.array([18.0, 11.0, 5.0])  # half road width by class: primary, secondary, residential
CROSS_COST = np.array([1.8, 1.4, 1.0])  # boundaries prefer to follow wide roads
SETBACK_M = 5.0  # building line behind the kerb
ROAD_CLASSES = np.array(["primary", "secondary", "residential"], dtype=object)
STREET_HH = 24_000
COMMUNITY_HH = 2_600
MIN_COMMUNITY_HH = 1_000
RURAL_SHARE = 0.07
VILLAGE_HH = 990
VILLAGE_CELLS = 40
URBAN_PEOPLE = (2.6, 0.25)
RURAL_PEOPLE = (3.4, 0.7)
HOUSE_HH = 1.15  # households per village house
WALKUP, MIDRISE, TOWER = 0, 1, 2

LANDUSE = np.array(["residential", "school", "park", "market", "commercial", "government"], dtype=object)
LANDUSE_P = [0.8, 0.06, 0.05, 0.03, 0.04, 0.02]

CATEGORIES = ("city_management", "environment_sanitation", "public_security", "fire_safety", "disputes",
              "livelihood_services")
CHANNELS = ("grid_patrol", "citizen_app", "hotline_12345", "video_patrol")
SOURCE_CATEGORY_P = {  # category mix by where an incident comes from
    "market": [0.42, 0.33, 0.10, 0.05, 0.06, 0.04],
    "compound": [0.08, 0.20, 0.10, 0.14, 0.23, 0.25],
    "junction": [0.50, 0.12, 0.26, 0.02, 0.06, 0.04],
    "homes": [0.16, 0.20, 0.12, 0.09, 0.18, 0.25],
    "road": [0.48, 0.25, 0.15, 0.03, 0.04, 0.05],
}
CHANNEL_P = np.array([  # channel mix by category
    [0.45, 0.20, 0.15, 0.20], [0.40, 0.30, 0.20, 0.10], [0.25, 0.20, 0.30, 0.25],
    [0.50, 0.15, 0.20, 0.15], [0.35, 0.25, 0.38, 0.02], [0.30, 0.35, 0.33, 0.02],
])
DAY_HOURS = np.array([1, .6, .4, .3, .3, .5, 1.5, 3, 5, 7, 8, 7.5, 5, 4.5, 6, 7, 7, 6.5, 5, 4.5, 4, 3, 2, 1.5])
NIGHT_HOURS = np.array([3, 3, 2.5, 2, 1.5, 1, 1, 1.5, 2, 2.5, 3, 3, 3, 3, 3, 3, 3.5, 4, 4.5, 5, 5.5, 5.5, 5, 4])
WEEKDAY_FACTOR = np.array([1.15, 1.1, 1.05, 1.05, 1.0, 0.8, 0.75])  # Monday first
DESCRIPTIONS = {
    "city_management": ["占道经营，流动摊贩在人行道摆摊", "违规张贴小广告", "共享单车乱停放堵塞人行道",
                        "井盖破损存在安全隐患", "路灯不亮，夜间出行不便", "违章搭建彩钢棚", "机动车违停占用消防通道",
                        "店外堆放杂物占道"],
    "environment_sanitation": ["垃圾桶满溢未及时清运", "路面油污未清理", "绿化带内堆积建筑垃圾",
                               "餐馆油烟扰民", "下水道堵塞污水外溢", "公厕卫生差无人打扫", "夜间施工噪音扰民"],
    "public_security": ["夜间有人聚集酗酒滋事", "电动车电瓶被盗", "可疑人员在楼道徘徊", "门禁损坏外来人员随意进出",
                        "发现疑似电信诈骗宣传单", "路口监控损坏"],
    "fire_safety": ["楼道内电动车充电", "消防通道被杂物堵塞", "灭火器过期未更换", "飞线充电存在火灾隐患",
                    "沿街店铺违规住人", "燃气管道老化有异味"],
    "disputes": ["邻里因噪音发生纠纷", "楼上漏水引发邻里矛盾", "物业费收缴纠纷", "停车位归属争议",
                 "装修扰民引发争执", "租户与房东押金纠纷"],
    "livelihood_services": ["独居老人需要上门探访", "反映小区电梯故障停运", "咨询医保参保办理", "小区停水未提前通知",
                            "申请临时救助", "反映充电桩不足", "咨询老旧小区改造进度"],
}

STREET_STEMS = ["解放", "赣江", "南外", "东外", "黄金岭", "水南", "白云", "黄金", "章江", "文清"]
TOWN_STEMS = ["水东", "沙河", "沙石", "水西", "蟠龙", "湖边", "潭口", "潭东", "茅店", "储潭"]
COMMUNITY_STEMS = ["濂溪", "文清", "大公", "和平", "厚德", "解放", "章江", "赣江", "八一四", "健康", "东阳山", "青年",
                   "南市", "文明", "郁孤台", "公园", "标准", "新赣州", "金岭", "杨梅", "营角上", "光明", "西津",
                   "东门", "红旗", "攀高铺", "天竺山", "迎宾", "龙泉", "滨江"]
VILLAGE_STEMS = ["沙河", "水东", "黄屋坪", "七里", "虎岗", "蟠龙", "水南", "新路", "凌源", "湖边", "刘屋", "上坪",
                 "下坪", "长塘", "高坑", "茅店", "杨屋", "朱坊", "罗坑", "龙口", "白塔", "石门", "峰山", "塘角"]
ROAD_STEMS = ["解放", "红旗", "文清", "章江", "赣江", "东阳山", "青年", "和平", "健康", "八一四", "长征", "厚德",
              "濂溪", "阳明", "章贡", "沿江", "西津", "东门", "兴国", "南康", "滨江", "迎宾", "登峰", "华坚",
              "文明", "人民", "建设", "环城", "公园", "赣南", "钓鱼台", "大公", "中山", "东胜", "杨梅渡"]
COMPOUND_STEMS = ["阳光", "锦绣", "金色", "翠湖", "滨江", "书香", "紫荆", "丽都", "华城", "东方", "中央", "盛世",
                  "江南", "香榭", "幸福", "恒大", "碧桂", "万象", "嘉福", "章江"]
COMPOUND_SUFFIXES = ["花园", "家园", "小区", "华庭", "雅苑", "新村", "公馆", "名都", "丽景", "佳苑", "御府", "华府",
                     "名苑", "锦城", "国际", "天地", "新城", "广场"]
WORK_UNITS = ["纺织厂", "卷烟厂", "机械厂", "供电局", "粮食局", "自来水公司", "冶金厂", "化肥厂", "电机厂", "建工局",
              "教育局", "交通局", "水电局", "钨矿", "糖厂", "印刷厂", "酒厂", "农机厂", "电厂", "人民医院"]
FIRST_CHARS = "东南西北中新金银龙凤华兴安和平福寿康宁泰丰裕盛昌阳明清文德仁光荣江湖山塘桥溪沙石林松梅桂莲荷云霞翠锦嘉瑞祥吉永长春"
SECOND_CHARS = "兴安和平华阳明光荣丰盛昌源泉湖山岭塘桥溪湾洲坪园林坊门岗亭苑庄"
RURAL_FIRST = "黄刘李张钟曾谢赖朱杨罗邱陈何温郭上下新老大小高长石竹梅樟枫桃杉松龙凤白"
RURAL_SECOND = "坑坪塘岭背屋坝田岗垄排圳陂湾口坳圩洲"


@dataclass(frozen=True)
class Sizes:
    """How many of each unit a district of ``households`` has."""

    households: int
    rural_households: int
    villages: int
    towns: int
    urban_streets: int

    @property
    def village_scale(self) -> float:
        """Below 1 for districts too small for full-size villages."""
        return min(1.0, self.rural_households / (self.villages * VILLAGE_HH))

    @classmethod
    def of(cls, households: int) -> Sizes:
        rural = int(max(RURAL_SHARE * households, min(0.3 * households, 3 * VILLAGE_HH)))
        villages = max(3, round(rural / VILLAGE_HH))
        streets = max(3, round(households / STREET_HH))
        towns = min(villages, max(1, round(0.15 * streets)))
        return cls(households, rural, villages, towns, streets - towns)


@dataclass(frozen=True)
class Lattice:
    """A warped, jittered grid of road centrelines; cell (i, j) has flat id i * n + j."""

    nodes: np.ndarray  # (n + 1, n + 1, 2) metric coordinates
    vclass: np.ndarray  # road class of vertical line i (0 primary, 1 secondary, 2 residential)
    hclass: np.ndarray  # road class of horizontal line j
    angle: float

    @property
    def n(self) -> int:
        return self.nodes.shape[0] - 1

    def corners(self, cells: np.ndarray) -> np.ndarray:
        i, j = np.divmod(cells, self.n)
        p = self.nodes
        return np.stack([p[i, j], p[i + 1, j], p[i + 1, j + 1], p[i, j + 1]], axis=1)

    def at(self, cells: np.ndarray, u: np.ndarray, v: np.ndarray) -> np.ndarray:
        c = self.corners(cells)
        u, v = u[:, None], v[:, None]
        return (1 - u) * (1 - v) * c[:, 0] + u * (1 - v) * c[:, 1] + u * v * c[:, 2] + (1 - u) * v * c[:, 3]

    def centres(self) -> np.ndarray:
        return self.corners(np.arange(self.n * self.n)).mean(axis=1)

    def polygons(self, cells: np.ndarray) -> np.ndarray:
        c = self.corners(cells)
        return shapely.polygons(np.concatenate([c, c[:, :1]], axis=1))


@dataclass(frozen=True)
class Graph:
    """Rook adjacency of the district's cells; edges cross one lattice line each."""

    cells: np.ndarray  # lattice cell id of each node
    a: np.ndarray
    b: np.ndarray
    length: np.ndarray
    cls: np.ndarray  # class of the line an edge crosses

    @property
    def size(self) -> int:
        return len(self.cells)


# ----------------------------------------------------------------------------- public API


def build(households: int = 60_000, seed: int = 0, incidents: int = 5_000,
          cameras: int = 300) -> dict[str, gpd.GeoDataFrame]:
    """All layers of a synthetic district, in EPSG:4326, keyed by layer name."""
    rng = np.random.default_rng(seed)
    sizes = Sizes.of(int(households))
    origin = np.array(pyproj.Transformer.from_crs(WGS84, METRIC_CRS, always_xy=True).transform(*CENTER_LONLAT))
    lat = _lattice(rng, _lattice_size(sizes), origin)
    centres = lat.centres()
    urban = _urban(rng, lat, sizes, centres, origin)
    inside_u, inside_r, landuse = _district(rng, lat, sizes, centres, origin, urban)
    urban["buildings"] = _take(urban["buildings"], landuse[urban["buildings"]["cell"]] == 0)
    g = _graph(rng, lat, inside_u | inside_r, centres)
    plan = _plan(rng, lat, g, sizes, inside_u, urban, landuse, centres)
    roads = _roads(rng, lat, inside_u, inside_u | inside_r)
    names = _names(rng, plan, roads)
    layers = _assemble(rng, lat, g, plan, roads, names, urban, landuse, incidents, cameras, sizes)
    return {name: _to_wgs84(layers[name]) for name in LAYERS}


def generate(out_dir: Path | str, *, households: int = 60_000, seed: int = 0, incidents: int = 5_000,
             cameras: int = 300, fmt: str = "geojson") -> dict[str, Path]:
    """Write one file per layer (``<layer>.geojson`` or ``<layer>.gpkg``) into out_dir."""
    if fmt not in ("geojson", "gpkg"):
        raise ValueError(f"fmt must be 'geojson' or 'gpkg', not {fmt!r}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    layers = build(households=households, seed=seed, incidents=incidents, cameras=cameras)
    return {name: _write(gdf, out / f"{name}.{fmt}", name, fmt) for name, gdf in layers.items()}


def _take(table: dict, keep: np.ndarray) -> dict:
    return {key: val[keep] for key, val in table.items()}


def _write(gdf: gpd.GeoDataFrame, path: Path, layer: str, fmt: str) -> Path:
    path.unlink(missing_ok=True)
    if fmt == "geojson":
        pyogrio.write_dataframe(gdf, path, driver="GeoJSON", layer_options={"COORDINATE_PRECISION": DECIMALS})
        return path
    previous = pyogrio.get_gdal_config_option("OGR_CURRENT_DATE")
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": "2025-01-01T00:00:00.000Z"})  # no timestamp drift
    try:
        pyogrio.write_dataframe(gdf, path, layer=layer, driver="GPKG")
    finally:
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": previous})
    return path


def _to_wgs84(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    out = gdf.to_crs(WGS84)
    geoms = shapely.remove_repeated_points(shapely.transform(out.geometry.to_numpy(),
                                                             lambda c: np.round(c, DECIMALS)))
    return out.set_geometry(gpd.GeoSeries(geoms, index=out.index, crs=WGS84)).reset_index(drop=True)


# ----------------------------------------------------------------------------- lattice and zones


def _lattice_size(sizes: Sizes) -> int:
    urban_cells = max(8.0, (sizes.households - sizes.rural_households) / 450)
    total = urban_cells + sizes.villages * VILLAGE_CELLS
    return int(2 * np.ceil(1.7 * np.sqrt(total / np.pi)) + 10)


def _lattice(rng: np.random.Generator, n: int, origin: np.ndarray) -> Lattice:
    axes = []
    for _ in range(2):
        pos = np.concatenate([[0.0], np.cumsum(CELL_M * rng.uniform(0.8, 1.25, n))])
        axes.append(pos - pos[n // 2])
    x, y = np.meshgrid(axes[0], axes[1], indexing="ij")
    amp, wave = 0.14 * CELL_M, 14 * CELL_M
    ph = rng.uniform(0, 2 * np.pi, 4)
    dx = amp * (np.sin(2 * np.pi * y / wave + ph[0]) + 0.5 * np.sin(2 * np.pi * (x + y) / (1.7 * wave) + ph[1]))
    dy = amp * (np.sin(2 * np.pi * x / wave + ph[2]) + 0.5 * np.sin(2 * np.pi * (x - y) / (1.3 * wave) + ph[3]))
    xy = np.stack([x + dx, y + dy], axis=-1) + np.clip(rng.normal(0, 4.0, (n + 1, n + 1, 2)), -8, 8)
    angle = float(rng.uniform(-0.35, 0.35))
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    idx = np.arange(n + 1) - n // 2
    cls = np.where(idx % 8 == 0, 0, np.where(idx % 4 == 0, 1, 2))
    return Lattice(xy @ rot.T + origin, cls, cls.copy(), angle)


def _star_score(rng: np.random.Generator, xy: np.ndarray, centre: np.ndarray) -> np.ndarray:
    """Distance to centre over a smooth angular factor: thresholds give star-shaped blobs."""
    d = xy - centre
    th = np.arctan2(d[:, 1], d[:, 0])
    ph = rng.uniform(0, 2 * np.pi, 3)
    f = 1 + 0.15 * np.sin(2 * th + ph[0]) + 0.08 * np.sin(3 * th + ph[1]) + 0.05 * np.sin(5 * th + ph[2])
    return np.hypot(d[:, 0], d[:, 1]) / f


def _hilbert(i: np.ndarray, j: np.ndarray, n: int) -> np.ndarray:
    """Hilbert-curve index of lattice positions (for spatially coherent orderings)."""
    side = 1 << int(np.ceil(np.log2(max(n, 2))))
    x, y, d = i.astype(np.int64), j.astype(np.int64), np.zeros(len(i), dtype=np.int64)
    s = side // 2
    while s > 0:
        rx = (x & s) > 0
        ry = (y & s) > 0
        d += s * s * ((3 * rx) ^ ry)
        flip = ~ry & rx
        x = np.where(flip, side - 1 - x, x)
        y = np.where(flip, side - 1 - y, y)
        x, y = np.where(~ry, y, x), np.where(~ry, x, y)
        s //= 2
    return d


def _largest(mask: np.ndarray, n: int) -> np.ndarray:
    """The largest rook-connected component of a flat cell mask."""
    lab, count = ndimage.label(mask.reshape(n, n))
    if count <= 1:
        return mask.copy()
    sizes = np.bincount(lab.ravel())
    sizes[0] = 0
    return (lab == np.argmax(sizes)).ravel()


# ----------------------------------------------------------------------------- urban blocks and buildings


def _urban(rng: np.random.Generator, lat: Lattice, sizes: Sizes, centres: np.ndarray,
           origin: np.ndarray) -> dict:
    """Blocks nearest the centre, with their lots and buildings, until they hold the urban households."""
    order = np.argsort(_star_score(rng, centres, origin), kind="stable")
    target = max(sizes.households - sizes.rural_households, 1)
    est = max(8.0, target / 650)
    m = int(min(len(order), 1.5 * est + 16))
    while True:
        cand = order[:m]
        landuse = rng.choice(len(LANDUSE), size=m, p=LANDUSE_P)
        landuse[0] = 4  # the very centre is commercial
        res = np.flatnonzero(landuse == 0)
        lots = _lot_table(rng, lat, cand[res], np.sqrt(res / est))
        bld = _lot_buildings(rng, lat, lots)
        rank = np.full(lat.n * lat.n, m)
        rank[cand] = np.arange(m)
        cum = np.cumsum(np.bincount(rank[bld["cell"]], bld["hh"], minlength=m))
        if cum[-1] >= target or m == len(order):
            break
        m = min(len(order), int(1.6 * m))
    k = min(m, max(int(np.searchsorted(cum, target)) + 1, 2 * sizes.urban_streets + 2))
    land = np.full(lat.n * lat.n, -1)
    land[cand[:k]] = landuse[:k]
    return {"cells": cand[:k], "landuse": land, "lots": lots, "buildings": bld}


def _usable(lat: Lattice, cells: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per cell: the parameter box behind the road setbacks, and conservative edge lengths (m)."""
    c = lat.corners(cells)
    side = np.hypot(*(c[:, [1, 2, 3, 2]] - c[:, [0, 3, 0, 1]]).transpose(2, 0, 1))  # bottom, top, left, right
    len_u, len_v = np.minimum(side[:, 0], side[:, 1]), np.minimum(side[:, 2], side[:, 3])
    i, j = np.divmod(cells, lat.n)
    back = HALF_WIDTH + SETBACK_M
    box = np.stack([back[lat.vclass[i]] / len_u, 1 - back[lat.vclass[i + 1]] / len_u,
                    back[lat.hclass[j]] / len_v, 1 - back[lat.hclass[j + 1]] / len_v], axis=1)
    return box, np.stack([len_u, len_v], axis=1)


def _lot_table(rng: np.random.Generator, lat: Lattice, cells: np.ndarray, rho: np.ndarray) -> dict:
    """Split each residential block into 1, 2 or 4 lots and give each a building programme."""
    pattern = rng.choice(4, size=len(cells), p=[0.35, 0.25, 0.2, 0.2])  # whole, 2 along u, 2 along v, 2 x 2
    nlots = np.array([1, 2, 2, 4])[pattern]
    owner = np.repeat(np.arange(len(cells)), nlots)
    slot = np.arange(len(owner)) - np.repeat(np.cumsum(nlots) - nlots, nlots)
    p = pattern[owner]
    su, sv = rng.uniform(0.4, 0.6, (2, len(cells)))[:, owner]
    cut_u, cut_v = (p == 1) | (p == 3), (p == 2) | (p == 3)
    hi_u = cut_u & np.where(p == 3, slot % 2 == 1, slot == 1)
    hi_v = cut_v & np.where(p == 3, slot >= 2, slot == 1)
    lots = {"cell": cells[owner], "lu0": np.where(hi_u, su, 0.0), "lu1": np.where(cut_u & ~hi_u, su, 1.0),
            "lv0": np.where(hi_v, sv, 0.0), "lv1": np.where(cut_v & ~hi_v, sv, 1.0)}
    lots.update(_programme(rng, np.clip(rho[owner], 0, 1.2)))
    return lots


def _programme(rng: np.random.Generator, rho: np.ndarray) -> dict:
    """Building type and dimensions per lot: walk-ups in the old centre, towers further out."""
    k = len(rho)
    p_walk = np.clip(0.6 - 0.45 * rho, 0.1, 1)
    p_tower = np.clip(0.12 + 0.55 * rho, 0, 0.8)
    r = rng.random(k)
    typ = np.where(r < p_walk, WALKUP, np.where(r < 1 - p_tower, MIDRISE, TOWER))
    tower, walk = typ == TOWER, typ == WALKUP
    units = np.where(walk, rng.choice([1, 2, 3], k, p=[0.1, 0.45, 0.45]), rng.choice([2, 3], k))
    units = np.where(tower, rng.choice(np.arange(1, 7), k, p=[0.2, 0.25, 0.25, 0.15, 0.1, 0.05]), units)
    point = tower & (units == 1)
    length = np.where(point, rng.uniform(26, 32, k), units * np.where(tower, rng.uniform(17, 20, k),
                                                                      rng.uniform(18.5, 21, k)))
    depth = np.select([walk, typ == MIDRISE, point], [rng.uniform(10.5, 13, k), rng.uniform(12, 14, k),
                                                      rng.uniform(22, 28, k)], rng.uniform(16, 20, k))
    scatter = rng.random(k) < np.where(walk, 0.2, 0.08)
    return {
        "typ": typ, "units": units, "length": length, "depth": depth,
        "gap_u": np.choose(typ, [rng.uniform(8, 14, k), rng.uniform(10, 16, k), rng.uniform(14, 22, k)]),
        "gap_v": np.choose(typ, [rng.uniform(16, 22, k), rng.uniform(24, 32, k), rng.uniform(36, 48, k)]),
        "floors": np.choose(typ, [rng.choice([5, 6, 7], k, p=[0.15, 0.6, 0.25]), rng.integers(8, 12, k),
                                  rng.integers(18, 34, k)]),
        "landing": np.where(point, rng.integers(4, 9, k), np.where(tower, rng.integers(2, 5, k), 2)),
        "no_units": tower & (rng.random(k) < 0.12),
        "scatter": scatter, "cap": np.where(scatter, 6, 30), "drop": np.where(scatter, 0.0, 0.08),
    }


def _lot_buildings(rng: np.random.Generator, lat: Lattice, lots: dict) -> dict:
    """Rows and columns of rectangular footprints in every lot, kept only where they fit the block."""
    box, lens = _usable(lat, lots["cell"])
    cu0 = box[:, 0] + (box[:, 1] - box[:, 0]) * lots["lu0"]
    cu1 = box[:, 0] + (box[:, 1] - box[:, 0]) * lots["lu1"]
    cv0 = box[:, 2] + (box[:, 3] - box[:, 2]) * lots["lv0"]
    cv1 = box[:, 2] + (box[:, 3] - box[:, 2]) * lots["lv1"]
    nc = np.floor((cu1 - cu0) * lens[:, 0] / (lots["length"] + lots["gap_u"])).astype(int)
    nr = np.floor((cv1 - cv0) * lens[:, 1] / (lots["depth"] + lots["gap_v"])).astype(int)
    nc = np.clip(nc, 0, lots["cap"])
    nr = np.clip(nr, 0, np.maximum(lots["cap"] // np.maximum(nc, 1), 1))
    count = nc * nr
    lot = np.repeat(np.arange(len(nc)), count)
    k = np.arange(len(lot)) - np.repeat(np.cumsum(count) - count, count)
    u = cu0[lot] + (cu1 - cu0)[lot] * (k % nc[lot] + 0.5) / nc[lot]
    v = cv0[lot] + (cv1 - cv0)[lot] * (k // nc[lot] + 0.5) / nr[lot]
    cell = lots["cell"][lot]
    du = lat.at(cell, u + 1e-3, v) - lat.at(cell, u - 1e-3, v)
    geom = _rects(lat.at(cell, u, v), lots["length"][lot], lots["depth"][lot], np.arctan2(du[:, 1], du[:, 0]))
    usable = lat.at(np.repeat(cell, 4), np.stack([box[lot, 0], box[lot, 1], box[lot, 1], box[lot, 0]], 1).ravel(),
                    np.stack([box[lot, 2], box[lot, 2], box[lot, 3], box[lot, 3]], 1).ravel()).reshape(-1, 4, 2)
    fits = shapely.contains(shapely.polygons(np.concatenate([usable, usable[:, :1]], axis=1)), geom)
    keep = fits & (rng.random(len(lot)) >= lots["drop"][lot])
    bld = {"lot": lot, "cell": cell, "geometry": geom}
    bld.update(_storeys(rng, lots, lot))
    return {key: val[keep] for key, val in bld.items()}


def _storeys(rng: np.random.Generator, lots: dict, lot: np.ndarray) -> dict:
    """Floors, households and unit counts of the footprints of ``lot``."""
    m = len(lot)
    typ, units, floors = lots["typ"][lot], lots["units"][lot], lots["floors"][lot]
    tower = typ == TOWER
    low = np.where(typ == WALKUP, 5, 8)
    high = np.where(typ == WALKUP, 7, 11)
    vary = np.where(rng.random(m) < 0.15, rng.choice([-1, 1], m), 0)
    floors = np.where(tower, np.clip(floors + rng.integers(-3, 4, m), 18, 33), np.clip(floors + vary, low, high))
    hh = np.where(tower, np.clip(floors * units * lots["landing"][lot], 100, 700), np.clip(units * floors * 2, 12, 66))
    unit_count = np.where(tower & ~lots["no_units"][lot], units, np.nan)
    return {"floors": floors, "hh": hh.astype(np.int64), "units": unit_count, "typ": typ}


def _rects(centre: np.ndarray, length: np.ndarray, depth: np.ndarray, angle: np.ndarray) -> np.ndarray:
    """Rectangles from centres, sizes and the direction of the long side (radians)."""
    eu = np.stack([np.cos(angle), np.sin(angle)], axis=1)
    ev = np.stack([-eu[:, 1], eu[:, 0]], axis=1)
    su = np.array([-1, 1, 1, -1, -1])[None, :, None] * (length / 2)[:, None, None]
    sv = np.array([-1, -1, 1, 1, -1])[None, :, None] * (depth / 2)[:, None, None]
    return shapely.polygons(centre[:, None, :] + su * eu[:, None, :] + sv * ev[:, None, :])


def _district(rng: np.random.Generator, lat: Lattice, sizes: Sizes, centres: np.ndarray, origin: np.ndarray,
              urban: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Urban and rural cell masks: rural land is a crescent around the core, thicker on one side."""
    n = lat.n
    inside_u = np.zeros(n * n, bool)
    inside_u[urban["cells"]] = True
    inside_u = _largest(inside_u, n)
    n_rural = int(np.ceil(sizes.villages * VILLAGE_CELLS * max(sizes.village_scale, 0.25)))
    r_u = np.sqrt(inside_u.sum() / np.pi) * CELL_M
    r_d = np.sqrt((inside_u.sum() + n_rural) / np.pi) * CELL_M
    theta = rng.uniform(0, 2 * np.pi)
    score = _star_score(rng, centres, origin + 0.6 * (r_d - r_u) * np.array([np.cos(theta), np.sin(theta)]))
    score[inside_u] = -1
    inside = np.zeros(n * n, bool)
    inside[np.argsort(score, kind="stable")[: inside_u.sum() + n_rural]] = True
    inside = ndimage.binary_fill_holes(inside.reshape(n, n)).ravel()
    lab, _ = ndimage.label(inside.reshape(n, n))
    inside = (lab == lab.ravel()[np.flatnonzero(inside_u)[0]]).ravel()
    rural = inside & ~inside_u
    lab, count = ndimage.label(rural.reshape(n, n))
    counts = np.bincount(lab.ravel(), minlength=count + 1)
    counts[0] = 0
    small = (counts < VILLAGE_CELLS // 2) & (np.arange(count + 1) != np.argmax(counts))
    small[0] = False
    slivers = small[lab.ravel()]
    landuse = urban["landuse"].copy()
    landuse[slivers] = 2  # left-over rural slivers between roads become parks
    landuse[~(inside_u | slivers)] = -1
    return inside_u | slivers, rural & ~slivers, landuse


# ----------------------------------------------------------------------------- streets and communities


def _graph(rng: np.random.Generator, lat: Lattice, inside: np.ndarray, centres: np.ndarray) -> Graph:
    n = lat.n
    ids = np.flatnonzero(inside)
    node = np.full(n * n, -1)
    node[ids] = np.arange(len(ids))
    grid = node.reshape(n, n)
    pairs = [(grid[:-1, :], grid[1:, :], np.broadcast_to(lat.vclass[1:n, None], (n - 1, n))),
             (grid[:, :-1], grid[:, 1:], np.broadcast_to(lat.hclass[None, 1:n], (n, n - 1)))]
    a = np.concatenate([p[(p >= 0) & (q >= 0)] for p, q, _ in pairs])
    b = np.concatenate([q[(p >= 0) & (q >= 0)] for p, q, _ in pairs])
    cls = np.concatenate([c[(p >= 0) & (q >= 0)] for p, q, c in pairs])
    length = np.hypot(*(centres[ids[a]] - centres[ids[b]]).T) * rng.uniform(0.85, 1.15, len(a))
    return Graph(ids, a, b, length, cls)


def _partition(g: Graph, region: np.ndarray, parts: np.ndarray, weight: np.ndarray,
               xy: np.ndarray, hil: np.ndarray) -> np.ndarray:
    """Split every region into ``parts[region]`` connected parts of similar weight (graph Voronoi)."""
    seeds = _seeds(region, parts, weight, xy, hil)
    same = region[g.a] == region[g.b]
    cost = g.length * CROSS_COST[g.cls] + 0.8 * CELL_M * (weight[g.a] + weight[g.b]) / 2
    graph = csr_matrix((cost[same], (g.a[same], g.b[same])), shape=(g.size, g.size))
    _, _, src = dijkstra(graph, directed=False, indices=seeds, min_only=True, return_predecessors=True)
    rank = np.full(g.size, -1)
    rank[seeds] = np.arange(len(seeds))
    return rank[src]


def _seeds(region: np.ndarray, parts: np.ndarray, weight: np.ndarray, xy: np.ndarray,
           hil: np.ndarray) -> np.ndarray:
    """Seeds at the weighted centres of equal-weight runs along the Hilbert curve of each region."""
    order = np.lexsort((hil, region))
    seeds = []
    for nodes in np.split(order, np.flatnonzero(np.diff(region[order])) + 1):
        k = int(min(parts[region[nodes[0]]], len(nodes)))
        w = weight[nodes] + 0.05
        chunk = np.minimum(((np.cumsum(w) - w / 2) / w.sum() * k).astype(int), k - 1)
        for c in range(k):
            members = nodes[chunk == c]
            if len(members):
                centre = np.average(xy[members], axis=0, weights=w[chunk == c])
                seeds.append(members[np.argmin(np.hypot(*(xy[members] - centre).T))])
    return np.asarray(seeds)


def _allocate(total: int, weights: np.ndarray) -> np.ndarray:
    """At least one each, the rest in proportion to weights (largest remainder)."""
    k = len(weights)
    extra = max(total, k) - k
    share = weights / weights.sum() * extra
    base = np.floor(share).astype(int)
    base[np.argsort(-(share - base), kind="stable")[: extra - base.sum()]] += 1
    return base + 1


def _normalise(weight: np.ndarray, region: np.ndarray) -> np.ndarray:
    mean = np.bincount(region, weight) / np.bincount(region)
    return weight / np.where(mean[region] > 0, mean[region], 1)


def _plan(rng: np.random.Generator, lat: Lattice, g: Graph, sizes: Sizes, inside_u: np.ndarray, urban: dict,
          landuse: np.ndarray, centres: np.ndarray) -> dict:
    """Streets, communities (one deliberately tiny) and villages as labels of the district's cells."""
    n = lat.n
    is_u = inside_u[g.cells]
    bld = urban["buildings"]
    hh = np.bincount(np.searchsorted(g.cells, bld["cell"]), bld["hh"], minlength=g.size)
    xy = centres[g.cells]
    i, j = np.divmod(g.cells, n)
    hil = _hilbert(i, j, n)
    zone = np.where(is_u, 0, 1 + _rural_components(g, is_u))
    comp_size = np.bincount(zone)[1:]
    towns = _allocate(sizes.towns, comp_size) if len(comp_size) else np.zeros(0, int)
    weight = np.where(is_u, hh, 1.0)
    street = _partition(g, zone, np.concatenate([[sizes.urban_streets], towns]), _normalise(weight, zone), xy, hil)
    n_streets = street.max() + 1
    street_u = np.bincount(street, is_u, minlength=n_streets) > 0
    parts = np.maximum(1, np.round(np.bincount(street, hh, minlength=n_streets) / COMMUNITY_HH)).astype(int)
    town_cells = np.bincount(street, ~is_u, minlength=n_streets)
    parts[~street_u] = _allocate(sizes.villages, town_cells[~street_u])
    part = _partition(g, street, parts, _normalise(weight, street), xy, hil)
    part = _merge_small(g, part, street, is_u, hh)
    part, tiny = _carve_tiny(rng, g, part, street, is_u, hh, landuse[g.cells] == 0)
    return _order_plan(g, part, street, is_u, tiny)


def _rural_components(g: Graph, is_u: np.ndarray) -> np.ndarray:
    """Connected pieces of rural land, largest first (0 for urban nodes)."""
    keep = ~is_u[g.a] & ~is_u[g.b]
    m = csr_matrix((np.ones(keep.sum()), (g.a[keep], g.b[keep])), shape=(g.size, g.size))
    _, lab = connected_components(m, directed=False)
    rural_labels, inverse = np.unique(lab[~is_u], return_inverse=True)
    counts = np.bincount(inverse)
    rank = np.empty(len(rural_labels), int)
    rank[np.argsort(-counts, kind="stable")] = np.arange(len(rural_labels))
    out = np.zeros(g.size, int)
    out[~is_u] = rank[inverse]
    return out


def _merge_small(g: Graph, part: np.ndarray, street: np.ndarray, is_u: np.ndarray, hh: np.ndarray) -> np.ndarray:
    """Fold urban communities far below a normal size into their smallest neighbour in the same street."""
    part = part.copy()
    while True:
        total = np.bincount(part, hh, minlength=part.max() + 1)
        urban_part = np.bincount(part, is_u, minlength=len(total)) > 0
        pa, pb = part[g.a], part[g.b]
        cross = (pa != pb) & (street[g.a] == street[g.b])
        has_nb = np.bincount(np.concatenate([pa[cross], pb[cross]]), minlength=len(total)) > 0
        present = np.bincount(part, minlength=len(total)) > 0
        small = np.flatnonzero(present & urban_part & has_nb & (total < MIN_COMMUNITY_HH))
        if not len(small):
            break
        p = small[np.argmin(total[small])]
        nbs = np.unique(np.concatenate([pb[cross & (pa == p)], pa[cross & (pb == p)]]))
        part[part == p] = nbs[np.argmin(total[nbs])]
    return np.unique(part, return_inverse=True)[1]


def _carve_tiny(rng: np.random.Generator, g: Graph, part: np.ndarray, street: np.ndarray, is_u: np.ndarray,
                hh: np.ndarray, residential: np.ndarray) -> tuple[np.ndarray, int]:
    """Make one residential block on a community's edge a community of its own (too small for a grid)."""
    total = np.bincount(part, hh)
    size = np.bincount(part)
    border = np.bincount(np.concatenate([g.a, g.b]), minlength=g.size) < 4
    diff = part[g.a] != part[g.b]
    border[g.a[diff]] = border[g.b[diff]] = True
    base = residential & is_u & border
    for rest in (1500, 0):
        ok = base & (size[part] >= 3 - (rest == 0)) & (total[part] - hh >= rest)
        for c in rng.permutation(np.flatnonzero(ok))[:50]:
            members = (part == part[c]) & (np.arange(g.size) != c)
            e = members[g.a] & members[g.b]
            m = csr_matrix((np.ones(e.sum()), (g.a[e], g.b[e])), shape=(g.size, g.size))
            if len(np.unique(connected_components(m, directed=False)[1][members])) == 1:
                part = part.copy()
                part[c] = part.max() + 1
                return part, int(c)
    return part, -1


def _order_plan(g: Graph, part: np.ndarray, street: np.ndarray, is_u: np.ndarray, tiny: int) -> dict:
    """Number communities street by street and record their kind."""
    n_parts = part.max() + 1
    part_street = np.zeros(n_parts, int)
    part_street[part] = street
    order = np.lexsort((np.arange(n_parts), part_street))
    new = np.empty(n_parts, int)
    new[order] = np.arange(n_parts)
    comm = new[part]
    comm_street = part_street[order]
    comm_urban = np.bincount(comm, is_u, minlength=n_parts) > 0
    street_urban = np.bincount(street, is_u) > 0
    return {"comm": comm, "street": street, "comm_street": comm_street, "comm_urban": comm_urban,
            "street_urban": street_urban, "tiny_node": tiny, "tiny_comm": int(comm[tiny]) if tiny >= 0 else -1}


# ----------------------------------------------------------------------------- roads


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """(start, stop) of the runs of True in a 1-D mask."""
    d = np.diff(np.concatenate([[0], mask.astype(int), [0]]))
    return list(zip(np.flatnonzero(d == 1), np.flatnonzero(d == -1)))


def _sections(rng: np.random.Generator, cls: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Split every lattice line into named sections: long for arterials, a few blocks for local roads.

    Returns the section number and the first segment of its section for every (line, segment).
    """
    length = np.choose(cls, [np.full(len(cls), 40), rng.integers(10, 17, len(cls)), rng.integers(3, 8, len(cls))])
    phase = rng.integers(0, 40, len(cls)) % length
    sec = (np.arange(n)[None, :] + phase[:, None]) // length[:, None]
    start = np.maximum(sec * length[:, None] - phase[:, None], 0)
    return sec, start


def _roads(rng: np.random.Generator, lat: Lattice, inside_u: np.ndarray, inside: np.ndarray) -> dict:
    """Road runs along lattice lines: arterials across the district, residential roads in the town."""
    n = lat.n
    grids = [m.reshape(n, n) for m in (inside, inside_u)]
    pad_v = [np.vstack([np.zeros((1, n), bool), m, np.zeros((1, n), bool)]) for m in grids]
    pad_h = [np.hstack([np.zeros((n, 1), bool), m, np.zeros((n, 1), bool)]) for m in grids]
    near_v = [p[:-1] | p[1:] for p in pad_v]  # (n + 1 lines, n segments)
    near_h = [(p[:, :-1] | p[:, 1:]).T for p in pad_h]
    drawn_v = np.where(lat.vclass[:, None] <= 1, near_v[0], near_v[1])
    drawn_h = np.where(lat.hclass[:, None] <= 1, near_h[0], near_h[1])
    sections = [_sections(rng, lat.vclass, n), _sections(rng, lat.hclass, n)]
    rows = []
    for axis, drawn, cls in ((0, drawn_v, lat.vclass), (1, drawn_h, lat.hclass)):
        sec = sections[axis][0]
        for line in range(n + 1):
            new = np.concatenate([[True], sec[line, 1:] != sec[line, :-1]])
            for start, stop in _runs(drawn[line]):
                for a, b in _split(new, start, stop):
                    seg = np.arange(a, b + 1)
                    pts = lat.nodes[line, seg] if axis == 0 else lat.nodes[seg, line]
                    rows.append((int(cls[line]), axis, line, int(sec[line, a]), a, pts))
    rows.sort(key=lambda r: r[:5])
    return {"cls": np.array([r[0] for r in rows], int), "axis": np.array([r[1] for r in rows], int),
            "line": np.array([r[2] for r in rows], int), "sec": np.array([r[3] for r in rows], int),
            "geometry": np.array([shapely.LineString(r[5]) for r in rows], dtype=object),
            "drawn_v": drawn_v, "drawn_h": drawn_h, "sections": sections}


def _split(new: np.ndarray, start: int, stop: int) -> list[tuple[int, int]]:
    """Break the run of segments [start, stop) where a new section begins."""
    breaks = [k for k in range(start + 1, stop) if new[k]]
    bounds = [start, *breaks, stop]
    return list(pairwise(bounds))


def _segments(lat: Lattice, roads: dict) -> dict:
    """Every drawn lattice edge: end points, class and line."""
    out = []
    for axis, drawn, cls in ((0, roads["drawn_v"], lat.vclass), (1, roads["drawn_h"], lat.hclass)):
        line, k = np.nonzero(drawn)
        p0 = lat.nodes[line, k] if axis == 0 else lat.nodes[k, line]
        p1 = lat.nodes[line, k + 1] if axis == 0 else lat.nodes[k + 1, line]
        out.append((np.full(len(line), axis), line, cls[line], roads["sections"][axis][0][line, k], p0, p1))
    keys = ("axis", "line", "cls", "sec", "p0", "p1")
    return {key: np.concatenate(parts) for key, parts in zip(keys, zip(*out))}


# ----------------------------------------------------------------------------- names


def _stems(rng: np.random.Generator, curated: list[str], first: str, second: str) -> list[str]:
    """Curated names first, then two-character names in a seeded order, all distinct."""
    made = np.array([a + b for a in first for b in second if a != b], dtype=object)
    taken = set(curated)
    return list(curated) + [s for s in made[rng.permutation(len(made))] if s not in taken]


def _pick(stems: list[str], n: int, suffix: str) -> list[str]:
    if n > len(stems):
        stems = stems + [f"{s}{k}" for k in range(2, n // len(stems) + 2) for s in stems]
    return [s + suffix for s in stems[:n]]


def _names(rng: np.random.Generator, plan: dict, roads: dict) -> dict:
    urban_streets = int(plan["street_urban"].sum())
    towns = len(plan["street_urban"]) - urban_streets
    n_urban = int(plan["comm_urban"].sum())
    n_rural = len(plan["comm_urban"]) - n_urban
    street_names = _pick(_stems(rng, STREET_STEMS, FIRST_CHARS, SECOND_CHARS), urban_streets, "街道")
    town_names = _pick(_stems(rng, TOWN_STEMS, FIRST_CHARS, SECOND_CHARS), towns, "镇")
    streets = np.empty(len(plan["street_urban"]), dtype=object)
    streets[plan["street_urban"]] = street_names
    streets[~plan["street_urban"]] = town_names
    comms = np.empty(len(plan["comm_urban"]), dtype=object)
    comms[plan["comm_urban"]] = _pick(_stems(rng, COMMUNITY_STEMS, FIRST_CHARS, SECOND_CHARS), n_urban, "社区")
    comms[~plan["comm_urban"]] = _pick(_stems(rng, VILLAGE_STEMS, RURAL_FIRST, RURAL_SECOND), n_rural, "村")
    return {"streets": streets, "communities": comms, "roads": _road_names(rng, roads), "sections": roads["sections"]}


def _road_names(rng: np.random.Generator, roads: dict) -> dict[tuple[int, int, int], str]:
    """One distinct name per road section, keyed by (axis, line, section); arterials get the known names."""
    keys = sorted({(int(c), int(a), int(ln), int(s))
                   for c, a, ln, s in zip(roads["cls"], roads["axis"], roads["line"], roads["sec"])})
    stems = _stems(rng, ROAD_STEMS, FIRST_CHARS, SECOND_CHARS)
    local = np.array(["路", "街", "巷"], dtype=object)[rng.choice(3, len(keys), p=[0.6, 0.25, 0.15])]
    names = {}
    for k, (c, a, ln, s) in enumerate(keys):
        cycle = k // len(stems)  # past the stems: 一路, 二路, ... keep names distinct
        suffix = {0: "大道", 1: "路"}.get(c, local[k]) if cycle == 0 else "一二三四五六七八九十"[(cycle - 1) % 10] + "路"
        names[(a, ln, s)] = stems[k % len(stems)] + suffix
    return names


def _compound_names(rng: np.random.Generator, n: int, walkup: np.ndarray) -> np.ndarray:
    """Distinct compound (小区) names; some old walk-up compounds are named after a work unit."""
    stems = _stems(rng, COMPOUND_STEMS, FIRST_CHARS, SECOND_CHARS)
    combos = np.array([s + x for s in stems for x in COMPOUND_SUFFIXES], dtype=object)
    head = len(COMPOUND_STEMS) * len(COMPOUND_SUFFIXES)
    order = np.concatenate([rng.permutation(head), head + rng.permutation(len(combos) - head)])
    names = combos[order[:n]].copy()
    works = np.array([w + x for w in WORK_UNITS for x in ("宿舍", "家属院", "生活区")], dtype=object)
    old = np.flatnonzero(walkup & (rng.random(n) < 0.35))[: len(works)]
    names[old] = works[rng.permutation(len(works))[: len(old)]]
    return names


# ----------------------------------------------------------------------------- assembling the layers


def _assemble(rng: np.random.Generator, lat: Lattice, g: Graph, plan: dict, roads: dict, names: dict, urban: dict,
              landuse: np.ndarray, incidents: int, cameras: int, sizes: Sizes) -> dict[str, gpd.GeoDataFrame]:
    cells = lat.polygons(g.cells)
    comm_geom = _unions(cells, plan["comm"], len(plan["comm_urban"]))
    street_geom = _unions(cells, plan["street"], len(plan["street_urban"]))
    codes = _codes(plan)
    segs = _segments(lat, roads)
    lots, bld = _urban_buildings(rng, lat, g, plan, urban, names)
    villages = _villages(rng, lat, g, plan, comm_geom, segs, names, sizes.village_scale)
    cuts = np.unique(shapely.get_coordinates(villages["groups"]["geometry"]), axis=0)
    villages["groups"]["geometry"] = _snap_to(villages["groups"]["geometry"], cuts)
    comm_geom, street_geom = _snap_to(comm_geom, cuts), _snap_to(street_geom, cuts)
    buildings, groups = _finish_buildings(rng, bld, villages, codes, names)
    layers = {
        "district": _gdf({"district_code": [DISTRICT_CODE], "name": [DISTRICT_NAME]},
                         _snap_to(np.array([shapely.coverage_union_all(cells)]), cuts)),
        "streets": _gdf({"street_code": codes["street"], "name": names["streets"],
                         "kind": np.where(plan["street_urban"], "street", "town"),
                         "district_code": DISTRICT_CODE}, street_geom),
        "communities": _gdf({"community_code": codes["comm"], "name": names["communities"],
                             "street_code": codes["street"][plan["comm_street"]],
                             "kind": np.where(plan["comm_urban"], "urban", "rural")}, comm_geom),
        "buildings": buildings,
        "villager_groups": groups,
        "roads": _road_layer(roads, names),
    }
    inside_u = np.zeros(lat.n * lat.n, bool)
    inside_u[g.cells[plan["comm_urban"][plan["comm"]]]] = True
    layers["cameras"] = _cameras(rng, cameras, lat, segs, lots, names, inside_u)
    layers["incidents"] = _incidents(rng, incidents, lat, segs, lots, buildings, landuse, g, inside_u)
    return layers


def _snap_to(polys: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Insert the points lying on a polygon's boundary as its vertices, so shared edges match in any CRS."""
    if not len(points):
        return polys
    near, which = shapely.STRtree(shapely.points(points)).query(shapely.boundary(polys), predicate="dwithin",
                                                                 distance=1e-6)
    out = polys.copy()
    for k in np.unique(near):
        out[k] = shapely.snap(polys[k], shapely.multipoints(points[which[near == k]]), 1e-6)
    return out


def _gdf(columns: dict, geoms) -> gpd.GeoDataFrame:
    geoms = np.asarray(list(geoms), dtype=object) if not isinstance(geoms, np.ndarray) else geoms
    return gpd.GeoDataFrame(pd.DataFrame(columns), geometry=gpd.GeoSeries(geoms, crs=METRIC_CRS).values,
                            crs=METRIC_CRS)


def _unions(polys: np.ndarray, labels: np.ndarray, count: int) -> np.ndarray:
    order = np.argsort(labels, kind="stable")
    bounds = np.searchsorted(labels[order], np.arange(count + 1))
    return np.array([shapely.coverage_union_all(polys[order[s:e]]) for s, e in pairwise(bounds)])


def _codes(plan: dict) -> dict:
    n_streets = len(plan["street_urban"])
    street = np.array([f"{DISTRICT_CODE}-{k + 1:03d}" for k in range(n_streets)], dtype=object)
    cs = plan["comm_street"]
    within = np.arange(len(cs)) - np.searchsorted(cs, cs)
    comm = np.array([f"{street[s]}-{k + 1:03d}" for s, k in zip(cs, within)], dtype=object)
    return {"street": street, "comm": comm}


def _road_layer(roads: dict, names: dict) -> gpd.GeoDataFrame:
    n = len(roads["cls"])
    return _gdf({"road_id": [f"R{k + 1:04d}" for k in range(n)],
                 "name": [names["roads"][(int(a), int(ln), int(s))]
                          for a, ln, s in zip(roads["axis"], roads["line"], roads["sec"])],
                 "road_class": ROAD_CLASSES[roads["cls"]]}, roads["geometry"])


def _urban_buildings(rng: np.random.Generator, lat: Lattice, g: Graph, plan: dict, urban: dict,
                     names: dict) -> tuple[dict, dict]:
    """Buildings of the urban blocks with the tiny community's block rebuilt, named and addressed."""
    lots, bld = urban["lots"], urban["buildings"]
    if plan["tiny_node"] >= 0:
        cell = g.cells[plan["tiny_node"]]
        lots, bld = _add_tiny(rng, lat, lots, _take(bld, bld["cell"] != cell), cell)
    bld = _take(bld, _no_overlaps(bld["geometry"]))
    order = np.argsort(bld["lot"], kind="stable")
    bld = _take(bld, order)
    lots = _lot_addresses(rng, lat, lots, names)
    lot = bld["lot"]
    per_lot = np.bincount(lot, minlength=len(lots["cell"]))
    comp_lots = np.flatnonzero(~lots["scatter"] & (per_lot >= 3))
    compound = np.full(len(per_lot), "", dtype=object)
    compound[comp_lots] = _compound_names(rng, len(comp_lots), lots["typ"][comp_lots] == WALKUP)
    ordinal = np.arange(len(lot)) - np.searchsorted(lot, lot)
    bld["compound"] = compound[lot]
    bld["address"] = np.array([
        f"{r}{n}号{c}{o + 1}栋" if c else (f"{r}{n}号" if m == 1 else f"{r}{n}-{o + 1}号")
        for r, n, c, o, m in zip(lots["road"][lot], lots["number"][lot], compound[lot], ordinal, per_lot[lot])],
        dtype=object)
    node = np.full(lat.n * lat.n, -1)
    node[g.cells] = np.arange(g.size)
    bld["comm"] = plan["comm"][node[bld["cell"]]]
    lots["compound"] = compound
    lots["households"] = np.bincount(lot, bld["hh"], minlength=len(per_lot))
    return lots, bld


def _add_tiny(rng: np.random.Generator, lat: Lattice, lots: dict, bld: dict, cell: int) -> tuple[dict, dict]:
    """An old work-unit compound of six walk-ups: about 180 households, too few for one grid."""
    tiny = {"cell": np.array([cell]), "lu0": np.zeros(1), "lu1": np.ones(1), "lv0": np.zeros(1), "lv1": np.ones(1),
            "typ": np.array([WALKUP]), "units": np.array([3]), "length": np.array([57.0]), "depth": np.array([12.0]),
            "gap_u": np.array([12.0]), "gap_v": np.array([20.0]), "floors": np.array([5]), "landing": np.array([2]),
            "no_units": np.array([False]), "scatter": np.array([False]), "cap": np.array([6]), "drop": np.zeros(1)}
    extra = _lot_buildings(rng, lat, tiny)
    extra["lot"] = extra["lot"] + len(lots["cell"])
    lots = {k: np.concatenate([lots[k], tiny[k]]) for k in lots}
    return lots, {k: np.concatenate([bld[k], extra[k]]) for k in bld}


def _lot_addresses(rng: np.random.Generator, lat: Lattice, lots: dict, names: dict) -> dict:
    """The road each lot faces (its most important side), its house number and its gate."""
    i, j = np.divmod(lots["cell"], lat.n)
    touch = np.stack([lots["lv0"] == 0, lots["lu1"] == 1, lots["lv1"] == 1, lots["lu0"] == 0], axis=1)
    cls = np.stack([lat.hclass[j], lat.vclass[i + 1], lat.hclass[j + 1], lat.vclass[i]], axis=1)
    edge = np.argmin(cls + 0.9 * rng.random(cls.shape) + 99 * ~touch, axis=1)  # bottom, right, top, left
    horizontal = edge % 2 == 0
    line = np.choose(edge, [j, i + 1, j + 1, i])
    mid_u, mid_v = (lots["lu0"] + lots["lu1"]) / 2, (lots["lv0"] + lots["lv1"]) / 2
    along = np.where(horizontal, i, j)
    sec = np.where(horizontal, names["sections"][1][0][line, along], names["sections"][0][0][line, along])
    first = np.where(horizontal, names["sections"][1][1][line, along], names["sections"][0][1][line, along])
    pos = along - first + np.where(horizontal, mid_u, mid_v)
    number = 2 * np.floor(5 * pos).astype(int) + np.where(edge < 2, 1, 2)
    road = np.array([names["roads"].get((int(h), int(ln), int(sc)), "")
                     for h, ln, sc in zip(horizontal, line, sec)], dtype=object)
    box, _ = _usable(lat, lots["cell"])
    gu = np.choose(edge, [mid_u, lots["lu1"], mid_u, lots["lu0"]])
    gv = np.choose(edge, [lots["lv0"], mid_v, lots["lv1"], mid_v])
    return {**lots, "edge": edge, "road": road, "number": number,
            "gate": _in_box(lat, lots["cell"], box, gu, gv), "inner": _in_box(lat, lots["cell"], box, mid_u, mid_v)}


def _in_box(lat: Lattice, cells: np.ndarray, box: np.ndarray, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Metric position of parameters (u, v) of each cell's buildable box."""
    return lat.at(cells, box[:, 0] + (box[:, 1] - box[:, 0]) * u, box[:, 2] + (box[:, 3] - box[:, 2]) * v)


def _no_overlaps(geom: np.ndarray) -> np.ndarray:
    """Keep the first of any two footprints that overlap."""
    left, right = shapely.STRtree(geom).query(geom, predicate="intersects")
    keep = np.ones(len(geom), bool)
    keep[right[left < right]] = False
    return keep


def _villages(rng: np.random.Generator, lat: Lattice, g: Graph, plan: dict, comm_geom: np.ndarray, segs: dict,
              names: dict, scale: float) -> dict:
    """Villager groups and clustered houses of every rural community."""
    buf = shapely.buffer(shapely.linestrings(np.stack([segs["p0"], segs["p1"]], axis=1)),
                         HALF_WIDTH[segs["cls"]] + 2.0)
    tree = shapely.STRtree(buf)
    houses: list[dict] = []
    groups: dict[str, list] = {"geometry": [], "comm": [], "index": []}
    for comm in np.flatnonzero(~plan["comm_urban"]):
        village = comm_geom[comm]
        near = buf[tree.query(village)]
        road = shapely.union_all(near) if len(near) else shapely.Polygon()
        polys, centres = _village_groups(rng, lat, village, g.cells[plan["comm"] == comm], road)
        h = _village_houses(rng, lat, village, polys, centres, road, scale)
        h["address"] = np.array([f"{names['communities'][comm]}{gr + 1}组{r}号" for gr, r in zip(h["group"], h["rank"])],
                                dtype=object)
        h["group"] = h["group"] + len(groups["comm"])
        h["comm"] = np.full(len(h["group"]), comm)
        houses.append(h)
        groups["geometry"].extend(polys)
        groups["comm"].extend([comm] * len(polys))
        groups["index"].extend(range(1, len(polys) + 1))
    keys = ("geometry", "group", "rank", "address", "comm")
    merged = {k: np.concatenate([h[k] for h in houses]) if houses else np.zeros(0, int) for k in keys}
    return {"houses": merged, "groups": {k: np.asarray(v) for k, v in groups.items()}}


def _village_groups(rng: np.random.Generator, lat: Lattice, village, cells: np.ndarray,
                    road) -> tuple[np.ndarray, np.ndarray]:
    """Cluster centres spread by farthest-point sampling and their Voronoi cells inside the village."""
    count = int(rng.integers(6, 16))
    cc = np.repeat(cells, 8)
    pts = lat.at(cc, rng.uniform(0.1, 0.9, len(cc)), rng.uniform(0.1, 0.9, len(cc)))
    p = shapely.points(pts)
    d_edge = shapely.distance(shapely.boundary(village), p)
    d_road = shapely.distance(road, p) if not road.is_empty else np.full(len(pts), np.inf)
    for edge_m, road_m in ((70, 35), (25, 10), (0, 0)):
        ok = (d_edge >= edge_m) & (d_road >= road_m)
        if ok.sum() >= count:
            break
    pts = pts[ok] if ok.sum() >= 1 else pts
    centres = _farthest(rng, pts, min(count, len(pts)))
    if len(centres) == 1:
        return np.array([village], dtype=object), centres
    vor = shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(centres), extend_to=village, ordered=True))
    return _single_parts(shapely.intersection(vor, village), centres), centres


def _farthest(rng: np.random.Generator, pts: np.ndarray, k: int) -> np.ndarray:
    chosen = [int(rng.integers(len(pts)))]
    dist = np.hypot(*(pts - pts[chosen[0]]).T)
    for _ in range(k - 1):
        chosen.append(int(np.argmax(dist)))
        dist = np.minimum(dist, np.hypot(*(pts - pts[chosen[-1]]).T))
    return pts[chosen]


def _single_parts(groups: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """One piece per group: stray pieces of a clipped Voronoi cell join the neighbour they share most with."""
    main = np.empty(len(groups), dtype=object)
    strays: list[shapely.Geometry] = []
    for k, geom in enumerate(groups):
        parts = [q for q in shapely.get_parts(geom) if q.geom_type == "Polygon" and q.area > 0]
        near = int(np.argmin(shapely.distance(np.array(parts, dtype=object), shapely.Point(centres[k]))))
        main[k] = parts[near]
        strays.extend(q for m, q in enumerate(parts) if m != near)
    for piece in strays:
        shared = shapely.length(shapely.intersection(shapely.boundary(main), shapely.boundary(piece)))
        k = int(np.argmax(shared))
        main[k] = shapely.union(main[k], piece)
    return main


def _village_houses(rng: np.random.Generator, lat: Lattice, village, groups: np.ndarray, centres: np.ndarray,
                    road, scale: float) -> dict:
    """Houses on a loose grid around each cluster centre, nearest first, inside the group and off the roads."""
    n = len(groups)
    pop = np.clip(rng.lognormal(np.log(320), 0.35, n), 130, 650) * scale
    target = np.maximum(1, np.round(pop / (RURAL_PEOPLE[0] * HOUSE_HH))).astype(int)
    half = (np.ceil(np.sqrt(3 * target) / 2) + 1).astype(int)
    per = (2 * half + 1) ** 2
    gid = np.repeat(np.arange(n), per)
    k = np.arange(len(gid)) - np.repeat(np.cumsum(per) - per, per)
    side = 2 * half[gid] + 1
    a, b = k % side - half[gid], k // side - half[gid]
    theta = lat.angle + rng.uniform(-0.35, 0.35, n)
    elong = rng.uniform(1.0, 2.2, n)
    off = np.stack([a, b], axis=1) * rng.uniform(19.5, 23, n)[gid, None] + rng.uniform(-1.5, 1.5, (len(gid), 2))
    c, s = np.cos(theta[gid]), np.sin(theta[gid])
    pos = centres[gid] + np.stack([c * off[:, 0] - s * off[:, 1], s * off[:, 0] + c * off[:, 1]], axis=1)
    geom = _rects(pos, rng.uniform(10, 14, len(gid)), rng.uniform(8.5, 11, len(gid)),
                  theta[gid] + rng.uniform(-0.08, 0.08, len(gid)))
    ok = _house_fits(geom, gid, groups, village, road) & (rng.random(len(gid)) >= 0.12)  # gardens, ponds
    lobes = 1 + 0.3 * np.sin(3 * np.arctan2(b, a) + rng.uniform(0, 2 * np.pi, n)[gid])
    dist = np.hypot(a / elong[gid], b * elong[gid]) * lobes * (1 + 0.6 * rng.random(len(gid)))
    order = np.lexsort((dist, gid))
    gs, ok_sorted = gid[order], ok[order]
    cs = np.cumsum(ok_sorted)
    start = np.searchsorted(gs, np.arange(n))
    taken: np.ndarray = cs - np.where(start > 0, cs[np.maximum(start - 1, 0)], 0)[gs]
    pick = order[ok_sorted & (taken <= target[gs])]
    rank = np.arange(len(pick)) - np.searchsorted(gid[pick], gid[pick]) + 1
    return {"geometry": geom[pick], "group": gid[pick], "rank": rank}


def _house_fits(geom: np.ndarray, gid: np.ndarray, groups: np.ndarray, village, road) -> np.ndarray:
    """Inside its group (1.5 m margin), 3 m inside the village and clear of every road."""
    shrunk = shapely.buffer(groups, -1.5)
    inner = shapely.buffer(village, -3.0)
    shapely.prepare(shrunk)
    shapely.prepare(inner)
    ok = shapely.contains(shrunk[gid], geom) & shapely.contains(inner, geom)
    if not road.is_empty:
        shapely.prepare(road)
        ok &= ~shapely.intersects(road, geom)
    return ok


def _finish_buildings(rng: np.random.Generator, bld: dict, villages: dict, codes: dict,
                      names: dict) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Buildings and villager-group layers with ids, households and residents."""
    houses, groups = villages["houses"], villages["groups"]
    nu, nh = len(bld["hh"]), len(houses["group"])
    hh = np.concatenate([bld["hh"], 1 + (rng.random(nh) < HOUSE_HH - 1)]).astype(np.int64)
    units = np.concatenate([bld["units"], np.full(nh, np.nan)])
    typ = np.concatenate([bld["typ"], np.full(nh, -1)])
    floors = np.concatenate([bld["floors"], rng.choice([1, 2, 3, 4], nh, p=[0.1, 0.3, 0.45, 0.15])])
    _one_big_tower(hh, units, floors, typ)
    rural = np.arange(nu + nh) >= nu
    people = rng.normal(np.where(rural, RURAL_PEOPLE[0], URBAN_PEOPLE[0]), np.where(rural, RURAL_PEOPLE[1],
                                                                                     URBAN_PEOPLE[1]))
    pop = np.maximum(hh, np.round(hh * people)).astype(np.int64)
    comm = np.concatenate([bld["comm"], houses["comm"]]).astype(int)
    group = np.concatenate([np.full(nu, -1), houses["group"]]).astype(int)
    order = np.argsort(comm, kind="stable")
    width = max(6, len(str(len(order))))
    table = {
        "building_id": [f"B{k + 1:0{width}d}" for k in range(len(order))],
        "community_code": codes["comm"][comm[order]],
        "households": hh[order], "population": pop[order],
        "compound": np.concatenate([bld["compound"], np.full(nh, "", dtype=object)])[order],
        "address": np.concatenate([bld["address"], houses["address"]])[order],
        "units": pd.array(units[order], dtype="Int64"),
        "floors": floors[order].astype(np.int64),
    }
    geom = np.concatenate([bld["geometry"], houses["geometry"]])[order]
    return _gdf(table, geom), _group_layer(groups, names, codes, group, hh, pop)


def _one_big_tower(hh: np.ndarray, units: np.ndarray, floors: np.ndarray, typ: np.ndarray) -> None:
    """Ensure one tower of about 600 households has no recorded unit count."""
    towers = np.flatnonzero(typ == TOWER)
    if not len(towers):
        return
    big = towers[hh[towers] >= 500]
    if len(big):
        k = big[np.argmin(np.abs(hh[big] - 600))]
    else:
        k = towers[np.argmax(hh[towers])]
        hh[k], floors[k] = 600, 33
    units[k] = np.nan


def _group_layer(groups: dict, names: dict, codes: dict, group: np.ndarray, hh: np.ndarray,
                 pop: np.ndarray) -> gpd.GeoDataFrame:
    n = len(groups["comm"])
    inside = group >= 0
    g_pop = np.bincount(group[inside], pop[inside], minlength=n).astype(np.int64)
    g_hh = np.bincount(group[inside], hh[inside], minlength=n).astype(np.int64)
    comm = groups["comm"].astype(int)
    village = names["communities"]
    return _gdf({"group_id": np.array([f"{codes['comm'][c]}-G{k:02d}" for c, k in zip(comm, groups["index"])],
                                      dtype=object),
                 "community_code": codes["comm"][comm],
                 "name": np.array([f"{village[c]}{k}组" for c, k in zip(comm, groups["index"])], dtype=object),
                 "population": g_pop, "households": g_hh}, groups["geometry"])


# ----------------------------------------------------------------------------- cameras and incidents


def _compass(vec: np.ndarray) -> np.ndarray:
    return np.round((np.degrees(np.arctan2(vec[:, 0], vec[:, 1])) + 360) % 360, 1)


def _junctions(lat: Lattice, inside_u: np.ndarray, max_cls: int) -> np.ndarray:
    """(i, j) nodes where two arterials cross next to the town."""
    n = lat.n
    u = np.pad(inside_u.reshape(n, n), 1)
    near = u[:-1, :-1] | u[1:, :-1] | u[:-1, 1:] | u[1:, 1:]
    arterial = (lat.vclass[:, None] <= 1) & (lat.hclass[None, :] <= 1)
    main = np.minimum(lat.vclass[:, None], lat.hclass[None, :]) <= max_cls
    return np.argwhere(near & arterial & main)


def _cameras(rng: np.random.Generator, count: int, lat: Lattice, segs: dict, lots: dict, names: dict,
             inside_u: np.ndarray) -> gpd.GeoDataFrame:
    """Cameras at junctions, along roads and at compound gates; about 30% are domes with no heading."""
    junctions = _junctions(lat, inside_u, 1)
    if count == 0:
        return _gdf({c: np.zeros(0, dtype=object) for c in ("camera_id", "name", "heading", "fov", "range_m")}, [])
    gates = np.flatnonzero(lots["compound"] != "")
    n_j = round(0.4 * count) if len(junctions) else 0
    n_g = round(0.25 * count) if len(gates) else 0
    parts = [_junction_cameras(rng, n_j, lat, junctions, names), _gate_cameras(rng, n_g, lots, gates),
             _road_cameras(rng, count - n_j - n_g, segs, names)]
    xy, heading, name = (np.concatenate(p) for p in zip(*parts))
    dome = rng.random(count) < 0.3
    heading = np.round(np.where(dome, np.nan, heading), 1)
    fov = np.where(dome, np.nan, rng.choice([45.0, 60.0, 75.0, 90.0, 110.0], count))
    return _gdf({"camera_id": [f"C{k + 1:0{max(4, len(str(count)))}d}" for k in range(count)], "name": name,
                 "heading": heading, "fov": fov, "range_m": rng.integers(30, 81, count).astype(np.int64)},
                shapely.points(xy) if count else [])


def _junction_cameras(rng: np.random.Generator, k: int, lat: Lattice, junctions: np.ndarray, names: dict):
    if k == 0:
        return np.zeros((0, 2)), np.zeros(0), np.zeros(0, dtype=object)
    w = 4.0 - np.minimum(lat.vclass[junctions[:, 0]], 1) - np.minimum(lat.hclass[junctions[:, 1]], 1) * 1.5
    pick = junctions[rng.choice(len(junctions), k, p=w / w.sum())]
    i, j = pick[:, 0], pick[:, 1]
    n = lat.n
    ex = lat.nodes[np.minimum(i + 1, n), j] - lat.nodes[np.maximum(i - 1, 0), j]
    ey = lat.nodes[i, np.minimum(j + 1, n)] - lat.nodes[i, np.maximum(j - 1, 0)]
    ex /= np.hypot(*ex.T)[:, None]
    ey /= np.hypot(*ey.T)[:, None]
    sx, sy = rng.choice([-1, 1], (2, k))
    gap = (HALF_WIDTH[lat.vclass[i]] + HALF_WIDTH[lat.hclass[j]]) / 2 + 3
    xy = lat.nodes[i, j] + (sx[:, None] * ex + sy[:, None] * ey) * gap[:, None]
    arm = rng.integers(0, 4, k)
    look = np.choose(arm[:, None], [ex, -ex, ey, -ey])
    corner = {(1, 1): "东北", (-1, 1): "西北", (1, -1): "东南", (-1, -1): "西南"}
    sec_v = names["sections"][0][0][i, np.minimum(j, n - 1)]
    sec_h = names["sections"][1][0][j, np.minimum(i, n - 1)]
    road = names["roads"]
    label = [f"{road.get((0, int(a), int(sa)), '')}与{road.get((1, int(b), int(sb)), '')}交叉口{corner[(int(p), int(q))]}角"
             for a, b, sa, sb, p, q in zip(i, j, sec_v, sec_h, sx, sy)]
    return xy, (_compass(look) + rng.uniform(-15, 15, k)) % 360, np.array(label, dtype=object)


def _gate_cameras(rng: np.random.Generator, k: int, lots: dict, gates: np.ndarray):
    if k == 0:
        return np.zeros((0, 2)), np.zeros(0), np.zeros(0, dtype=object)
    pick = gates[rng.choice(len(gates), k)]
    out = lots["gate"][pick] - lots["inner"][pick]
    out /= np.hypot(*out.T)[:, None]
    inward = rng.random(k) < 0.5
    look = np.where(inward[:, None], -out, out)
    side = np.array(["南", "东", "北", "西"], dtype=object)[lots["edge"][pick]]
    label = np.array([f"{c}{s}门" for c, s in zip(lots["compound"][pick], side)], dtype=object)
    return lots["gate"][pick] + out * 2, (_compass(look) + rng.uniform(-10, 10, k)) % 360, label


def _road_cameras(rng: np.random.Generator, k: int, segs: dict, names: dict):
    if k <= 0 or not len(segs["cls"]):
        return np.zeros((0, 2)), np.zeros(0), np.zeros(0, dtype=object)
    xy, seg, along = _road_points(rng, k, segs)
    normal = np.stack([-along[:, 1], along[:, 0]], axis=1) * rng.choice([-1, 1], k)[:, None]
    xy = xy + normal * (HALF_WIDTH[segs["cls"][seg]] + 1)[:, None]
    look = along * rng.choice([-1, 1], k)[:, None]
    label = np.array([f"{names['roads'][(int(a), int(ln), int(sc))]}{n}号路段" for a, ln, sc, n in
                      zip(segs["axis"][seg], segs["line"][seg], segs["sec"][seg], rng.integers(1, 200, k))],
                     dtype=object)
    return xy, (_compass(look) + rng.uniform(-10, 10, k)) % 360, label


def _road_points(rng: np.random.Generator, k: int, segs: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Random points on road centrelines, weighted by length and class; with segment and unit direction."""
    vec = segs["p1"] - segs["p0"]
    length = np.hypot(*vec.T)
    w = length * np.array([3.0, 2.0, 1.0])[segs["cls"]]
    seg = rng.choice(len(w), k, p=w / w.sum())
    t = rng.random(k)[:, None]
    return segs["p0"][seg] + t * vec[seg], seg, vec[seg] / length[seg, None]


def _incidents(rng: np.random.Generator, count: int, lat: Lattice, segs: dict, lots: dict,
               buildings: gpd.GeoDataFrame, landuse: np.ndarray, g: Graph, inside_u: np.ndarray) -> gpd.GeoDataFrame:
    """Incidents: hot spots (markets, big compounds, junctions), homes by households, and roads."""
    spots, kinds = _hot_spots(rng, lat, lots, landuse, g, inside_u)
    n_hot = round(0.35 * count) if len(spots) else 0
    n_road = round(0.1 * count)
    n_home = count - n_hot - n_road
    per_spot = rng.multinomial(n_hot, rng.dirichlet(np.full(len(spots), 2.0))) if len(spots) else np.zeros(0, int)
    sigma = rng.uniform(35, 70, len(spots))
    spot = np.repeat(np.arange(len(spots)), per_spot)
    hot_xy = spots[spot] + rng.normal(0, 1, (n_hot, 2)) * sigma[spot, None]
    geoms = buildings.geometry.to_numpy()
    hh = buildings["households"].to_numpy().astype(float)
    home = rng.choice(len(geoms), n_home, p=hh / hh.sum()) if n_home else np.zeros(0, int)
    home_xy = shapely.get_coordinates(shapely.centroid(geoms[home])) + rng.normal(0, 12, (n_home, 2))
    road_xy = _road_points(rng, n_road, segs)[0] + rng.normal(0, 4, (n_road, 2)) if n_road else np.zeros((0, 2))
    xy = np.concatenate([hot_xy, home_xy, road_xy])
    source = np.concatenate([kinds[spot], np.full(n_home, "homes", dtype=object), np.full(n_road, "road", dtype=object)])
    category = _categories(rng, source)
    when = _timestamps(rng, category)
    order = np.argsort(when, kind="stable")
    points = shapely.points(xy[order]) if count else np.zeros(0, dtype=object)
    nearest = shapely.STRtree(geoms).query_nearest(points, all_matches=False)[1] if count else np.zeros(0, int)
    cat = category[order]
    channel = np.array([CHANNELS[rng.choice(4, p=CHANNEL_P[c])] for c in cat], dtype=object)
    desc = np.array([DESCRIPTIONS[CATEGORIES[c]][rng.integers(len(DESCRIPTIONS[CATEGORIES[c]]))] for c in cat],
                    dtype=object)
    return _gdf({"incident_id": [f"I{k + 1:06d}" for k in range(count)],
                 "category": np.array(CATEGORIES, dtype=object)[cat] if count else np.zeros(0, dtype=object),
                 "reported_at": _iso(when[order]), "channel": channel, "description": desc,
                 "address": buildings["address"].to_numpy()[nearest]}, points)


def _hot_spots(rng: np.random.Generator, lat: Lattice, lots: dict, landuse: np.ndarray, g: Graph,
               inside_u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A few markets, the largest compounds and the busiest junctions."""
    centres = lat.centres()
    land = landuse[g.cells]
    markets = g.cells[land == 3]
    if len(markets) < 3:
        markets = np.concatenate([markets, g.cells[land == 4]])
    markets = rng.permutation(markets)[:3]
    comp = np.flatnonzero(lots["compound"] != "")
    big = comp[np.argsort(-lots["households"][comp], kind="stable")[:10]]
    big = rng.permutation(big)[:3]
    junctions = _junctions(lat, inside_u, 0)
    junctions = junctions[rng.permutation(len(junctions))[:2]]
    xy = np.concatenate([centres[markets], lots["inner"][big], lat.nodes[junctions[:, 0], junctions[:, 1]]])
    kinds = np.array(["market"] * len(markets) + ["compound"] * len(big) + ["junction"] * len(junctions), dtype=object)
    return xy.reshape(-1, 2), kinds


def _categories(rng: np.random.Generator, source: np.ndarray) -> np.ndarray:
    out = np.zeros(len(source), int)
    for kind, p in SOURCE_CATEGORY_P.items():
        mask = source == kind
        out[mask] = rng.choice(len(CATEGORIES), mask.sum(), p=p)
    return out


def _timestamps(rng: np.random.Generator, category: np.ndarray) -> np.ndarray:
    """Seconds since 2025-01-01 00:00 China time with weekly, seasonal, holiday and daily rhythm."""
    day = np.arange(365)
    w = WEEKDAY_FACTOR[(day + 2) % 7] * (1 + 0.18 * np.sin(2 * np.pi * (day - 100) / 365))
    w[27:35] *= 0.45  # Spring Festival
    w[273:280] *= 0.6  # National Day holiday
    days = rng.choice(365, len(category), p=w / w.sum())
    night = category == CATEGORIES.index("public_security")
    hours = np.where(night, rng.choice(24, len(category), p=NIGHT_HOURS / NIGHT_HOURS.sum()),
                     rng.choice(24, len(category), p=DAY_HOURS / DAY_HOURS.sum()))
    return days * 86_400 + hours * 3_600 + rng.integers(0, 3_600, len(category))


def _iso(seconds: np.ndarray) -> np.ndarray:
    stamps = np.datetime64("2025-01-01T00:00:00") + seconds.astype("timedelta64[s]")
    return np.array([s + OFFSET_TEXT for s in np.datetime_as_string(stamps, unit="s")], dtype=object)
