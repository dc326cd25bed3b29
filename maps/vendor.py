"""Copy the browser libraries from maps/node_modules (after `npm ci --prefix maps`) into maps/static/vendor."""

from __future__ import annotations

import json
import re
import shutil
import sys
import tempfile
from dataclasses import dataclass
from importlib import metadata, resources
from pathlib import Path

MAPS_DIR = Path(__file__).resolve().parent
NODE_MODULES = MAPS_DIR / "node_modules"
VENDOR_DIR = MAPS_DIR / "static" / "vendor"

_LICENSE_NAMES = ("LICENSE", "LICENSE.txt", "LICENSE.md", "LICENCE", "COPYING")
_SOURCE_MAP = re.compile(r"\n?(?://[#@] sourceMappingURL=[^\n]*|/\*[#@] sourceMappingURL=[^*]*\*/)\s*$")


@dataclass(frozen=True)
class Package:
    """An npm package and the files of it that pages load: (path in the package, path under its vendor folder)."""

    npm: str
    dest: str
    files: tuple[tuple[str, str], ...]
    # (file under its vendor folder, text, replacement): what a copied file would load from another host,
    # pointed at our own server; each text must be found (a new version that moved it fails loudly)
    patches: tuple[tuple[str, str, str], ...] = ()
    own_files: tuple[tuple[str, str], ...] = ()  # (path under its vendor folder, text) that we write ourselves


PACKAGES: tuple[Package, ...] = (
    Package("leaflet", "leaflet", (("dist/leaflet.js", "leaflet.js"), ("dist/leaflet.css", "leaflet.css"),
                                   ("dist/images", "images"))),
    Package("jquery", "jquery", (("dist/jquery.min.js", "jquery.min.js"),)),
    Package("bootstrap", "bootstrap", (("dist/js/bootstrap.bundle.min.js", "js/bootstrap.bundle.min.js"),
                                       ("dist/css/bootstrap.min.css", "css/bootstrap.min.css"))),
    Package("bootstrap3", "bootstrap3", (("dist/fonts", "fonts"),)),
    Package("@fortawesome/fontawesome-free", "fontawesome-free", (("css/all.min.css", "css/all.min.css"),
                                                                  ("webfonts", "webfonts"))),
    Package("leaflet.awesome-markers", "leaflet.awesome-markers", (
        ("dist/leaflet.awesome-markers.js", "leaflet.awesome-markers.js"),
        ("dist/leaflet.awesome-markers.css", "leaflet.awesome-markers.css"), ("dist/images", "images"))),
    Package("leaflet.heat", "leaflet.heat", (("dist/leaflet-heat.js", "leaflet-heat.js"),)),
    Package("leaflet-draw", "leaflet-draw", (("dist/leaflet.draw.js", "leaflet.draw.js"),
                                             ("dist/leaflet.draw.css", "leaflet.draw.css"), ("dist/images", "images"))),
    Package("@geoman-io/leaflet-geoman-free", "leaflet-geoman-free", (
        ("dist/leaflet-geoman.min.js", "leaflet-geoman.min.js"), ("dist/leaflet-geoman.css", "leaflet-geoman.css"))),
    Package("leaflet.vectorgrid", "leaflet.vectorgrid", (
        ("dist/Leaflet.VectorGrid.bundled.min.js", "Leaflet.VectorGrid.bundled.min.js"),)),
    # the API's /docs (Swagger UI) and /redoc pages
    Package("swagger-ui-dist", "swagger-ui", (("swagger-ui-bundle.js", "swagger-ui-bundle.js"),
                                              ("swagger-ui.css", "swagger-ui.css"),
                                              ("favicon-32x32.png", "favicon-32x32.png"))),
    # ReDoc's side menu shows Redocly's logo from their CDN, whatever its options say: ours is served instead
    Package("redoc", "redoc", (("bundles/redoc.standalone.js", "redoc.standalone.js"),),
            patches=(("redoc.standalone.js", "https://cdn.redoc.ly/redoc/logo-mini.svg",
                      "/static/vendor/redoc/logo-mini.svg"),),
            own_files=(("logo-mini.svg", '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16">'
                        '<rect x="2" y="2" width="12" height="12" rx="3" fill="#32329f"/></svg>\n'),)),
)


def main() -> None:
    """Rebuild maps/static/vendor from node_modules and the installed folium, or exit non-zero saying why."""
    if not NODE_MODULES.is_dir():
        sys.exit(f"vendor: {NODE_MODULES} is missing: run `npm ci --prefix maps` (scripts/setup.sh does)")
    VENDOR_DIR.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".vendor-", dir=VENDOR_DIR.parent))
    try:
        versions = {pkg.dest: _copy_package(pkg, staging / pkg.dest) for pkg in PACKAGES}
        _write_glyphicons(NODE_MODULES / "bootstrap3", staging / "bootstrap3")
        versions["folium"] = _write_folium(staging / "folium")
        (staging / "VERSIONS.json").write_text(json.dumps(versions, indent=2) + "\n", encoding="utf-8")
        shutil.rmtree(VENDOR_DIR, ignore_errors=True)
        staging.rename(VENDOR_DIR)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    print(f"vendor: {len(versions)} packages copied into {VENDOR_DIR}")


