#!/usr/bin/env bash
# Builds a small root file system for a jail from Debian's statically linked busybox, without
# network access (as root):
#
#     examples/busybox-root.sh /srv/jails/web
#     ioc create web path=/srv/jails/web
#
# The directory is made (or completed) owned by root and not writable by others, as ioc's
# `path` property asks: bin/ with busybox and its applets, the directories ioc mounts its own
# file systems on (proc, dev, sys, tmp), etc/ with passwd, group, hosts and an empty
# resolv.conf, and root/. BUSYBOX=/path/to/busybox uses another static busybox.
set -euo pipefail

root="${1:?usage: busybox-root.sh DIR}"
busybox="${BUSYBOX:-/bin/busybox}"
if [ ! -x "$busybox" ] && command -v busybox >/dev/null; then
    busybox="$(command -v busybox)"
fi
if ! "$busybox" --help >/dev/null 2>&1 || ldd "$busybox" >/dev/null 2>&1; then
    echo "a statically linked busybox is needed: apt-get install busybox-static" >&2
    exit 1
fi

umask 022
install -d -m 0755 -o 0 -g 0 "$root"
for dir in bin sbin etc proc dev sys tmp root run var var/log usr usr/bin usr/sbin; do
    install -d -m 0755 "$root/$dir"
done
chmod 1777 "$root/tmp"
chmod 0700 "$root/root"
install -m 0755 "$busybox" "$root/bin/busybox"
# One link per applet, where busybox says it belongs.
"$root/bin/busybox" --list-full | grep -v "^linuxrc$" | while read -r applet; do
    [ -e "$root/$applet" ] || ln -s /bin/busybox "$root/$applet"
done
cat >"$root/etc/passwd" <<'PASSWD'
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
PASSWD
cat >"$root/etc/group" <<'GROUP'
root:x:0:
nogroup:x:65534:
GROUP
printf '127.0.0.1 localhost\n::1 localhost\n' >"$root/etc/hosts"
: >"$root/etc/resolv.conf"
chown -R 0:0 "$root"
echo "busybox root ready in $root"
