#!/usr/bin/env bash
# Sets up rootless Berth for the user who runs it, as Docker's dockerd-rootless-setuptool.sh does
# for dockerd. Run it as that user, never as root:
#   bash scripts/rootless-setup.sh check       # each prerequisite on one line, with the fix for a missing one
#   bash scripts/rootless-setup.sh install     # check, then the systemd --user unit and the DOCKER_HOST line
#   bash scripts/rootless-setup.sh uninstall   # stop and remove the unit (the data in ~/.local/share/berth stays)
# check exits 0 when every required prerequisite holds and 1 otherwise; the fixes it prints that
# need root (sysctls, subordinate ranges, packages) are for the machine's administrator.
set -uo pipefail
# newuidmap is in /usr/bin, getcap and sysctl in /usr/sbin: a user's PATH may lack the latter.
PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
unit_name=berthd-rootless.service
unit_template="$repo/contrib/systemd/user/$unit_name"
wrapper="$repo/bin/berthd-rootless"
# The ranges newuidmap needs for a container image's usual owners (0-65535) mapped one to one.
min_subids=65536
# Overlayfs mounted in a user namespace came in Linux 5.11; before it, fuse-overlayfs.
overlay_userns_major=5 overlay_userns_minor=11

usage() {
  echo "usage: $0 check|install|uninstall" >&2
  exit 2
}

