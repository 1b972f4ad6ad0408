#!/usr/bin/env bash
# The README's test command (and CI's): installs what is missing (Berth's own install and the
# tests' tools: scripts/install-test-deps.sh), typechecks, runs the unit and integration suites
# with node's test runner, then checks the suite left nothing behind.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-test-deps.sh || exit 1
node=node_modules/.bin/node

status=0
# Berth's shared chains made by a berthd of the user's (running, or stopped with its containers
# kept by live restore) are not the suite's: it neither removes nor reports them.
chains_before=$(iptables-save 2>/dev/null | grep -c '^:BERTH' || true)
# berthd sets the FORWARD policy to DROP when it enables forwarding (as dockerd does); the suite
# puts back the policy it found.
forward_policy_before=$(iptables-save -t filter 2>/dev/null | sed -n 's/^:FORWARD \([A-Z]*\) .*/\1/p')
# An earlier conformance run the user interrupted may have left its work dirs: not this run's.
conf_dirs_before=" $(echo /run/bcd-* /var/tmp/berth-conformance-* /var/tmp/berth-conf-w-*) "
# The rootless tests make /dev/net/tun (slirp4netns) usable by their users, as distributions ship
# it; the suite puts back the mode it found. RootlessKit, slirp4netns and pasta processes already
# running (a user's rootless daemon) are not the suite's.
tun_mode_before=$(stat -c %a /dev/net/tun 2>/dev/null || true)
fuse_mode_before=$(stat -c %a /dev/fuse 2>/dev/null || true)
rootless_before=" $(pgrep -d ' ' -x 'rootlesskit|slirp4netns|pasta' || true) "
echo "== typecheck"
node_modules/.bin/tsc -p . || status=1
echo "== unit tests"
$node --test --test-concurrency=1 --test-timeout=60000 'test/unit/**/*.test.ts' || status=1
echo "== integration tests (real berthd, runc, conmon, overlayfs; needs root)"
# quickstart.test.ts runs scripts/install.sh, which rebuilds dist/ (bin/berthd and bin/berth run
# from it): alone, first. The others two files at a time: each file starts berthds of its own
# (own data root, exec root, bridge and subnets: test/helpers/daemon.ts), removes only what they
# made, and no two files publish the same fixed host port. Two berthds starting together make
# Berth's shared base chains one at a time (network/firewall.ts takes a host-wide lock).
shopt -s globstar
# The two cp race tests spin swappers on every CPU for their whole length, and body-limits
# measures /_ping latency: beside each other they starve or disturb the files paired with them
# (CI saw /_ping p95 over its bound and races with too few copies), so they run alone too.
alone=(test/integration/cli/quickstart.test.ts test/integration/hostile-container/cp-race.test.ts
  test/integration/rootless/cp-race.test.ts test/integration/hostile-client/body-limits.test.ts)
paired=()
for f in test/integration/**/*.test.ts; do [[ " ${alone[*]} " == *" $f "* ]] || paired+=("$f"); done
$node --test --test-concurrency=1 --test-timeout=300000 "${alone[@]}" || status=1
$node --test --test-concurrency=2 --test-timeout=300000 "${paired[@]}" || status=1
echo "== conformance (berthd against a private dockerd, step by step)"
$node --test --test-concurrency=1 --test-timeout=1200000 'test/conformance/*.test.ts' || status=1
if compgen -G 'test/clients/*.test.ts' >/dev/null; then
  echo "== client suites (docker-py, docker-compose, skopeo, dockerode, testcontainers; each also against dockerd)"
  $node --test --test-concurrency=1 --test-timeout=900000 'test/clients/*.test.ts' || status=1
fi

