"""The vendored browser assets of geogrid's maps, and making folium pages load them from us, never from a CDN."""

from __future__ import annotations

import base64
import mimetypes
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from branca.element import CssLink, Element, Figure, JavascriptLink

DEFAULT_PREFIX = "/static/vendor"


@dataclass(frozen=True)
class Asset:
    """One script or style sheet under static/vendor, and the regex of the CDN URLs folium uses for it."""

    key: str
    kind: Literal["js", "css"]
    path: str
    cdn: str


# Load order: style sheets, then Leaflet, jQuery and Bootstrap, then the Leaflet plugins.
ASSETS: tuple[Asset, ...] = (
    Asset("leaflet_css", "css", "leaflet/leaflet.css", r"/leaflet(@[\d.]+)?/dist/leaflet\.css$"),
    Asset("bootstrap_css", "css", "bootstrap/css/bootstrap.min.css", r"/bootstrap@5[\d.]*/dist/css/bootstrap(\.min)?\.css$"),
    Asset("glyphicons_css", "css", "bootstrap3/css/glyphicons.css", r"/bootstrap-glyphicons(\.min)?\.css$"),
    Asset("fontawesome_css", "css", "fontawesome-free/css/all.min.css", r"/fontawesome-free(@[\d.]+)?/css/all(\.min)?\.css$"),
    Asset("awesome_markers_css", "css", "leaflet.awesome-markers/leaflet.awesome-markers.css",
          r"/leaflet\.awesome-markers(\.min)?\.css$"),
    Asset("awesome_rotate_css", "css", "folium/leaflet.awesome.rotate.css", r"/leaflet\.awesome\.rotate(\.min)?\.css$"),
    Asset("leaflet_draw_css", "css", "leaflet-draw/leaflet.draw.css", r"/leaflet\.draw(-src)?\.css$"),
    Asset("geoman_css", "css", "leaflet-geoman-free/leaflet-geoman.css", r"/leaflet-geoman(\.min)?\.css$"),
    Asset("leaflet", "js", "leaflet/leaflet.js", r"/leaflet(@[\d.]+)?/dist/leaflet(-src)?\.js$"),
    Asset("jquery", "js", "jquery/jquery.min.js", r"/jquery(-[\d.]+)?(\.min)?\.js$"),
    Asset("bootstrap_js", "js", "bootstrap/js/bootstrap.bundle.min.js", r"/bootstrap@5[\d.]*/dist/js/bootstrap\.bundle(\.min)?\.js$"),
    Asset("awesome_markers_js", "js", "leaflet.awesome-markers/leaflet.awesome-markers.js",
          r"/leaflet\.awesome-markers(\.min)?\.js$"),
    # folium's HeatMap needs folium's build of leaflet.heat (weights scale to the data's maximum);
    # the plain npm leaflet.heat 0.2.0 is also vendored, under leaflet.heat/, for pages that want it.
    Asset("leaflet_heat", "js", "folium/leaflet_heat.min.js", r"/leaflet[_-]heat(\.min)?\.js$"),
    Asset("leaflet_draw_js", "js", "leaflet-draw/leaflet.draw.js", r"/leaflet\.draw(-src)?\.js$"),
    Asset("geoman_js", "js", "leaflet-geoman-free/leaflet-geoman.min.js", r"/leaflet-geoman(\.min)?\.js$"),
    Asset("vectorgrid_js", "js", "leaflet.vectorgrid/Leaflet.VectorGrid.bundled.min.js",
          r"/Leaflet\.VectorGrid\.bundled(\.min)?\.js$"),
)

# What folium's Map loads that a page without icons, markers or Bootstrap widgets does not need.
ICON_AND_BOOTSTRAP_ASSETS = frozenset({
    "bootstrap_css", "glyphicons_css", "fontawesome_css", "awesome_markers_css", "awesome_rotate_css",
    "jquery", "bootstrap_js", "awesome_markers_js",
})

