//! The NAT policy on top of the pool mechanism: each NAT jail holds one /30 of its
//! `nat_prefix`; the host end of its pair is the block's first address, the jail end the
//! second (iocage's layout).

use std::net::Ipv4Addr;

use ioc_sdk::{Nat, Network, PortForward, Protocol};

use super::{allocate, Range, Request};
use crate::config::nat::jail_end;
use crate::config::syntax::{PortRange, Proto};
use crate::config::{JailName, ResolvedJail};
use crate::error::{Error, Result};
use crate::runtime::{HostPort, RunDir};
use crate::store::Store;

/// The size of a NAT jail's block.
pub const NAT_BLOCK_LEN: u8 = 30;

/// Gives every NAT jail among `names` its /30 (kept ones stay), all under one store lock and
/// before any of them starts, so a full pool fails the start before anything changes. Returns
/// the jails whose address changed (their specs must be made again). A jail
/// forwarding a host port that a running jail (one with runtime state in `run`) or another
/// jail of this start already forwards is refused first, naming the other jail. Only the
/// jails being started are read, and only their own claims: the cost does not grow with the
/// number of jails. (The ports are claimed with the JID, see [`RunDir::allocate_with_ports`],
/// which refuses a port taken by a start that raced this check.)
pub fn allocate_nat(
    store: &Store,
    run: &RunDir,
    names: &[String],
) -> Result<Vec<(String, Ipv4Addr)>> {
    let locked = store.lock()?;
    let starting: Vec<ResolvedJail> = names
        .iter()
        .map(|name| JailName::new(name).and_then(|name| locked.resolve(&name)))
        .filter(|jail| jail.as_ref().map_or(true, |j| j.nat().is_some()))
        .collect::<Result<_>>()?;
    check_forwards(run, &starting)?;
    warn_bound_ports(&starting);
    let mut given = Vec::new();
    for jail in &starting {
        let Some(nat) = jail.nat() else { continue };
        let name: &JailName = jail.name();
        let block = allocate(
            &locked,
            &Request {
                jail: name,
                pool: Range {
                    network: nat.prefix.network(),
                    len: nat.prefix.prefix_len(),
                },
                block_len: NAT_BLOCK_LEN,
                wanted: chosen_block(jail),
            },
        )?;
        let address = jail_end(block.network);
        // A jail resolved with its block already shows the address: nothing to resolve again.
        if nat.address != Some(address) {
            given.push((name.as_str().to_string(), address));
        }
    }
    Ok(given)
}

/// The block `jail`'s configuration chooses: that of the address the user set on a NAT jail.
pub(crate) fn chosen_block(jail: &ResolvedJail) -> Option<Range> {
    let nat = jail.nat()?;
    let address = nat.address.filter(|_| nat.user_set)?;
    Some(Range::block_of(address, NAT_BLOCK_LEN))
}

/// Refuses a host port forwarded twice: by a jail of this start and by a running jail (its
/// claim in `run`) or an earlier jail of this start (same protocol, overlapping host ports).
fn check_forwards(run: &RunDir, starting: &[ResolvedJail]) -> Result<()> {
    let forwards: Vec<(&str, Vec<(Proto, PortRange)>)> = starting
        .iter()
        .filter_map(|jail| {
            let nat = jail.nat()?;
            let forwards = nat.forwards.iter().map(|f| (f.proto, f.host)).collect();
            Some((jail.name().as_str(), forwards))
        })
        .collect();
    let mut errors = Vec::new();
    for (i, (jail, mine)) in forwards.iter().enumerate() {
        for (proto, host) in mine {
            let claimed = (host.first..=host.last).find_map(|port| {
                let port = HostPort {
                    udp: *proto == Proto::Udp,
                    port,
                };
                run.port_owner(port).filter(|owner| owner != jail)
            });
            let earlier = || {
                forwards[..i]
                    .iter()
                    .find(|(other, theirs)| {
                        other != jail && theirs.iter().any(|(p, h)| p == proto && h.overlaps(host))
                    })
                    .map(|(other, _)| other.to_string())
            };
            if let Some(other) = claimed.or_else(earlier) {
                errors.push(Error::PropertyNotAllowed {
                    jail: jail.to_string(),
                    property: "nat_forwards".to_string(),
                    reason: format!(
                        "forwards host port {} {}, which jail '{other}' forwards already; \
                         expected a host port no other NAT jail uses",
                        proto.as_str(),
                        host.first
                    ),
                });
            }
        }
    }
    Error::collect(errors)
}

/// Warns about each forward of a jail being started whose host port a host process already
/// has bound: the forward takes the traffic from outside, the process keeps the host's own.
fn warn_bound_ports(starting: &[ResolvedJail]) {
    for jail in starting {
        let Some(nat) = jail.nat() else { continue };
        for f in &nat.forwards {
            let udp = f.proto == Proto::Udp;
            if let Some(port) =
                (f.host.first..=f.host.last).find(|p| super::uplink::port_bound(udp, *p))
            {
                tracing::warn!(
                    jail = jail.name().as_str(),
                    "nat_forwards: host port {} {port} is already bound by a host process; \
                     the forward takes the traffic from outside",
                    f.proto.as_str()
                );
            }
        }
    }
}

/// `network` with its NAT part when `jail` has `nat=on`. A jail that was never started has no
/// block yet: a dry run shows the pool's first block, the real start allocates a free one.
pub fn with_nat(jail: &ResolvedJail, network: Network) -> Network {
    let Some(nat) = jail.nat() else {
        return network;
    };
    let block = match nat.address {
        Some(address) => Range::block_of(address, NAT_BLOCK_LEN).network,
        None => nat.prefix.network(),
    };
    let uplink = nat.interface.clone().or_else(|| {
        let found = super::uplink::default_route_interface();
        if let Some(uplink) = found
            .as_ref()
            .filter(|_| first_warning(jail.name().as_str()))
        {
            tracing::warn!(
                jail = jail.name().as_str(),
                "nat_interface is none: NAT through {uplink}, the interface of the IPv4 \
                 default route"
            );
        }
        found
    });
    let forwards = nat
        .forwards
        .iter()
        .map(|f| PortForward {
            proto: match f.proto {
                Proto::Tcp => Protocol::Tcp,
                Proto::Udp => Protocol::Udp,
            },
            jail_port: f.jail.first,
            host_port: f.host.first,
            count: u16::try_from(f.jail.count()).unwrap_or(u16::MAX),
        })
        .collect();
    let backend = nat
        .backend
        .unwrap_or_else(|| jail.firewall().as_str().to_string());
    network.with_nat(Nat::new(block, uplink.as_deref(), forwards, &backend))
}

/// Whether this process has not yet warned about `jail`'s uplink (a start resolves a jail's
/// network more than once).
fn first_warning(jail: &str) -> bool {
    static WARNED: std::sync::Mutex<std::collections::BTreeSet<String>> =
        std::sync::Mutex::new(std::collections::BTreeSet::new());
    WARNED
        .lock()
        .map(|mut warned| warned.insert(jail.to_string()))
        .unwrap_or(true)
}
