#!/bin/sh
# DuckDB reads what `datamate convert` writes: schema and logical types, key-value metadata,
# a day-partitioned dataset, exact values of real fixtures, and a row-by-row comparison of
# `gen` output (every schema) parsed independently in JavaScript.
set -u
ROOT=${DM_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${DM_BUILD:-$ROOT/build}
exec node "$ROOT/tests/interop/convert.mjs" "$BUILD/interop-convert"
