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
COPY scripts/docker-entrypoint.sh /usr/local/bin/geogrid-entrypoint
# installed in place, as the README's set-up does; then the maps' browser libraries from npm (exact
# versions in maps/package-lock.json), copied into maps/static/vendor and served by geogrid itself
RUN pip install --no-cache-dir -e . \
 && npm ci --prefix maps --no-audit --no-fund --loglevel=error \
 && python -m maps.vendor

ENV GEOGRID_DATA_DIR=/var/lib/geogrid
VOLUME /var/lib/geogrid
EXPOSE 8000
# production (README, "Production quickstart"), against a database where the DBA made PostGIS:
#   docker run -e GEOGRID_DATABASE_URL=postgresql+psycopg://geogrid:...@db/geogrid -e GEOGRID_SECRET_KEY=... \
#       -e GEOGRID_WORKERS=2 -p 8000:8000 geogrid                   # db upgrade, then serve
#   docker run --rm -e GEOGRID_DATABASE_URL=... geogrid geogrid import --districts data/sample/district.geojson ...
#   docker run --rm -e GEOGRID_DATABASE_URL=... geogrid geogrid user add planner --role planner --scope 360702
#   docker run --rm -e GEOGRID_DATABASE_URL=... geogrid geogrid plans partition --all --publish
# without GEOGRID_DATABASE_URL: the demo on the embedded store in the volume
ENTRYPOINT ["geogrid-entrypoint"]