_URL_IN_CSS = re.compile(r"""url\(\s*(['"]?)([^'")]*)\1\s*\)""")
_FONT_FACE = re.compile(r"@font-face\s*\{[^}]*\}")
_FONT_SRC = re.compile(r"\bsrc\s*:[^;}]*;?")
_WOFF2 = re.compile(r"""url\(\s*['"]?([^'")]+?\.woff2)(?:[?#][^'")]*)?['"]?\s*\)""")
_EXTERNAL = re.compile(r"^(?:https?:)?//", re.IGNORECASE)
_PAGE_URLS = (
    re.compile(r"""<(?:script|img|iframe|source|audio|video|embed|track|input)\b[^>]*?\bsrc\s*=\s*["']?([^"'\s>]+)""", re.I),
    re.compile(r"""<link\b[^>]*?\bhref\s*=\s*["']?([^"'\s>]+)""", re.I),
    re.compile(r"""<object\b[^>]*?\bdata\s*=\s*["']?([^"'\s>]+)""", re.I),
    re.compile(r"""url\(\s*['"]?([^'")\s]+)""", re.I),
    re.compile(r"""@import\s+(?:url\(\s*)?['"]?([^'")\s;]+)""", re.I),
    re.compile(r"""L\.(?:tileLayer(?:\.wms)?|vectorGrid\.protobuf|imageOverlay|videoOverlay)\(\s*(["'`])(.*?)\1""", re.S),
)


def static_dir() -> Path:
    """The folder the FastAPI app mounts as /static (vendor/ holds the libraries set-up copies in)."""
    return Path(__file__).resolve().parent / "static"


def vendor_dir() -> Path:
    """The folder of the vendored libraries, filled by `python -m maps.vendor`."""
    return static_dir() / "vendor"


def asset(key: str) -> Asset:
    """The asset called `key`, or KeyError."""
    for item in ASSETS:
        if item.key == key:
            return item
    raise KeyError(f"no vendored asset {key!r}")


def asset_for_url(url: str) -> Asset:
    """The vendored asset that stands for a CDN URL of folium or a plugin, or ValueError naming the URL."""
    for item in ASSETS:
        if re.search(item.cdn, url):
            return item
    raise ValueError(f"no vendored copy of {url}: add its npm package to maps/package.json, "
                     "maps/vendor.py and maps/assets.py")


def localize(element: Element, *, prefix: str = DEFAULT_PREFIX, inline: bool = False,
             omit: Iterable[str] = ()) -> Figure:
    """Make the page of a folium Map (or Figure) load every asset from `prefix`, or inline, never a CDN.

    Call it when all layers and plugins are added, before rendering. Assets whose key is in `omit`
    are left out. Returns the page's Figure.
    """
    figure = element.get_root()
    if not isinstance(figure, Figure):
        raise TypeError("localize needs a folium Map or a branca Figure")
    skip = set(omit)
    needed = {item.key: item for item in _claim_assets(figure) if item.key not in skip}
    for item in sorted(needed.values(), key=ASSETS.index):
        figure.header.add_child(_inline(item) if inline else _link(item, prefix), name=item.key)
    return figure


def render_page(element: Element, *, prefix: str = DEFAULT_PREFIX, inline: bool = False,
                omit: Iterable[str] = ()) -> str:
    """The HTML of a folium Map (or Figure) with its assets localised (see localize)."""
    return localize(element, prefix=prefix, inline=inline, omit=omit).render()


def external_urls(html: str) -> list[str]:
    """Every http(s) or protocol-relative URL the page would load: scripts, styles, images, CSS url(), tiles."""
    found: list[str] = []
    for pattern in _PAGE_URLS:
        for match in pattern.finditer(html):
            url = match.group(match.lastindex or 1).strip()
            if _EXTERNAL.match(url) and url not in found:
                found.append(url)
    return found


