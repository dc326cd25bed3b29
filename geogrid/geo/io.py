"""Reading GIS layers (GeoJSON, GeoPackage, Shapefile, zipped Shapefile, CSV) and writing GeoPackages."""

from __future__ import annotations

import io
import os
import shutil
import tempfile
import zipfile
from pathlib import Path, PurePosixPath
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyproj import CRS

from geogrid.geo import crs as crs_mod
from geogrid.errors import InputError

LON_NAMES = ("lon", "lng", "longitude", "x")
LAT_NAMES = ("lat", "latitude", "y")
VECTOR_SUFFIXES = {".geojson": "GeoJSON", ".json": "GeoJSON", ".gpkg": "GeoPackage", ".shp": "Shapefile"}
SUPPORTED = "GeoJSON (.geojson/.json), GeoPackage (.gpkg), Shapefile (.shp or zipped .zip) or CSV (.csv)"

ZIP_MAX_RATIO = 100
ZIP_MAX_BYTES = 2 * 1024**3
_MAX_LISTED = 20

# Attribute keys set on every layer read, used by geogrid.geo.validate for messages.
SOURCE_ATTR = "source"
NUMBERING_ATTR = "row_numbering"  # "feature" (1-based file order) or "csv" (spreadsheet rows)

_READ_ERRORS = (RuntimeError, OSError, ValueError, UnicodeDecodeError, pd.errors.ParserError)


def read_layer(
    path: str | Path,
    *,
    name: str,
    input_crs: str | int | CRS | None = None,
    layer: str | None = None,
) -> gpd.GeoDataFrame:
    """Read one layer of a GIS file or a lon/lat CSV into EPSG:4326, or raise InputError.

    `name` is what the layer is for ("buildings"); messages say "<name> file <path>: ...".
    The result has a fresh RangeIndex and attrs "source" (the path) and "row_numbering".
    """
    path = Path(path)
    label = f"{name} file {path}"
    _check_file(path, label)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        gdf = _read_csv(path, label)
    elif suffix == ".zip":
        gdf = _read_vector(_zip_source(path, label, layer), label, None)
    elif suffix in VECTOR_SUFFIXES:
        gdf = _read_vector(str(path), label, layer)
    else:
        raise InputError(f"{label}: unsupported file type {path.suffix!r}; use {SUPPORTED}")
    if len(gdf) == 0:
        raise InputError(f"{label}: the file contains no features")
    _check_finite(gdf, label)
    out = crs_mod.to_wgs84(gdf.reset_index(drop=True), input_crs, name=label)
    out.attrs[SOURCE_ATTR] = str(path)
    out.attrs[NUMBERING_ATTR] = "csv" if suffix == ".csv" else "feature"
    return out


def _check_finite(gdf: gpd.GeoDataFrame, label: str) -> None:
    """InputError naming the features (1-based) with a coordinate that is not a number (NaN) or infinite."""
    coords, index = shapely.get_coordinates(gdf.geometry.values, return_index=True)
    bad = np.unique(index[~np.isfinite(coords).all(axis=1)])
    if bad.size:
        listed = ", ".join(str(int(i) + 1) for i in bad[:_MAX_LISTED])
        more = f" and {bad.size - _MAX_LISTED} more" if bad.size > _MAX_LISTED else ""
        raise InputError(f"{label}: coordinates that are not numbers (NaN or infinite) at feature {listed}{more}")


def read_table(path: str | Path, *, name: str, layer: str | None = None) -> pd.DataFrame:
    """Read an attribute table (a layer's attributes, geometry ignored) from a GIS file, or raise InputError.

    Used for non-spatial layers such as a previous plan's assignments; zero rows are allowed.
    """
    path = Path(path)
    label = f"{name} file {path}"
    _check_file(path, label)
    chosen = _pick_layer(str(path), label, layer)
    try:
        table = pyogrio.read_dataframe(path, layer=chosen, read_geometry=False)
    except _READ_ERRORS as err:
        raise InputError(f"{label}: {_unreadable(str(path), err)}") from None
    table = pd.DataFrame(table)
    table.attrs[SOURCE_ATTR] = str(path)
    table.attrs[NUMBERING_ATTR] = "feature"
    return table