def _copy_package(pkg: Package, dest: Path) -> dict[str, str]:
    """Copy one package's files and licence into `dest`; return its name, version and licence."""
    root = NODE_MODULES / pkg.npm
    meta = json.loads(_need(root / "package.json").read_text(encoding="utf-8"))
    for src, target in pkg.files:
        _copy(_need(root / src), dest / target)
    for target, text, replacement in pkg.patches:
        _patch(dest / target, text, replacement)
    for target, text in pkg.own_files:
        (dest / target).write_text(text, encoding="utf-8")
    _copy_license(root, meta, dest)
    return {"npm": meta["name"], "version": meta["version"], "license": str(meta.get("license", "see LICENSE"))}


def _patch(path: Path, text: str, replacement: str) -> None:
    """Replace every `text` in the copied file, or exit saying it is not there (the package changed)."""
    content = path.read_text(encoding="utf-8")
    if text not in content:
        sys.exit(f"vendor: {text!r} is no longer in {path}: look again at what it loads from another host")
    path.write_text(content.replace(text, replacement), encoding="utf-8")


def _need(path: Path) -> Path:
    """Return `path`, or exit saying the npm install is incomplete."""
    if not path.exists():
        sys.exit(f"vendor: {path} is missing: run `npm ci --prefix maps` (scripts/setup.sh does)")
    return path


def _copy(src: Path, dest: Path) -> None:
    """Copy a file or a folder, dropping source-map comments (the maps are not shipped)."""
    if src.is_dir():
        for child in sorted(src.iterdir()):
            _copy(child, dest / child.name)
        return
    dest.parent.mkdir(parents=True, exist_ok=True)
    if src.suffix in (".js", ".css"):
        dest.write_text(_SOURCE_MAP.sub("\n", src.read_text(encoding="utf-8")), encoding="utf-8")
    else:
        shutil.copyfile(src, dest)


def _copy_license(root: Path, meta: dict, dest: Path) -> None:
    """Copy the package's licence file; for packages that ship none, write one from package.json."""
    found = [root / name for name in _LICENSE_NAMES if (root / name).is_file()]
    if found:
        shutil.copyfile(found[0], dest / found[0].name)
        return
    home = meta.get("homepage") or (meta.get("repository") or {}).get("url", "")
    (dest / "LICENSE").write_text(
        f"{meta['name']} {meta['version']} ({home}) ships no licence file.\n"
        f"Its package.json declares the licence: {meta.get('license', 'unknown')}.\n"
        "The copyright notice is kept at the top of the distributed files in this folder.\n",
        encoding="utf-8",
    )


def _write_glyphicons(root: Path, dest: Path) -> None:
    """Cut the Glyphicons rules (folium's default glyphicon icons) out of Bootstrap 3's stylesheet."""
    css = _need(root / "dist" / "css" / "bootstrap.css").read_text(encoding="utf-8")
    start = css.find('@font-face {\n  font-family: "Glyphicons Halflings";')
    end = css.find("\n* {\n", start)
    if start < 0 or end < 0:
        sys.exit("vendor: cannot find the Glyphicons rules in bootstrap3/dist/css/bootstrap.css")
    header = css[: css.find("*/") + 2]
    (dest / "css").mkdir(parents=True, exist_ok=True)
    (dest / "css" / "glyphicons.css").write_text(f"{header}\n{css[start:end]}\n", encoding="utf-8")


def _write_folium(dest: Path) -> dict[str, str]:
    """Copy folium's patched leaflet-heat build (weighted points) and write its awesome-marker rotation rules."""
    dest.mkdir(parents=True, exist_ok=True)
    heat = resources.files("folium") / "templates" / "leaflet_heat.min.js"
    (dest / "leaflet_heat.min.js").write_text(heat.read_text(encoding="utf-8"), encoding="utf-8")
    rules = "".join(f".fa-rotate-{d}{{transform:rotate({d}deg);}}\n" for d in range(1, 360))
    (dest / "leaflet.awesome.rotate.css").write_text(rules, encoding="utf-8")
    licence = next((f for f in metadata.files("folium") or [] if f.name.upper().startswith("LICENSE")), None)
    if licence is None:
        sys.exit("vendor: the installed folium has no licence file")
    shutil.copyfile(licence.locate(), dest / "LICENSE.txt")
    return {"pypi": "folium", "version": metadata.version("folium"), "license": "MIT"}


if __name__ == "__main__":
    main()