def inline_css(item: Asset) -> str:
    """A vendored style sheet with the fonts and images it references turned into data: URIs (woff2 fonts only)."""
    path = vendor_dir() / item.path
    css = _read(path)
    css = _FONT_FACE.sub(lambda m: _woff2_only(m.group(0)), css)
    return _URL_IN_CSS.sub(lambda m: _data_uri(path.parent, m.group(0), m.group(2)), css)


def _claim_assets(figure: Figure) -> list[Asset]:
    """Take the CDN links off every element of the page and return the assets they stand for."""
    claimed: list[Asset] = []
    for element in _walk(figure):
        for attr in ("default_js", "default_css"):
            links = getattr(element, attr, None)
            if links:
                claimed.extend(asset_for_url(url) for _, url in links)
                setattr(element, attr, [])
    return claimed


def _walk(element: Element) -> Iterable[Element]:
    """The element and all its descendants."""
    yield element
    for child in list(element._children.values()):
        yield from _walk(child)


def _link(item: Asset, prefix: str) -> Element:
    """A <script src> or <link rel=stylesheet> for the asset under `prefix`."""
    url = f"{prefix.rstrip('/')}/{item.path}"
    return JavascriptLink(url) if item.kind == "js" else CssLink(url)


def _inline(item: Asset) -> Element:
    """A <script> or <style> element holding the asset's text."""
    if item.kind == "js":
        code = _read(vendor_dir() / item.path) + (_leaflet_inline_icons() if item.key == "leaflet" else "")
        code = re.sub(r"</(script)", r"<\\/\1", code, flags=re.I)
        return Element(f"<script>\n{code}\n</script>")
    css = re.sub(r"</(style)", r"<\\/\1", inline_css(item), flags=re.I)
    return Element(f"<style>\n{css}\n</style>")


def _leaflet_inline_icons() -> str:
    """Script giving Leaflet's default marker its images as data: URIs (it cannot find them from inlined CSS)."""
    images = vendor_dir() / "leaflet" / "images"
    urls = {option: "data:image/png;base64," + base64.b64encode((images / name).read_bytes()).decode("ascii")
            for option, name in (("iconUrl", "marker-icon.png"), ("iconRetinaUrl", "marker-icon-2x.png"),
                                 ("shadowUrl", "marker-shadow.png"))}
    options = ",".join(f'{option}:"{url}"' for option, url in urls.items())
    return f"\ndelete L.Icon.Default.prototype._getIconUrl;L.Icon.Default.mergeOptions({{{options}}});\n"


def _read(path: Path) -> str:
    """The text of a vendored file, or FileNotFoundError saying how to make it."""
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: run scripts/setup.sh (npm ci --prefix maps; python -m maps.vendor)")
    return path.read_text(encoding="utf-8")


def _woff2_only(face: str) -> str:
    """An @font-face rule whose sources are cut down to its woff2 file, which every current browser reads."""
    woff2 = _WOFF2.search(face)
    if not woff2:
        return face
    body = _FONT_SRC.sub("", face).rstrip().rstrip("}").rstrip().rstrip(";")
    return f'{body};src:url("{woff2.group(1)}") format("woff2")}}'


def _data_uri(base: Path, original: str, ref: str) -> str:
    """url(data:...) for a file next to a style sheet; other references (data:, #id, absolute) stay as they are."""
    ref = ref.strip()
    if not ref or re.match(r"^(data:|#|%23|[a-z][a-z0-9+.-]*:|//)", ref, re.I):
        return original
    path = (base / re.split(r"[?#]", ref)[0]).resolve()
    if not path.is_file():
        raise FileNotFoundError(f"{path}, referenced by a vendored style sheet, is missing: run scripts/setup.sh")
    mime = _FONT_TYPES.get(path.suffix) or mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return f'url("data:{mime};base64,{base64.b64encode(path.read_bytes()).decode("ascii")}")'


_FONT_TYPES = {".woff2": "font/woff2", ".woff": "font/woff", ".ttf": "font/ttf", ".eot": "application/vnd.ms-fontobject",
               ".svg": "image/svg+xml"}