echo "== leak check"
leaks=0
if pgrep -af 'conmon.*/run/bt-' >/dev/null; then echo "conmon processes left:"; pgrep -af 'conmon.*/run/bt-'; leaks=1; fi
if grep -E ' (/var/tmp/berth-test-|/run/bt-)' /proc/mounts; then echo "mounts left (above)"; leaks=1; fi
if pgrep -af '(src|dist)/daemon/main\.(ts|js).*(/run/bt-|berth-test-)' >/dev/null; then echo "berthd left:"; pgrep -af 'daemon/main\.(ts|js)'; leaks=1; fi
for r in /run/bt-*/runc; do
  [ -d "$r" ] || continue
  if [ -n "$(runc --root "$r" list -q 2>/dev/null)" ]; then echo "runc containers left under $r"; leaks=1; fi
done
for c in /sys/fs/cgroup/*/berth-bt-*/*/ /sys/fs/cgroup/berth-bt-*/*/; do
  [ -d "$c" ] || continue
  # only the test daemons' trees: their exec roots are /run/bt-*
  echo "cgroup left: $c"; leaks=1
done
if pgrep -af 'docker-registry serve .*berth-cncf-registry-' >/dev/null; then echo "registries left:"; pgrep -af 'docker-registry serve'; leaks=1; fi
for dir in /tmp/berth-cncf-registry-* /tmp/berth-reg-test-*; do
  [ -e "$dir" ] && { echo "registry dir left: $dir"; leaks=1; }
done
if pgrep -af 'tmux -L berth-it-' >/dev/null || ls /tmp/tmux-*/berth-it-* >/dev/null 2>&1; then echo "tmux servers or sockets of the interactive tests left:"; ls /tmp/tmux-*/berth-it-* 2>/dev/null; leaks=1; fi
# a daemon's one berth-proxy (userland-proxy=true) has its control socket in the daemon's exec
# root: the test daemons' are /run/bt-*; a user's berthd's are not
if pgrep -af '(src|dist)/proxy/main\.(ts|js)' | grep -Eq -- '--control (/run/bt-|/tmp/berth-proxy-test-)'; then echo "port proxies left:"; pgrep -af '(src|dist)/proxy/main\.(ts|js)'; leaks=1; fi
# Only the test daemons' own: container namespaces, namespaces prepared by a daemon whose exec
# root is /run/bt-*, their bridges, and veths left on them or loose (other daemons may run here).
if ip netns list 2>/dev/null | grep -Eq '^berth-p\.bt-'; then echo "network namespaces left:"; ip netns list | grep -E '^berth-p\.bt-'; leaks=1; fi
leftlinks=$(ip -o link | grep -E ': (bt[0-9a-f]{6}|vb[0-9a-f]{11})[:@]' | awk '/: bt[0-9a-f]{6}[:@]/ || / master bt[0-9a-f]{6} / || !/ master /' || true)
if [ -n "$leftlinks" ]; then echo "links left:"; echo "$leftlinks"; leaks=1; fi
if iptables-save | grep -q 'berth:bt'; then echo "iptables rules left:"; iptables-save | grep 'berth:bt'; leaks=1; fi
# Berth's base chains (BERTH*, and the jumps to them) are shared by every berthd and made by the
# first one to start; with no berthd left and no rule of any daemon in them, the suite's go too.
if [ "$chains_before" -eq 0 ] && ! pgrep -f 'daemon/main\.(ts|js)' >/dev/null && ! iptables-save | grep -q 'berth:'; then
  for t in filter nat raw; do
    iptables-save -t "$t" | grep -E '^-A [A-Z]+ .*-j BERTH[A-Z0-9-]*$' | grep -vE '^-A BERTH' | sed 's/^-A /-D /' |
      while read -r rule; do eval "iptables -w -t $t $rule"; done
    chains=$(iptables-save -t "$t" | sed -n 's/^:\(BERTH[A-Z0-9-]*\) .*/\1/p')
    for c in $chains; do iptables -w -t "$t" -F "$c"; done
    for c in $chains; do iptables -w -t "$t" -X "$c"; done
  done
