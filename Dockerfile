# geogrid: the same set-up as the README, in a Debian 12 image with Python 3.11.
FROM python:3.11-slim-bookworm

RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        libsqlite3-mod-spatialite postgresql-client nodejs npm \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY pyproject.toml README.md ./
COPY geogrid ./geogrid
COPY api ./api
COPY maps ./maps
COPY cli ./cli
COPY data ./data
# installed in place, as the README's set-up does; then the maps' browser libraries from npm (exact
# versions in maps/package-lock.json), copied into maps/static/vendor and served by geogrid itself
RUN pip install --no-cache-dir -e . \
 && npm ci --prefix maps --no-audit --no-fund --loglevel=error \
 && python -m maps.vendor

ENV GEOGRID_DATA_DIR=/var/lib/geogrid
VOLUME /var/lib/geogrid
EXPOSE 8000
CMD ["geogrid", "serve", "--host", "0.0.0.0", "--port", "8000"]
