#!/usr/bin/env bash
# Installs what Berth needs to run on a Debian 12 machine (as root), and nothing more: the system
# layer from Debian, Node.js 24 and the npm dependencies exactly as package-lock.json pins them
# (`npm ci`), and the JavaScript build in dist/. The test suite's own tools (dockerd, skopeo, the
# CNCF registry, wrk, tmux, zsh, pytest…) are installed by scripts/install-test-deps.sh instead.
#   bash scripts/install.sh          # what a Berth user needs
#   bash scripts/install.sh --dev    # also the npm devDependencies the tests use (dockerode, testcontainers…)
# Idempotent: packages already present are not fetched again, node_modules is reinstalled only
# when the lock changed.
set -euo pipefail
cd "$(dirname "$0")/.."
dev=0
[ "${1:-}" = --dev ] && dev=1

# runc + conmon run containers; iptables, iproute2 and nftables make networks (nft sets the embedded
# DNS's 127.0.0.11 redirect in a container's netns, and python3 runs that DNS helper); attr's
# getfattr/setfattr carry layer xattrs; tini/catatonit are docker-init for --init; busybox-static
# makes the first image without a registry (scripts/busybox-image.sh). npm is only there to install
# the pinned Node.js: Berth runs on node_modules/.bin/node, never on Debian's nodejs.
# Rootless berthd (scripts/rootless-setup.sh checks them for a user): uidmap's setuid
# newuidmap/newgidmap map the user's /etc/subuid range, rootlesskit makes the namespaces,
# slirp4netns or passt's pasta connect them to the host's network, and fuse-overlayfs mounts root
# filesystems on kernels older than 5.11. Rootful berthd does not use them.
debs=(runc conmon iptables iproute2 nftables attr util-linux procps tar ca-certificates tini catatonit python3 busybox-static
  uidmap rootlesskit slirp4netns passt fuse-overlayfs)
# The stamp says which lock (and whether with devDependencies) node_modules was installed from.
want="$(sha256sum package-lock.json | cut -c1-64) dev=$dev"
have=$(cat node_modules/.berth-installed 2>/dev/null || true)
# No stamp but node_modules there (the user ran `npm ci` or `npm install` by hand): it is good
# when npm's own record of the tree (node_modules/.package-lock.json) has every package the lock
# asks for (devDependencies only with --dev), at the same version and integrity.
if [ -z "$have" ] && [ -x node_modules/.bin/node ] && [ -f node_modules/.package-lock.json ] &&
  node_modules/.bin/node -e '
    const [lock, tree] = ["package-lock.json", "node_modules/.package-lock.json"].map((f) => JSON.parse(require("fs").readFileSync(f, "utf8")).packages);
    const dev = process.argv[1] === "1";
    const ok = Object.entries(lock).every(([k, p]) => k === "" || (p.dev && !dev) || (p.optional && !tree[k]) ||
      (tree[k] && tree[k].version === p.version && tree[k].integrity === p.integrity));
    process.exit(ok ? 0 : 1);' "$dev" 2>/dev/null; then
  have=$want
  echo "$want" > node_modules/.berth-installed
fi
npm_needed=0
if [ ! -x node_modules/.bin/node ] || { [ "$have" != "$want" ] && [ "$have" != "${want% dev=0} dev=1" ]; }; then
  npm_needed=1
  command -v npm >/dev/null 2>&1 || debs+=(npm)
fi
missing=()
for p in "${debs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing Debian packages: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ $npm_needed = 1 ]; then
  echo "installing npm dependencies from package-lock.json"
  if [ $dev = 1 ]; then npm ci --no-audit --no-fund --loglevel=error; else npm ci --omit=dev --no-audit --no-fund --loglevel=error; fi
  echo "$want" > node_modules/.berth-installed
fi
node_modules/.bin/node --version >/dev/null

# The JavaScript build bin/berthd and bin/berth run (they fall back to src/ when it is stale).
rm -rf dist
# (tsc's bin says `#!/usr/bin/env node`: run it on the pinned Node, not whatever node is on PATH)
node_modules/.bin/node node_modules/typescript/bin/tsc -p tsconfig.build.json
# The berth CLI as one bundle (start-up time; scripts/build-cli.ts says why).
node_modules/.bin/node scripts/build-cli.ts
touch dist/.built
