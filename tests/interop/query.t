#!/bin/sh
# datamate query against DuckDB on the same Parquet file: counts with filters, top-N,
# histogram buckets, sums, sorted pages and graph edges must be identical.
set -u
ROOT=${DM_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${DM_BUILD:-$ROOT/build}
OUT="$BUILD/interop-query"
rm -rf "$OUT" && mkdir -p "$OUT"
if ! "$BUILD/helpers/flows_write" "$OUT/flows.parquet" 120000 --seed 11 --rg 20000 --shuffle 2> "$OUT/helper.err"; then
    echo "not ok 1 - flows_write wrote the data ($(head -c 300 "$OUT/helper.err"))"
    exit 1
fi
printf '{"internal_networks": ["10.0.0.0/8", "192.168.0.0/16"]}\n' > "$OUT/config.json"
exec node "$ROOT/tests/interop/query.mjs" "${DM_BIN:-$BUILD/datamate}" "$OUT/flows.parquet" "$OUT/config.json"
