#!/bin/sh
# Installs what the build and tests need on Debian 12, only what is missing.
# Quiet and quick when everything is present; uses sudo when not root.
set -eu
cd "$(dirname "$0")/.."

PKGS="build-essential pkg-config clang libclang-rt-14-dev libzstd-dev libsnappy-dev zlib1g-dev liblz4-dev libmicrohttpd-dev libcmocka-dev nodejs npm chromium tzdata"
[ -n "${DM_SETUP_EXTRA:-}" ] && PKGS="$PKGS $DM_SETUP_EXTRA"

missing=""
for p in $PKGS; do
    # nodejs/npm may come from elsewhere (nodesource, nvm): accept the commands.
    case $p in
        nodejs) command -v node >/dev/null 2>&1 && continue ;;
        npm)    command -v npm  >/dev/null 2>&1 && continue ;;
    esac
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done

if [ -n "$missing" ]; then
    echo "setup: installing Debian packages:$missing" >&2
    SUDO=""
    [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get update -qq >&2 || { echo "setup: apt-get update failed" >&2; exit 1; }
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >&2 ||
        { echo "setup: apt-get install failed for:$missing" >&2; exit 1; }
fi

# npm packages (DuckDB reference, browser driver, web bundling), pinned by tools/package-lock.json.
if [ -f tools/package.json ]; then
    if [ ! -d tools/node_modules ] || [ tools/package.json -nt tools/node_modules/.stamp ]; then
        echo "setup: installing npm packages in tools/" >&2
        (cd tools && if [ -f package-lock.json ]; then npm ci --no-audit --no-fund --loglevel=error; else npm install --no-audit --no-fund --loglevel=error; fi) >&2 ||
            { echo "setup: npm install failed in tools/" >&2; exit 1; }
        touch tools/node_modules/.stamp
    fi
fi
