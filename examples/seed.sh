#!/usr/bin/env bash
# The seed scenario, for real, in one command (as root):
#
#     examples/seed.sh
#
# Builds ioc if needed, makes a sandbox "host" network namespace with bridge0 10.23.42.1/24
# (the machine's own network is never touched), creates jail-a and jail-b exactly as the seed
# document does, starts them with `ioc start jail-a,jail-b`, shows each pinging the other and
# the gateway, stops them and shows that nothing is left. Everything it made is removed on any
# exit; the exit status is non-zero when any check failed.
#
# IOC=/path/to/ioc uses an ioc that is already built (its plugins next to it) instead.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" -ne 0 ]; then
    echo "seed.sh must run as root: it creates network namespaces, interfaces and mounts" >&2
    exit 1
fi

# The few system tools used here, with the Debian packages that carry them.
missing=()
for tool in ip:iproute2 nsenter:util-linux ping:iputils-ping; do
    command -v "${tool%%:*}" >/dev/null || missing+=("${tool#*:}")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "missing tools; install them with: apt-get install ${missing[*]}" >&2
    exit 1
fi

# Build when there is no release binary or a source is newer than it.
if [ -z "${IOC:-}" ]; then
    IOC="${CARGO_TARGET_DIR:-target}/release/ioc"
    if [ ! -x "$IOC" ] || [ -n "$(find Cargo.toml Cargo.lock sdk core ioc plugins \
            -newer "$IOC" \( -name '*.rs' -o -name Cargo.toml -o -name Cargo.lock \) \
            -print -quit)" ]; then
        command -v cargo >/dev/null || {
            echo "ioc is not built and cargo is missing: install Rust (https://rustup.rs)" >&2
            exit 1
        }
        echo "+ cargo build --workspace --release"
        cargo build --workspace --release
    fi
fi
IOC=$(realpath "$IOC")

ns="ioc-seed-$$"
state=$(mktemp -d /tmp/ioc-seed.XXXXXX)
export IOC_ROOT="$state/root" IOC_RUN_DIR="$state/run"
failures=0

# Prints a command the way one would type it, then runs it.
show() {
    local out=() arg
    for arg in "$@"; do
        if [[ "$arg" =~ ^[A-Za-z0-9_]+=[A-Za-z0-9_-]*$ ]]; then
            out+=("$arg")
        elif [[ "$arg" =~ ^[A-Za-z0-9_]+= ]]; then
            out+=("${arg%%=*}=\"${arg#*=}\"")
        elif [[ "$arg" =~ ^[A-Za-z0-9_./:,@+-]+$ ]]; then
            out+=("$arg")
        else
            out+=("'$arg'")
        fi
    done
    echo "+ ${out[*]}"
}

# ioc inside the sandbox namespace (nsenter, not `ip netns exec`, whose private mount
# namespace would take the jails' namespace pins with it when it exits).
in_sandbox() {
    nsenter --net="/run/netns/$ns" "$IOC" "$@"
}

ioc() {
    show ioc "$@"
    in_sandbox "$@"
}

# ip inside the sandbox namespace, shown as typed on the sandbox host.
host_ip() {
    show ip "$@"
    ip -n "$ns" "$@"
}

check() {
    local what=$1
    shift
    if "$@"; then
        echo "ok: $what"
    else
        echo "FAILED: $what"
        failures=$((failures + 1))
    fi
}

# Mount points under the state directory (namespace pins, the private run dir).
mounts_left() {
    awk -v dir="$state" '$5 == dir || index($5, dir "/") == 1 { print $5 }' /proc/self/mountinfo
}

cleanup() {
    local status=$?
    set +e
    if [ -d "$IOC_RUN_DIR/jails" ]; then
        for jail in "$IOC_RUN_DIR"/jails/*; do
            [ -e "$jail" ] && in_sandbox stop -f "${jail##*/}" >/dev/null
        done
    fi
    mounts_left | sort -r | while read -r mount; do umount -l "$mount"; done
    ip netns del "$ns" 2>/dev/null
    rm -rf "$state"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "== a sandbox host: network namespace $ns"
show ip netns add "$ns"
ip netns add "$ns"
host_ip link set lo up
host_ip link add bridge0 type bridge
host_ip addr add 10.23.42.1/24 dev bridge0
host_ip link set bridge0 up

echo
echo "== the seed document's commands"
ioc set vnet=on defaults
ioc create jail-a
ioc create jail-b
ioc set vnet=on interfaces="vnet0:bridge0" ip4_addr="vnet0|10.23.42.2/24" defaultrouter="10.23.42.1" jail-a
ioc set vnet=on interfaces="vnet0:bridge0" ip4_addr="vnet0|10.23.42.3/24" defaultrouter="10.23.42.1" jail-b
ioc start jail-a,jail-b
ioc list

echo
echo "== connectivity"
for pair in jail-a:10.23.42.3 jail-a:10.23.42.1 jail-b:10.23.42.2 jail-b:10.23.42.1; do
    jail=${pair%%:*} address=${pair#*:}
    check "$jail reaches $address" ioc exec "$jail" -- ping -c 1 -W 2 "$address"
done
for jail in jail-a jail-b; do
    show ioc exec "$jail" -- hostname
    name=$(in_sandbox exec "$jail" -- hostname)
    echo "$name"
    check "$jail is named $jail" test "$name" = "$jail"
done
host_ip -br link

echo
echo "== stop"
ioc stop jail-a,jail-b
ioc list

echo
echo "== what is left"
host_ip -br link
links=$(ip -n "$ns" -o link | awk -F': ' '{ print $2 }' | sort | tr '\n' ' ')
echo "links: $links"
echo "mounts under $state: $(mounts_left | wc -l)"
echo "runtime state: $(ls -A "$IOC_RUN_DIR/jails" 2>/dev/null | wc -l) jail(s)"
check "nothing is left (links lo and bridge0 only, no mounts, no runtime state)" \
    test "$links" = "bridge0 lo " -a -z "$(mounts_left)" \
    -a -z "$(ls -A "$IOC_RUN_DIR/jails" 2>/dev/null)"

echo
if [ "$failures" -ne 0 ]; then
    echo "$failures check(s) failed"
    exit 1
fi
echo "all checks passed"
