#!/bin/sh
# The container's start: the README's production commands. With GEOGRID_DATABASE_URL (PostGIS), migrate the store
# (`geogrid db upgrade` says what it did), then serve with GEOGRID_WORKERS processes. Any other command runs as
# given, e.g. `docker run ... geogrid import ...` or `geogrid plans partition --all --publish`.
set -e
if [ "$#" -gt 0 ]; then
    exec "$@"
fi
if [ -n "${GEOGRID_DATABASE_URL:-}" ]; then
    geogrid db upgrade
fi
exec geogrid serve --host 0.0.0.0 --port 8000 --workers "${GEOGRID_WORKERS:-1}"
