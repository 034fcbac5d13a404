#!/bin/sh
# Fault injection on the HTTP path (see serve.mjs).
ROOT=${DM_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
exec node "$ROOT/tests/fault/serve.mjs"