def _check_file(path: Path, label: str) -> None:
    """Missing, directory or zero-byte files raise InputError."""
    if not path.exists():
        raise InputError(f"{label}: file not found")
    if not path.is_file():
        raise InputError(f"{label}: not a file")
    if path.stat().st_size == 0:
        raise InputError(f"{label}: the file is empty (0 bytes)")


def _pick_layer(source: str, label: str, layer: str | None) -> str | None:
    """The layer to read: the given one (must exist) or the only one."""
    try:
        names = [str(row[0]) for row in pyogrio.list_layers(source)]
    except _READ_ERRORS as err:
        raise InputError(f"{label}: {_unreadable(source, err)}") from None
    if layer is not None:
        if layer not in names:
            raise InputError(f"{label}: has no layer {layer!r}; its layers are: {', '.join(names)}")
        return layer
    if len(names) > 1:
        raise InputError(
            f"{label}: has {len(names)} layers ({', '.join(names)}); give the name of the layer to read"
        )
    return names[0] if names else None


def _read_vector(source: str, label: str, layer: str | None) -> gpd.GeoDataFrame:
    """Read a GDAL-readable vector source with pyogrio, turning reader errors into InputError."""
    chosen = _pick_layer(source, label, layer)
    if chosen is None:
        raise InputError(f"{label}: the file contains no layers")
    try:
        # on_invalid="fix": a ring with too few points is read (as a collapsed ring, or as nothing)
        # instead of stopping the reader; validation repairs or names it
        gdf = gpd.read_file(source, layer=chosen, engine="pyogrio", on_invalid="fix", fid_as_index=True)
    except _READ_ERRORS as err:
        raise InputError(f"{label}: {_unreadable(source, err)}") from None
    if not isinstance(gdf, gpd.GeoDataFrame):
        raise InputError(f"{label}: layer {chosen!r} has no geometries")
    return _unbuilt_rings(gdf, source, chosen).reset_index(drop=True)


def _unbuilt_rings(gdf: gpd.GeoDataFrame, source: str, layer: str) -> gpd.GeoDataFrame:
    """Features whose geometry could not be read (a ring of one or two points) but have a place in
    the file: a collapsed polygon at the centre of their coordinates' bounds, so validation can
    keep them as point buildings (or name them) instead of taking them for features without one."""
    lost = gdf.geometry.isna().to_numpy()
    if not lost.any():
        return gdf
    try:
        fids, bounds = pyogrio.read_bounds(source, layer=layer)
    except _READ_ERRORS:
        return gdf
    centre = pd.DataFrame({"x": (bounds[0] + bounds[2]) / 2, "y": (bounds[1] + bounds[3]) / 2}, index=fids)
    where = centre.reindex(gdf.index[lost]).dropna()
    if where.empty:
        return gdf
    gdf = gdf.copy()
    collapsed = shapely.polygons(np.repeat(where.to_numpy()[:, None, :], 4, axis=1))
    gdf.loc[where.index, gdf.geometry.name] = collapsed
    return gdf


def _unreadable(source: str, err: BaseException) -> str:
    """'cannot be read: ...' naming the format expected from the suffix and GDAL's reason."""
    kind = VECTOR_SUFFIXES.get(Path(source).suffix.lower(), "GIS file")
    return f"cannot be read: it is damaged or not a valid {kind} ({_short(err)})"


def _short(err: BaseException) -> str:
    """An exception's message on one line, without GDAL's hint about driver prefixes."""
    text = " ".join(str(err).split()).split("; It might help to specify")[0]
    return text or type(err).__name__


# --- zipped Shapefile ---------------------------------------------------------------------


