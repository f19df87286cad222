#!/usr/bin/env bash
# Idempotent installer for the test-only Bluesky PDS + PLC (see tests/pds/server.mjs).
#
# Installs, into a cache directory:
#   <dir>/runtime/...        Node 22 (npm package named by "threadpostNodeRuntime" in package.json)
#   <dir>/bin/node           symlink to that Node 22 binary
#   <dir>/node_modules/...   @atproto/pds, @did-plc/server, ... from package-lock.json (npm ci)
#   <dir>/.threadpost-installed  stamp, written last, holding the hash of the inputs
#
# <dir> defaults to ${XDG_CACHE_HOME:-$HOME/.cache}/threadpost/pds-<hash>, where <hash> covers
# package.json, package-lock.json and LAYOUT_VERSION below; override it with THREADPOST_PDS_DIR
# (the stamp still holds the hash, so a changed package.json reinstalls there too).
# When the stamp matches, nothing is done (fast path). Progress goes to stderr; the install
# directory is printed as the last line on stdout.
#
# Needs: bash, flock, sha256sum, timeout, a system `npm` (any Node >= 18 to run npm itself
# until Node 22 is installed), and a C++ toolchain + python3 (better-sqlite3 builds from source).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PKG_JSON="$HERE/package.json"
PKG_LOCK="$HERE/package-lock.json"

log() { printf '[threadpost pds install] %s\n' "$*" >&2; }

NODE_PKG="$(sed -n 's/.*"threadpostNodeRuntime"[[:space:]]*:[[:space:]]*"\([^"]*\)".*/\1/p' "$PKG_JSON")"
if [[ -z "$NODE_PKG" ]]; then
  log "no threadpostNodeRuntime in $PKG_JSON"
  exit 2
fi
NODE_PKG_NAME="${NODE_PKG%@*}"

# Bump when this script starts installing something different (forces a fresh install).
LAYOUT_VERSION=1
HASH="$( { echo "layout $LAYOUT_VERSION"; cat "$PKG_JSON" "$PKG_LOCK"; } | sha256sum | cut -c1-16)"
CACHE_ROOT="${XDG_CACHE_HOME:-$HOME/.cache}/threadpost"
DIR="${THREADPOST_PDS_DIR:-$CACHE_ROOT/pds-$HASH}"
STAMP="$DIR/.threadpost-installed"
NODE_ROOT="$DIR/runtime/node_modules/$NODE_PKG_NAME"
NODE_BIN="$NODE_ROOT/bin/node"

is_complete() {
  [[ -f "$STAMP" && "$(cat "$STAMP" 2>/dev/null)" == "$HASH" && -x "$NODE_BIN" \
     && -d "$DIR/node_modules/@atproto/pds" && -d "$DIR/node_modules/@did-plc/server" ]]
}

# Fast path: already installed.
if is_complete; then
  printf '%s\n' "$DIR"
  exit 0
fi

mkdir -p "$DIR"
DIR="$(cd "$DIR" && pwd)"
STAMP="$DIR/.threadpost-installed"
NODE_ROOT="$DIR/runtime/node_modules/$NODE_PKG_NAME"
NODE_BIN="$NODE_ROOT/bin/node"

# One installer at a time per directory (parallel test sessions, xdist workers).
exec 9>"$DIR/.install.lock"
if ! flock -w 1800 9; then
  log "timed out waiting for another install in $DIR"
  exit 3
fi
if is_complete; then   # someone else finished while we waited
  printf '%s\n' "$DIR"
  exit 0
fi

START=$SECONDS
rm -f "$STAMP"
log "installing into $DIR"

# 1. Node 22 (the PDS needs Node >= 22; it also provides the headers for native builds).
if [[ ! -x "$NODE_BIN" ]] || [[ "$("$NODE_BIN" -p 'process.versions.node' 2>/dev/null)" != "${NODE_PKG##*@}" ]]; then
  log "installing $NODE_PKG"
  rm -rf "$DIR/runtime"
  mkdir -p "$DIR/runtime"
  printf '{"name":"threadpost-pds-runtime","private":true}\n' >"$DIR/runtime/package.json"
  (cd "$DIR/runtime" && timeout 900 npm install --no-audit --no-fund --no-save \
      --no-package-lock --prefer-offline "$NODE_PKG" >&2)
fi
"$NODE_BIN" --version >/dev/null
mkdir -p "$DIR/bin"
ln -sfn "$NODE_BIN" "$DIR/bin/node"

# 2. The PDS packages, built against Node 22.
cp "$PKG_JSON" "$PKG_LOCK" "$DIR/"
log "npm ci (better-sqlite3 compiles from source; a cold install takes a minute or two)"
(
  cd "$DIR"
  export PATH="$NODE_ROOT/bin:$PATH"
  export npm_config_nodedir="$NODE_ROOT"
  export npm_config_build_from_source=better-sqlite3   # build it here: no prebuilt-binary download
  export JOBS="${JOBS:-$(nproc 2>/dev/null || echo 2)}"
  timeout 1800 npm ci --no-audit --no-fund --prefer-offline --omit=dev >&2
)

# 3. Check that the native module loads under Node 22 and the entry points resolve.
(
  cd "$DIR"
  "$NODE_BIN" -e '
    const Database = require("better-sqlite3");
    new Database(":memory:").prepare("select 1").get();
    require.resolve("@atproto/pds"); require.resolve("@did-plc/server");
    require.resolve("@atproto/crypto");
  ' >&2
)

printf '%s\n' "$HASH" >"$STAMP"
log "done in $((SECONDS - START)) s"
printf '%s\n' "$DIR"
