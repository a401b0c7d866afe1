//! A network sandbox for end-to-end tests: a throw-away "host" network namespace in which the
//! real `ioc` runs, so a test never touches the machine's own network.
//!
//! [`HostNs`] creates `ioc-t-<pid>-<n>` with `ip netns add`, gives it its own config root and
//! runtime dir (a [`Sandbox`]), and runs `ioc` inside it with `nsenter --net=/run/netns/NAME`.
//! Not `ip netns exec`: that runs the command in a private mount namespace, so the bind mounts
//! with which ioc pins a jail's namespaces would vanish when the command exits.
//!
//! Dropping a [`HostNs`] always cleans up, also after a failed assertion: `ioc stop -f` of every
//! jail it knows, an unmount of anything left under its temporary directory, `ip netns del` of
//! the sandbox and its peers, and the removal of the temporary directory.

mod background;
mod checks;
mod commands;
mod ioc;
mod parse;
mod router_advert;

use std::ffi::OsStr;
use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

pub use background::{wait_for_line, Background};
pub use commands::{
    add_address_in, answers_now, eventually, fetch_from, fetch_url, in_netns, ip_in, pings_from,
};
pub use parse::{mounts_under, parse_addresses, parse_links, processes_mentioning, Address, Link};

use crate::Sandbox;
use commands::add_netns;

/// Unique names for the namespaces of every `HostNs` of this test process.
static NEXT: AtomicUsize = AtomicUsize::new(0);

/// The "host" of a test: a network namespace of its own, with a state root and runtime dir.
pub struct HostNs {
    name: String,
    sandbox: Sandbox,
    peers: Vec<String>,
}

impl Default for HostNs {
    fn default() -> Self {
        Self::new()
    }
}

impl HostNs {
    /// A new namespace `ioc-t-<pid>-<n>` with only `lo`, up.
    pub fn new() -> HostNs {
        let n = NEXT.fetch_add(1, Ordering::SeqCst);
        let name = format!("ioc-t-{}-{n}", std::process::id());
        let sandbox = Sandbox::new();
        add_netns(&name);
        // From here on Drop removes the namespace, even if the next step fails.
        let host = HostNs {
            name,
            sandbox,
            peers: Vec::new(),
        };
        host.ip(["link", "set", "lo", "up"]);
        host
    }

    /// The namespace's name under `/run/netns`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The config root and runtime dir `ioc` uses here.
    pub fn sandbox(&self) -> &Sandbox {
        &self.sandbox
    }

    /// The temporary directory holding the config root and runtime dir; a test may keep its
    /// own files here (hook output, server configs).
    pub fn dir(&self) -> PathBuf {
        let root = self.sandbox.root();
        root.parent().unwrap_or(&root).to_path_buf()
    }

    /// A command that runs in this namespace.
    pub fn command(&self, program: impl AsRef<OsStr>) -> Command {
        in_netns(&self.name, program)
    }

