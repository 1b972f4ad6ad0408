#!/usr/bin/env bash
# The README's first command, for a fresh Debian 12 machine with neither Docker nor npm: install
# what Berth needs (scripts/install.sh), start berthd in the background, make busybox:latest from
# the host's busybox-static, and run a first container, all with Berth's own CLI (bin/berth).
# The daemon's socket and roots can be moved (test/integration/cli/quickstart.test.ts runs this
# beside other daemons): BERTH_HOST (default unix:///run/berth/berth.sock), BERTH_DATA_ROOT,
# BERTH_EXEC_ROOT, BERTH_LOG, and more berthd flags in BERTH_DAEMON_ARGS (split on spaces).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
export BERTH_HOST=${BERTH_HOST:-unix:///run/berth/berth.sock}
log=${BERTH_LOG:-/var/log/berth/berthd.log}
berth=bin/berth
daemon_args=(-H "$BERTH_HOST")
[ -n "${BERTH_DATA_ROOT:-}" ] && daemon_args+=(--data-root "$BERTH_DATA_ROOT")
[ -n "${BERTH_EXEC_ROOT:-}" ] && daemon_args+=(--exec-root "$BERTH_EXEC_ROOT" --pidfile "$BERTH_EXEC_ROOT/berthd.pid")
read -ra extra <<< "${BERTH_DAEMON_ARGS:-}"
daemon_args+=("${extra[@]}")
if ! $berth version >/dev/null 2>&1; then
  mkdir -p "$(dirname "$log")"
  nohup bin/berthd "${daemon_args[@]}" >"$log" 2>&1 &
  for _ in $(seq 1 100); do $berth version >/dev/null 2>&1 && break; sleep 0.1; done
fi
if ! $berth image inspect busybox:latest >/dev/null 2>&1; then
  bash scripts/busybox-image.sh | $berth import -c 'CMD ["sh"]' - busybox:latest
fi
$berth run --rm busybox echo hello from berth
echo "berthd is running (log: $log). Try: $PWD/bin/berth run --rm -it busybox sh"