failed=0
ok()   { printf '[ok]   %s\n' "$1"; }
warn() { printf '[warn] %s\n' "$1"; [ $# -gt 1 ] && printf '       %s\n' "${@:2}"; return 0; }
# A required prerequisite that does not hold: what is wrong, then how to fix it.
fail() { printf '[FAIL] %s\n' "$1"; [ $# -gt 1 ] && printf '       fix: %s\n' "${@:2}"; failed=1; }

# The user's subordinate ranges of one kind ("uid" or "gid"): "start count" lines. getsubids asks
# the sources nsswitch names (files, sssd); without it the file is read, by name or by UID, as
# newuidmap matches either.
subid_ranges() {
  local kind=$1 flag=() file=/etc/sub$1
  [ "$kind" = gid ] && flag=(-g)
  if command -v getsubids >/dev/null 2>&1; then
    { getsubids "${flag[@]}" "$user" 2>/dev/null || getsubids "${flag[@]}" "$uid" 2>/dev/null; } |
      awk '{ print $3, $4 }'
  elif [ -r "$file" ]; then
    awk -F: -v u="$user" -v id="$uid" '($1 == u || $1 == id) && NF == 3 { print $2, $3 }' "$file"
  fi
}

# A start for a new range that overlaps nobody's in the file: past the highest one in use.
free_subid_start() {
  awk -F: 'NF == 3 && $2 + $3 > top { top = $2 + $3 } END { s = 100000; if (top > s) s = top; print s }' "$1" 2>/dev/null || echo 100000
}

check_subids() {
  local kind=$1 ranges total start
  ranges=$(subid_ranges "$kind")
  total=$(awk '{ t += $2 } END { print t + 0 }' <<<"$ranges")
  if [ "$total" -ge $min_subids ]; then
    ok "sub${kind}: $user has $total subordinate ${kind^^}s ($(awk '{ printf "%s%s+%s", sep, $1, $2; sep = ", " }' <<<"$ranges")) in /etc/sub$kind"
    return
  fi
  start=$(free_subid_start "/etc/sub$kind")
  local opt=--add-subuids
  [ "$kind" = gid ] && opt=--add-subgids
  if [ "$total" -eq 0 ]; then
    fail "sub${kind}: $user has no subordinate ${kind^^} range in /etc/sub$kind (rootless berthd maps a container's IDs 1-65535 onto it)" \
      "as root: usermod $opt $start-$((start + min_subids - 1)) $user"
  else
    fail "sub${kind}: $user has only $total subordinate ${kind^^}s in /etc/sub$kind, at least $min_subids are needed" \
      "as root: usermod $opt $start-$((start + min_subids - 1)) $user"
  fi
}

# newuidmap and newgidmap write the namespace's maps from the subordinate ranges: only root may
# map IDs other than one's own, so they must be setuid root (or carry cap_setuid/cap_setgid).
check_idmap_tool() {
  local tool=$1 path cap=cap_setuid
  [ "$tool" = newgidmap ] && cap=cap_setgid
  if ! path=$(command -v "$tool"); then
    fail "$tool: not found (it writes the user namespace's ID map from /etc/sub${tool:3:1}id)" "as root: apt-get install -y uidmap"
  elif [ -u "$path" ] && [ "$(stat -c %u "$path")" = 0 ]; then
    ok "$tool: $path is setuid root"
  elif command -v getcap >/dev/null 2>&1 && getcap "$path" 2>/dev/null | grep -q "$cap"; then
    ok "$tool: $path has $cap"
  else
    fail "$tool: $path is neither setuid root nor has $cap, so it cannot map the subordinate range" \
      "as root: chown root: $path && chmod u+s $path (or reinstall: apt-get install --reinstall -y uidmap)"
  fi
}

check_kernel() {
  local release major minor
  release=$(uname -r)
  IFS=. read -r major minor _ <<<"$release"
  minor=${minor%%[!0-9]*}
  if [ "$major" -gt $overlay_userns_major ] 2>/dev/null ||
    { [ "$major" -eq $overlay_userns_major ] && [ "${minor:-0}" -ge $overlay_userns_minor ]; } 2>/dev/null; then
    ok "kernel: $release mounts overlayfs in a user namespace (5.11 or later)"
  elif command -v fuse-overlayfs >/dev/null 2>&1 && [ -r /dev/fuse ] && [ -w /dev/fuse ]; then
    ok "kernel: $release is older than 5.11: root filesystems will use fuse-overlayfs ($(command -v fuse-overlayfs))"
  elif command -v fuse-overlayfs >/dev/null 2>&1 && [ -e /dev/fuse ]; then
    fail "kernel: $release is older than 5.11 and /dev/fuse is not readable and writable by $user, so fuse-overlayfs cannot mount root filesystems" \
      "as root: chmod 0666 /dev/fuse (distributions ship it so)"
  elif command -v fuse-overlayfs >/dev/null 2>&1; then
    fail "kernel: $release is older than 5.11 and /dev/fuse is missing, so fuse-overlayfs cannot mount root filesystems" \
      "as root: modprobe fuse"
  else
    fail "kernel: $release is older than 5.11, which cannot mount overlayfs in a user namespace, and fuse-overlayfs is not installed" \
      "as root: apt-get install -y fuse-overlayfs (or boot a 5.11 or later kernel)"
  fi
}

check_userns() {
  local clone=/proc/sys/kernel/unprivileged_userns_clone max=/proc/sys/user/max_user_namespaces
  local aa=/proc/sys/kernel/apparmor_restrict_unprivileged_userns ok_so_far=1 err
  # Debian's own switch (older Debian kernels): 0 forbids users to make user namespaces.
  if [ -r $clone ] && [ "$(cat $clone)" != 1 ]; then
    fail "user namespaces: kernel.unprivileged_userns_clone is $(cat $clone): users may not create user namespaces" \
      "as root: echo kernel.unprivileged_userns_clone=1 > /etc/sysctl.d/50-rootless.conf && sysctl --system"
    ok_so_far=0
  fi
  if [ -r $max ] && [ "$(cat $max)" = 0 ]; then
    fail "user namespaces: user.max_user_namespaces is 0: nobody may create user namespaces" \
      "as root: echo user.max_user_namespaces=28633 > /etc/sysctl.d/51-rootless.conf && sysctl --system"
    ok_so_far=0
  fi
  [ $ok_so_far = 1 ] || return
  # The sysctls can look right and a namespace still be refused (seccomp in a container, an LSM):
  # make one.
  if err=$(unshare --user --map-root-user true 2>&1); then
    ok "user namespaces: $user can create one (user.max_user_namespaces=$(cat $max 2>/dev/null || echo '?'))"
  else
    fail "user namespaces: $user cannot create one: ${err:-unshare --user failed}" \
      "check kernel.unprivileged_userns_clone, user.max_user_namespaces and any seccomp or LSM policy that applies to $user"
  fi
  # Ubuntu 23.10 and later: the namespace is made but holds no capabilities unless an AppArmor
  # profile allows it, and RootlessKit then fails.
  if [ -r $aa ] && [ "$(cat $aa)" = 1 ]; then
    warn "user namespaces: kernel.apparmor_restrict_unprivileged_userns=1: RootlessKit needs an AppArmor profile that allows userns" \
      "fix: as root, add an 'abi <abi/4.0>, profile rootlesskit $(command -v rootlesskit || echo /usr/bin/rootlesskit) flags=(unconfined) { userns, }' profile in /etc/apparmor.d/ and reload AppArmor"
  fi
}

check_tools() {
  local path
  if path=$(command -v rootlesskit); then
    ok "rootlesskit: $path ($(rootlesskit --version 2>/dev/null | awk '{ print $NF; exit }'))"
  else
    fail "rootlesskit: not found (it makes berthd's user, mount and network namespaces)" "as root: apt-get install -y rootlesskit"
  fi
  if path=$(command -v nsenter); then
    ok "nsenter: $path (berthd joins RootlessKit's namespaces with it)"
  else
    fail "nsenter: not found" "as root: apt-get install -y util-linux"
  fi
  # slirp4netns makes its tap device through /dev/net/tun, opened as the user.
  if [ ! -e /dev/net/tun ]; then
    fail "/dev/net/tun: missing, so slirp4netns cannot connect berthd's network namespace" "as root: modprobe tun"
  elif [ ! -r /dev/net/tun ] || [ ! -w /dev/net/tun ]; then
    fail "/dev/net/tun: not readable and writable by $user (mode $(stat -c %a /dev/net/tun)), so slirp4netns cannot make its tap device" \
      "as root: chmod 0666 /dev/net/tun (distributions ship it so; the device itself checks what a user may do)"
  else
    ok "/dev/net/tun: usable by $user"
  fi
  local found=()
  command -v slirp4netns >/dev/null 2>&1 && found+=("slirp4netns ($(command -v slirp4netns))")
  command -v pasta >/dev/null 2>&1 && found+=("pasta ($(command -v pasta))")
  if [ ${#found[@]} -gt 0 ]; then
    ok "network: ${found[*]}"
  else
    fail "network: neither slirp4netns nor pasta is installed (one connects berthd's network namespace to the host's)" \
      "as root: apt-get install -y slirp4netns passt"
  fi
}

check_runtime_dir() {
  local fix="log in as $user (ssh, or machinectl shell $user@) rather than su or sudo, which do not set it; or as root: loginctl enable-linger $user, then export XDG_RUNTIME_DIR=/run/user/$uid"
  if [ -z "${XDG_RUNTIME_DIR:-}" ]; then
    fail "XDG_RUNTIME_DIR: not set (berthd's socket goes in \$XDG_RUNTIME_DIR/berth)" "$fix"
  elif [ ! -d "$XDG_RUNTIME_DIR" ]; then
    fail "XDG_RUNTIME_DIR: $XDG_RUNTIME_DIR does not exist" "$fix"
  elif [ "$(stat -c %u "$XDG_RUNTIME_DIR")" != "$uid" ] || [ ! -w "$XDG_RUNTIME_DIR" ]; then
    fail "XDG_RUNTIME_DIR: $XDG_RUNTIME_DIR is not owned by and writable for $user" "$fix"
  else
    ok "XDG_RUNTIME_DIR: $XDG_RUNTIME_DIR (the socket will be $XDG_RUNTIME_DIR/berth/berth.sock)"
  fi
}

# Resource limits need a cgroup v2 tree the user may write: systemd delegates one to user@UID.service,
# by default with only some controllers. Not required: without it, limits are refused.
check_cgroup() {
  local fs controllers missing=() c
  fs=$(stat -fc %T /sys/fs/cgroup 2>/dev/null)
  if [ "$fs" != cgroup2fs ]; then
    warn "cgroup: v1 (or hybrid): rootless berthd cannot set limits, so --memory, --cpus and --pids-limit will be refused" \
      "fix: boot with systemd.unified_cgroup_hierarchy=1 for cgroup v2"
    return
  fi
  controllers=$(cat "/sys/fs/cgroup/user.slice/user-$uid.slice/user@$uid.service/cgroup.controllers" 2>/dev/null)
  for c in memory cpu pids; do
    [[ " $controllers " == *" $c "* ]] || missing+=("$c")
  done
  if [ ${#missing[@]} -eq 0 ]; then
    ok "cgroup: v2, systemd delegates ${controllers// /, } to $user: memory, cpu and pids limits work"
  else
    warn "cgroup: v2 without ${missing[*]} delegated to $user: those limits will be refused" \
      "fix: as root, put [Service] Delegate=cpu cpuset io memory pids in /etc/systemd/system/user@.service.d/delegate.conf, then systemctl daemon-reload and log in again"
  fi
}

# With everything in place, the real thing once, as Docker's setup tool does: RootlessKit makes a
# user namespace through newuidmap/newgidmap and the subordinate range must show in its map (a
# single line means newuidmap refused the range and only the user's own ID was mapped).
check_rootlesskit_runs() {
  local map lines
  if ! map=$(timeout 30 rootlesskit cat /proc/self/uid_map 2>&1); then
    fail "rootlesskit: cannot start: $(tail -n 1 <<<"$map")" \
      "see https://rootlesscontaine.rs/getting-started/common/ for what RootlessKit needs"
    return
  fi
  lines=$(awk 'NF == 3 { n++ } END { print n + 0 }' <<<"$map")
  if [ "$lines" -ge 2 ]; then
    ok "rootlesskit: made a user namespace with $(awk 'NF == 3 { t += $3 } END { print t }' <<<"$map") IDs mapped (root = $user, the rest from /etc/subuid)"
  else
    fail "rootlesskit: its user namespace maps only $user's own ID: newuidmap did not apply the subordinate range" \
      "check the ranges above and that newuidmap/newgidmap are setuid root"
  fi
}

# Runs every check; returns 1 when a required one failed.
check_all() {
  failed=0
  check_subids uid
  check_subids gid
  check_idmap_tool newuidmap
  check_idmap_tool newgidmap
  check_kernel
  check_userns
  check_tools
  check_runtime_dir
  check_cgroup
  [ $failed = 0 ] && check_rootlesskit_runs
  if [ $failed = 0 ]; then
    echo "rootless berthd's prerequisites hold for $user"
  else
    echo "rootless berthd cannot run for $user until each [FAIL] above is fixed"
  fi
  return $failed
}

user_systemd_works() {
  command -v systemctl >/dev/null 2>&1 && systemctl --user show-environment >/dev/null 2>&1
}

unit_path() { echo "${XDG_CONFIG_HOME:-$HOME/.config}/systemd/user/$unit_name"; }

cmd_install() {
  check_all || { echo "not installed: fix the above first" >&2; exit 1; }
  [ -n "${HOME:-}" ] && [ -d "$HOME" ] && [ -w "$HOME" ] || { echo "HOME (${HOME:-unset}) must be a directory $user can write" >&2; exit 1; }
  [ -r "$unit_template" ] || { echo "the unit template $unit_template is missing" >&2; exit 1; }
  local unit dir tmp
  unit=$(unit_path)
  dir=$(dirname "$unit")
  mkdir -p "$dir" || exit 1
  # Written whole then renamed, so a unit systemd reads is never half-written.
  tmp=$(mktemp "$dir/.$unit_name.XXXXXX") || exit 1
  if ! sed "s|^ExecStart=.*|ExecStart=$wrapper|" "$unit_template" >"$tmp" || ! mv -f "$tmp" "$unit"; then
    rm -f "$tmp"
    echo "cannot write $unit" >&2
    exit 1
  fi
  echo
  echo "wrote $unit (ExecStart=$wrapper)"
  if [ ! -x "$wrapper" ]; then
    echo "note: $wrapper does not exist yet in this checkout: the unit will not start until it does"
  fi
  if user_systemd_works; then
    systemctl --user daemon-reload && echo "systemctl --user daemon-reload: done"
    echo "start it with: systemctl --user enable --now $unit_name"
    echo "keep it running after logout and start it at boot with (as root): loginctl enable-linger $user"
  else
    echo "skipped systemctl --user daemon-reload: systemctl --user does not work here (no user manager for $user;"
    echo "  log in as $user, or as root run loginctl enable-linger $user), or start $wrapper by hand"
  fi
  echo
  # berth looks for the rootless socket by itself when run by this user with no host set, as the
  # Docker CLI's rootless context does; the Docker CLI, docker-py, Compose and the rest need the variable.
  echo "berth, run as $user, finds the rootless socket by itself; for Docker clients (or add it to ~/.bashrc):"
  echo "export DOCKER_HOST=unix://$XDG_RUNTIME_DIR/berth/berth.sock"
}

cmd_uninstall() {
  local unit
  unit=$(unit_path)
  if user_systemd_works; then
    systemctl --user stop "$unit_name" 2>/dev/null
    systemctl --user disable "$unit_name" 2>/dev/null
  fi
  if [ -e "$unit" ]; then
    rm -f "$unit" || exit 1
    echo "removed $unit"
    user_systemd_works && systemctl --user daemon-reload
  else
    echo "$unit is not installed"
  fi
  echo "the data in ${XDG_DATA_HOME:-$HOME/.local/share}/berth and the config in ${XDG_CONFIG_HOME:-$HOME/.config}/berth are kept; remove them by hand if you no longer want them"
}

[ $# -eq 1 ] || usage
case "$1" in check|install|uninstall) ;; *) usage ;; esac
if [ "$(id -u)" = 0 ]; then
  echo "rootless-setup.sh: refusing to run as root: run it as the user who will run berthd" >&2
  exit 1
fi
[ "$(uname -s)" = Linux ] || { echo "rootless Berth runs on Linux only" >&2; exit 1; }
uid=$(id -u)
user=$(id -un)
case "$1" in
  check) check_all; exit $? ;;
  install) cmd_install ;;
  uninstall) cmd_uninstall ;;
esac
