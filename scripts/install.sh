#!/usr/bin/env bash
# Installs everything Berth and its tests need on a fresh Debian 12 machine (as root):
# the system layer from Debian, and the npm dependencies (which pin Node.js 24).
# Idempotent: packages already present are not fetched again.
set -euo pipefail
cd "$(dirname "$0")/.."

# docker.io is the judge of the conformance suite (a private dockerd 20.10 beside a private berthd);
# python3-docker, docker-compose and python3-pytest run the client suites; tini is docker-init for --init.
debs=(runc conmon iptables iproute2 busybox-static zstd attr util-linux procps tar ca-certificates curl wrk skopeo docker-registry tmux bash-completion zsh
  docker.io python3-docker docker-compose python3-pytest python3-pytest-timeout python3-requests python3-packaging
  python3-paramiko python3-websocket tini catatonit python3 nftables gcc libc6-dev)
# (python3 also runs berthd's embedded-DNS helper; nft sets its 127.0.0.11 redirect in a container's netns)
# (gcc and libc6-dev build the static seccomp probe of test/integration/hostile-container)
missing=()
for p in "${debs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing Debian packages: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if [ ! -x node_modules/.bin/node ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "installing npm dependencies"
  npm install --no-audit --no-fund --loglevel=error
fi
node_modules/.bin/node --version >/dev/null

# The JavaScript build bin/berthd and bin/berth run (they fall back to src/ when it is stale).
rm -rf dist
node_modules/.bin/tsc -p tsconfig.build.json
# The berth CLI as one bundle (start-up time; scripts/build-cli.ts says why).
node_modules/.bin/node scripts/build-cli.ts
touch dist/.built
