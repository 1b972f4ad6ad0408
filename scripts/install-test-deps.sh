#!/usr/bin/env bash
# Installs what the test suite needs beyond what Berth itself needs (scripts/install.sh, which this
# runs with --dev for the npm devDependencies): Docker's dockerd 20.10 (docker.io), the judge of the
# conformance harness and the client suites; skopeo and the CNCF registry (docker-registry);
# docker-py, docker-compose and pytest for the client suites; wrk for load tests; tmux for the
# interactive tests; zsh and bash-completion for the completion tests; gcc for the static seccomp
# probe of test/integration/hostile-container.
#
# Debian starts and enables the services of docker.io, containerd and docker-registry when it
# installs them. The tests run private instances of their own, so a package this script installs
# leaves no service enabled or running: units are kept from starting during the install and are
# disabled after it. Packages that were already there (a user's own Docker) are left as they are.
set -euo pipefail
cd "$(dirname "$0")/.."

debs=(docker.io skopeo docker-registry wrk tmux zsh bash-completion curl
  python3-docker docker-compose python3-pytest python3-pytest-timeout python3-requests python3-packaging
  python3-paramiko python3-websocket gcc libc6-dev)
# Packages installed by this script, across runs: their units stay disabled.
state=/var/lib/berth-test-deps/installed
mkdir -p "$(dirname "$state")"
touch "$state"
missing=()
for p in "${debs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing Debian packages for the tests: ${missing[*]}"
  before=$(dpkg-query -W -f='${Package}\n' | sort)
  # invoke-rc.d asks policy-rc.d; 101 = "action not allowed": nothing starts during the install.
  made_policy=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    made_policy=1
  fi
  trap '[ $made_policy = 1 ] && rm -f /usr/sbin/policy-rc.d' EXIT
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  # Every package new on the machine (dependencies too, e.g. containerd), not only those named.
  comm -13 <(echo "$before") <(dpkg-query -W -f='${Package}\n' | sort) >> "$state"
  sort -u -o "$state" "$state"
fi
# Disable (and stop, where systemd runs) every service, socket and timer of the packages this
# script installed; a second run finds them disabled already.
while read -r pkg; do
  [ -n "$pkg" ] || continue
  for unit in $(dpkg -L "$pkg" 2>/dev/null | grep -E '^/(usr/)?lib/systemd/system/[^/@]+\.(service|socket|timer)$' | xargs -r -n1 basename); do
    if [ "$(systemctl is-enabled "$unit" 2>/dev/null)" = enabled ]; then
      echo "disabling $unit (installed for the tests)"
      systemctl disable "$unit" >/dev/null 2>&1 || true
    fi
    if [ -d /run/systemd/system ] && systemctl is-active -q "$unit" 2>/dev/null; then systemctl stop "$unit" || true; fi
  done
done < "$state"

bash scripts/install.sh --dev
