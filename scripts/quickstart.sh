#!/usr/bin/env bash
# The README's first command: install, start berthd in the background on its default socket,
# make busybox:latest from the host's busybox-static, and run a first container.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
sock=/run/berth/berth.sock
export DOCKER_HOST=unix://$sock
if ! docker version >/dev/null 2>&1; then
  mkdir -p /var/log/berth
  nohup bin/berthd >/var/log/berth/berthd.log 2>&1 &
  for _ in $(seq 1 100); do docker version >/dev/null 2>&1 && break; sleep 0.1; done
fi
if ! docker image inspect busybox:latest >/dev/null 2>&1; then
  bash scripts/busybox-image.sh | docker import -c 'CMD ["sh"]' - busybox:latest
fi
docker run --rm busybox echo hello from berth
echo "berthd is running (log: /var/log/berth/berthd.log); use it with: export DOCKER_HOST=unix://$sock"