def _zip_source(path: Path, label: str, layer: str | None) -> str:
    """The /vsizip/ path of the one Shapefile in a safe zip archive."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError) as err:
        raise InputError(f"{label}: not a valid zip archive ({_short(err)})") from None
    _check_zip_members(members, path.stat().st_size, label)
    shapefiles = [m.filename for m in members if m.filename.lower().endswith(".shp") and not m.is_dir()]
    if not shapefiles:
        raise InputError(f"{label}: the zip archive contains no Shapefile (.shp)")
    stems = ", ".join(PurePosixPath(f).stem for f in shapefiles)
    if layer is not None:
        shapefiles = [f for f in shapefiles if PurePosixPath(f).stem == layer]
        if not shapefiles:
            raise InputError(f"{label}: the zip has no Shapefile named {layer!r}; it has: {stems}")
    if len(shapefiles) > 1:
        raise InputError(f"{label}: the zip holds several Shapefiles ({stems}); give the name of the one to read")
    return f"/vsizip/{path.resolve()}/{shapefiles[0]}"


def _check_zip_members(members: list[zipfile.ZipInfo], size: int, label: str) -> None:
    """Reject absolute or '..' member paths, and archives that expand past 100x and 2 GB."""
    unsafe = [m.filename for m in members if unsafe_member(m.filename)]
    if unsafe:
        raise InputError(
            f"{label}: the zip archive has unsafe member paths (absolute or with '..'): "
            + ", ".join(unsafe[:_MAX_LISTED])
        )
    total = sum(m.file_size for m in members)
    if total > ZIP_MAX_RATIO * size and total > ZIP_MAX_BYTES:
        raise InputError(
            f"{label}: the zip archive expands to {total / 1024**3:.1f} GB, "
            f"more than {ZIP_MAX_RATIO} times its size and more than 2 GB; refusing to read it"
        )


def unsafe_member(filename: str) -> bool:
    """True for absolute paths, drive letters and '..' components."""
    normal = filename.replace("\\", "/")
    parts = normal.split("/")
    return normal.startswith("/") or (len(normal) > 1 and normal[1] == ":") or ".." in parts


# --- CSV ---------------------------------------------------------------------------------


EXCEL_CSV_ENCODING = "utf-8-sig"  # UTF-8 with a byte-order mark: Excel (also in Chinese Windows) reads it as UTF-8


def write_csv(table: pd.DataFrame, path: str | Path | io.BytesIO) -> None:
    """Write a table as CSV for Excel: UTF-8 with a BOM, a header row, no index, and no cell a spreadsheet would run
    as a formula. Every CSV geogrid writes goes here."""
    table = safe_frame(table)
    if isinstance(path, io.BytesIO):
        path.write(table.to_csv(index=False).encode(EXCEL_CSV_ENCODING))
        return
    table.to_csv(path, index=False, encoding=EXCEL_CSV_ENCODING)


def _read_csv(path: Path, label: str) -> gpd.GeoDataFrame:
    """Points from a CSV with lon/lat columns; all other columns are kept as text."""
    table = _read_csv_text(path, label)
    lon_col = _find_column(table, LON_NAMES, "longitude", label)
    lat_col = _find_column(table, LAT_NAMES, "latitude", label)
    lon = _coordinate(table[lon_col], lon_col, label)
    lat = _coordinate(table[lat_col], lat_col, label)
    rest = table.drop(columns=[lon_col, lat_col])
    return gpd.GeoDataFrame(rest, geometry=gpd.points_from_xy(lon, lat), crs=None)


def _read_csv_text(path: Path, label: str) -> pd.DataFrame:
    """The CSV as text cells (ids keep leading zeros); UTF-8 (with or without BOM), else GB18030."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""], encoding=encoding)
        except UnicodeDecodeError:
            continue
        except pd.errors.EmptyDataError:
            raise InputError(f"{label}: the CSV file has no header and no rows") from None
        except _READ_ERRORS as err:
            raise InputError(f"{label}: cannot be read as CSV ({_short(err)})") from None
    raise InputError(f"{label}: the CSV file is neither UTF-8 nor GB18030 text")


