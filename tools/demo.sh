#!/bin/sh
# `make demo`: the main job on built-in demo data. Generates a week of synthetic firewall
# logs with planted exfiltration into ./demo/, converts them to Parquet, prints the ranked
# findings and opens the web UI on them (`datamate demo`; see its --help).
# DM_DEMO_ROWS, DM_DEMO_DIR and DM_DEMO_ARGS (e.g. "--no-open --listen 127.0.0.1:9000")
# change the defaults.
set -eu
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
DM="$BUILD/datamate"
[ -x "$DM" ] || { echo "demo: $DM is missing; run 'make' first" >&2; exit 1; }
# shellcheck disable=SC2086
exec "$DM" demo --dir "${DM_DEMO_DIR:-demo}" --rows "${DM_DEMO_ROWS:-1000000}" ${DM_DEMO_ARGS:-}
