#!/bin/sh
# The JSON API of `datamate serve` against a real served dataset (see api.mjs).
ROOT=${DM_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
exec node "$ROOT/tests/e2e/api.mjs"
