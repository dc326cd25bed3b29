#!/usr/bin/env bash
# Set up geogrid on a fresh Debian 12 / Ubuntu machine: system packages, a virtual environment,
# the project with its test extras, and the maps' browser libraries (maps/static/vendor). Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

# chromium: the page tests (tests/maps) drive /usr/bin/chromium; fonts-wqy-microhei: Chinese text in it;
# gdal-bin: the tests read /ogc with GDAL's OAPIF driver and open every export with ogrinfo;
# wrk: the benchmarks that load the HTTP API (bench/api_latency.py, bench/report_load.py).
SYSTEM_PACKAGES=(python3-venv postgresql-15-postgis-3 libsqlite3-mod-spatialite chromium fonts-wqy-microhei gdal-bin wrk)
command -v npm >/dev/null || SYSTEM_PACKAGES+=(nodejs npm)

missing=()
for pkg in "${SYSTEM_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    echo "installing system packages: ${missing[*]}"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

PYTHON="${PYTHON:-python3}"
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e '.[test]'
# The maps' JavaScript and CSS come from the npm registry (exact versions in maps/package-lock.json) and
# are served by geogrid itself: intranets have no internet, so no page may load anything from a CDN.
npm ci --prefix maps --no-audit --no-fund --loglevel=error
.venv/bin/python -m maps.vendor

echo "geogrid is set up: run the tests with  .venv/bin/pytest"