fi
if [ "$chains_before" -eq 0 ] && iptables-save | grep -qi 'berth' && ! pgrep -f 'daemon/main\.(ts|js)' >/dev/null; then echo "iptables chains left:"; iptables-save | grep -i berth; leaks=1; fi
if [ -n "$forward_policy_before" ] && ! pgrep -f 'daemon/main\.(ts|js)' >/dev/null; then
  forward_policy_now=$(iptables-save -t filter | sed -n 's/^:FORWARD \([A-Z]*\) .*/\1/p')
  [ "$forward_policy_now" = "$forward_policy_before" ] || iptables -w -P FORWARD "$forward_policy_before"
fi
# The conformance and client suites' private dockerd: its processes, bridge, links, dirs, cgroups.
if pgrep -af '(dockerd|containerd).*/run/bcd-' >/dev/null; then echo "private dockerd left:"; pgrep -af '(dockerd|containerd).*/run/bcd-'; leaks=1; fi
if iptables-save -t filter | grep -q 'bcd-pair:'; then echo "FORWARD rules of the private dockerd left:"; iptables-save -t filter | grep 'bcd-pair:'; leaks=1; fi
if ip -o link | grep -Eq ': bcd[0-9a-f]{6}[:@]'; then echo "private dockerd bridge left:"; ip -o link | grep -E ': bcd[0-9a-f]{6}[:@]'; leaks=1; fi
if grep -E ' /run/bcd-| /var/tmp/berth-conformance-' /proc/mounts; then echo "mounts of the private dockerd left (above)"; leaks=1; fi
for dir in /run/bcd-* /var/tmp/berth-conformance-* /var/tmp/berth-conf-w-*; do
  [[ "$conf_dirs_before" == *" $dir "* ]] && continue
  [ -e "$dir" ] && { echo "conformance dir left: $dir"; leaks=1; }
done
for c in /sys/fs/cgroup/*/berth-conf-dockerd-*/; do [ -d "$c" ] && { echo "cgroup left: $c"; leaks=1; }; done
# The rootless tests (test/helpers/rootless.ts): their users (berthrt*) with homes under /tmp,
# their runtime dirs, and RootlessKit's namespaces: rootlesskit, its child, slirp4netns or pasta,
# the holder, and anything mounted in their homes. A namespace lives as long as a process in it,
# so no process left means no namespace left.
if getent passwd | grep -q '^berthrt'; then echo "rootless test users left:"; getent passwd | grep '^berthrt'; leaks=1; fi
if grep -qE '^berthrt' /etc/subuid /etc/subgid 2>/dev/null; then echo "subordinate ranges of rootless test users left:"; grep -E '^berthrt' /etc/subuid /etc/subgid; leaks=1; fi
for dir in /tmp/berth-rt-xdg-* /tmp/berthrt*; do
  [ -e "$dir" ] && { echo "rootless test dir left: $dir"; leaks=1; }
done
if grep -E ' /tmp/(berthrt|berth-rt-xdg-)' /proc/mounts; then echo "mounts of rootless tests left (above)"; leaks=1; fi
if pgrep -af 'berth-rt-xdg-|/tmp/berthrt' >/dev/null; then echo "processes of rootless tests left:"; pgrep -af 'berth-rt-xdg-|/tmp/berthrt'; leaks=1; fi
for pid in $(pgrep -x 'rootlesskit|slirp4netns|pasta'); do
  [[ "$rootless_before" == *" $pid "* ]] && continue
  echo "RootlessKit, slirp4netns or pasta process left: $(ps -o pid=,user=,args= -p "$pid")"; leaks=1
done
if [ -n "$tun_mode_before" ] && [ "$(stat -c %a /dev/net/tun)" != "$tun_mode_before" ]; then chmod "$tun_mode_before" /dev/net/tun; fi
if [ -n "$fuse_mode_before" ] && [ "$(stat -c %a /dev/fuse)" != "$fuse_mode_before" ]; then chmod "$fuse_mode_before" /dev/fuse; fi
if [ $leaks -ne 0 ]; then status=1; else echo "nothing left behind"; fi
exit $status