    /// `ip -n NAME ARGS...`, which must succeed; returns its stdout.
    pub fn ip<I, S>(&self, args: I) -> String
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        ip_in(&self.name, args)
    }

    /// Adds a bridge, up, with an optional address (`10.23.42.1/24`).
    pub fn add_bridge(&self, name: &str, address: Option<&str>) {
        self.ip(["link", "add", name, "type", "bridge"]);
        if let Some(address) = address {
            self.add_address(name, address);
        }
        self.ip(["link", "set", name, "up"]);
    }

    /// Adds an address to a link; IPv6 without duplicate address detection, so it is usable
    /// at once.
    pub fn add_address(&self, link: &str, address: &str) {
        add_address_in(&self.name, link, address);
    }

    /// A new peer namespace (deleted on drop) joined to this one by a veth pair whose near end
    /// is `near` and whose far end is the peer's `eth0`, up with `addresses`. Returns its name.
    fn new_peer(&mut self, near: &str, addresses: &[&str]) -> String {
        let peer = format!("{}-p{}", self.name, self.peers.len());
        add_netns(&peer);
        self.peers.push(peer.clone());
        self.ip([
            "link", "add", near, "type", "veth", "peer", "name", "eth0", "netns", &peer,
        ]);
        ip_in(&peer, ["link", "set", "lo", "up"]);
        for address in addresses {
            add_address_in(&peer, "eth0", address);
        }
        ip_in(&peer, ["link", "set", "eth0", "up"]);
        peer
    }

    /// Another namespace plugged into `bridge` by a veth pair, playing a peer host on the same
    /// segment (its end is `eth0` with `address`). Returns its name, for [`in_netns`].
    pub fn add_peer(&mut self, bridge: &str, address: &str) -> String {
        let port = format!("peer{}", self.peers.len());
        let peer = self.new_peer(&port, &[address]);
        self.ip(["link", "set", &port, "master", bridge, "up"]);
        peer
    }

    /// A plain interface `link` of this namespace, up with `addresses`, whose other end is a
    /// peer host's `eth0` with `peer_addresses`: the stand-in for a physical NIC such as
    /// FreeBSD's `em0` (this kernel has no dummy links, and a peer makes the NIC's addresses
    /// reachable from outside). Returns the peer's name, for [`in_netns`].
    pub fn add_uplink(
        &mut self,
        link: &str,
        addresses: &[&str],
        peer_addresses: &[&str],
    ) -> String {
        let peer = self.new_peer(link, peer_addresses);
        for address in addresses {
            self.add_address(link, address);
        }
        self.ip(["link", "set", link, "up"]);
        peer
    }

    /// The addresses of a link of this namespace as `ADDRESS/PREFIX`, in listed order.
    pub fn addresses(&self, link: &str) -> Vec<String> {
        parse_addresses(&self.ip(["-j", "addr", "show", "dev", link]))
            .into_iter()
            .map(|a| a.cidr)
            .collect()
    }

    /// Whether `address` (without prefix) is on `link` and usable now: not tentative in IPv6
    /// duplicate address detection (a tentative address can be neither bound nor reached).
    pub fn usable_now(&self, link: &str, address: &str) -> bool {
        parse_addresses(&self.ip(["-j", "addr", "show", "dev", link]))
            .iter()
            .any(|a| a.cidr.split('/').next() == Some(address) && !a.tentative)
    }

    /// The links of this namespace.
    pub fn links(&self) -> Vec<Link> {
        parse_links(&self.ip(["-j", "link"]))
    }

    /// One link of this namespace, which must exist.
    pub fn link(&self, name: &str) -> Link {
        parse_links(&self.ip(["-j", "link", "show", "dev", name]))
            .pop()
            .unwrap_or_else(|| panic!("no link {name} in {}", self.name))
    }

    /// The jails with runtime state (journal, JID, pins) in the runtime dir.
    pub fn runtime_jails(&self) -> Vec<String> {
        std::fs::read_dir(self.sandbox.run_dir().join("jails"))
            .map(|dir| {
                dir.flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Mounts left under this sandbox's directory (namespace pins, the private run dir).
    pub fn mounts(&self) -> Vec<PathBuf> {
        mounts_under(&self.dir())
    }
}

impl Drop for HostNs {
    /// Best effort and never panicking (a panic while unwinding from a failed assertion would
    /// abort the whole test binary): each step runs whatever the previous ones did.
    fn drop(&mut self) {
        // Only jails with runtime state (running, or left half-done) need a stop.
        for jail in self.runtime_jails() {
            let _ = self.ioc(["stop", "-f", jail.as_str()]);
        }
        for _ in 0..3 {
            let left = self.mounts();
            if left.is_empty() {
                break;
            }
            for mount in left {
                if let Err(e) = nix::mount::umount2(&mount, nix::mount::MntFlags::MNT_DETACH) {
                    eprintln!("cleanup: unmount {}: {e}", mount.display());
                }
            }
        }
        for ns in self.peers.iter().chain(std::iter::once(&self.name)) {
            let deleted = Command::new("ip").args(["netns", "del", ns]).output();
            if !matches!(&deleted, Ok(o) if o.status.success()) {
                eprintln!("cleanup: ip netns del {ns} failed: {deleted:?}");
            }
        }
        // The Sandbox's own drop removes the temporary directory.
    }
}

/// The seed document's commands, verbatim: VNET on by default, two jails on `bridge0`.
pub fn seed(host: &HostNs) {
    host.ok(["set", "vnet=on", "defaults"]);
    host.ok(["create", "jail-a"]);
    host.ok(["create", "jail-b"]);
    for (jail, address) in [("jail-a", "10.23.42.2/24"), ("jail-b", "10.23.42.3/24")] {
        host.ok([
            "set",
            "vnet=on",
            "interfaces=vnet0:bridge0",
            &format!("ip4_addr=vnet0|{address}"),
            "defaultrouter=10.23.42.1",
            jail,
        ]);
    }
}

/// A sandbox with the seed's host side: `bridge0` with 10.23.42.1/24.
pub fn seed_host() -> HostNs {
    let host = HostNs::new();
    host.add_bridge("bridge0", Some("10.23.42.1/24"));
    host
}
