#!/bin/sh
# Writes a busybox rootfs tar to stdout, made from the host's busybox-static, so that
#   scripts/busybox-image.sh | docker import -c 'CMD ["sh"]' - busybox:latest
# makes a busybox:latest image without any registry. Deterministic (fixed mtimes, sorted
# entries, numeric owner 0), so the image's layer is the same on every machine.
set -eu
bb=${BUSYBOX:-/bin/busybox}
[ -x "$bb" ] || { echo "busybox-static is not installed ($bb): apt-get install busybox-static" >&2; exit 1; }
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
root="$dir/rootfs"
mkdir -p "$root/bin" "$root/etc" "$root/root" "$root/home" "$root/var" "$root/proc" "$root/sys" "$root/dev" "$root/tmp" "$root/usr/bin" "$root/usr/sbin" "$root/sbin"
chmod 1777 "$root/tmp"
chmod 700 "$root/root"
cp "$bb" "$root/bin/busybox"
for applet in $("$bb" --list); do
  [ "$applet" = busybox ] && continue
  ln -sf busybox "$root/bin/$applet"
done
cat > "$root/etc/passwd" <<'P'
root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
P
cat > "$root/etc/group" <<'G'
root:x:0:
daemon:x:1:
tty:x:5:
nogroup:x:65534:
G
printf 'hosts: files dns\n' > "$root/etc/nsswitch.conf"
tar --sort=name --mtime='2024-01-01 00:00:00Z' --owner=0 --group=0 --numeric-owner -C "$root" -cf - .
