#!/bin/sh
# DuckDB reads the files our Parquet writer makes: values, types, statistics, encodings.
# The cases are written by $DM_BUILD/helpers/pq_write_cases (tests/interop/pq_write_cases.c).
set -u
ROOT=${DM_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${DM_BUILD:-$ROOT/build}
OUT="$BUILD/interop-pqwrite"
rm -rf "$OUT" && mkdir -p "$OUT"
if ! "$BUILD/helpers/pq_write_cases" "$OUT" 2> "$OUT/helper.err"; then
    echo "not ok 1 - pq_write_cases wrote the cases ($(head -c 300 "$OUT/helper.err"))"
    exit 1
fi
exec node "$ROOT/tests/interop/pq_write.mjs" "$OUT"