def _find_column(table: pd.DataFrame, names: tuple[str, ...], what: str, label: str) -> str:
    """The first column (case-insensitive) among the accepted names."""
    by_lower: dict[str, str] = {}
    for column in table.columns:
        by_lower.setdefault(str(column).strip().lower(), column)
    for candidate in names:
        if candidate in by_lower:
            return by_lower[candidate]
    raise InputError(
        f"{label}: no {what} column; name it one of {', '.join(names)} (any case). "
        f"The file has: {', '.join(map(str, table.columns))}"
    )


def _coordinate(column: pd.Series, column_name: str, label: str) -> np.ndarray:
    """A coordinate column as floats; missing or non-numeric cells raise InputError with row numbers."""
    values = pd.to_numeric(column.str.strip(), errors="coerce").to_numpy(dtype=float)
    bad = np.flatnonzero(~np.isfinite(values))
    if bad.size:
        shown = ", ".join(f"{i + 2} ({_cell(column.iloc[i])})" for i in bad[:_MAX_LISTED])
        more = f" and {bad.size - _MAX_LISTED} more" if bad.size > _MAX_LISTED else ""
        raise InputError(
            f"{label}: column {column_name!r} must hold numbers; bad or missing values at rows "
            f"{shown}{more} (rows as in a spreadsheet: the header is row 1, the first data row is row 2)"
        )
    return values


def _cell(value: object) -> str:
    return "empty" if pd.isna(value) else repr(value)


# --- writing ------------------------------------------------------------------------------


def make_parent(path: Path) -> None:
    """Create the folder an output goes into, as `mkdir -p` does; InputError where it cannot be made."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise InputError(f"output {path}: {path.parent} is a file, not a folder") from None
    except OSError as exc:
        raise InputError(f"output {path}: cannot create the folder {path.parent} ({exc.strerror})") from None


def write_gpkg(layers: dict[str, gpd.GeoDataFrame | pd.DataFrame], path: str | Path) -> None:
    """Write all layers to one GeoPackage atomically: a temp file next to it, then os.replace.

    DataFrames without geometry become attribute-only tables. If any layer fails, the target
    is left as it was (absent or the previous file) and the error is re-raised with a note.
    """
    path = Path(path)
    if not layers:
        raise ValueError("write_gpkg needs at least one layer")
    make_parent(path)
    workdir = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
    try:
        temp = workdir / path.name
        for index, (layer_name, frame) in enumerate(layers.items()):
            _write_layer(frame, temp, layer_name, append=index > 0, target=path)
        os.replace(temp, path)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _write_layer(frame: pd.DataFrame, temp: Path, layer: str, *, append: bool, target: Path) -> None:
    """Write one layer with pyogrio; a failure gets a note naming the layer and target."""
    try:
        pyogrio.write_dataframe(frame, temp, layer=layer, driver="GPKG", append=append)
    except Exception as err:
        err.add_note(f"while writing layer {layer!r} of {target} (nothing was written to {target})")
        raise


# --- spreadsheet cells: text a spreadsheet would run as a formula (=, +, -, @ first) stays text ---------

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")  # what Excel, LibreOffice and Sheets read as a formula's start
QUOTE = "'"  # the spreadsheet's own mark for 'this is text'


def safe_cell(value: Any) -> Any:
    """value with a quote in front when it is text a spreadsheet would run as a formula; anything else as is."""
    return QUOTE + value if isinstance(value, str) and value.startswith(FORMULA_START) else value


def safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of frame whose text cells are safe_cell'd, column by column (whole-column string operations)."""
    out = frame.copy()
    for column in out.columns:
        values = out[column]
        if values.dtype != object and not pd.api.types.is_string_dtype(values):
            continue
        text = values.where(values.map(type) == str)
        risky = text.str.startswith(FORMULA_START).fillna(False).astype(bool)
        if risky.any():
            out[column] = values.where(~risky, QUOTE + text)
    return out
