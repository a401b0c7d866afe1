//! NAT for the `nat` network mode (issue 12): one ioc-owned table per NAT jail,
//! `ip ioc-nat-<jail>`, so a start or stop touches only that jail's rules and never a table
//! ioc does not own.
//!
//! - prerouting / output (`dstnat`, only for a jail with forwards): each forward to a local
//!   address of the host (`fib daddr type local`: the uplink's address, from outside, from
//!   other jails (hairpin) and from the host itself) goes to the jail end of its pair;
//! - postrouting (`srcnat`): the jail's /30 leaves through the uplink as the uplink's address.
//!
//! IPv4 forwarding is the mode's (`Host::enable_forwarding`), not the backend's.
//!
//! The table goes to the kernel as one typed [`NftBatch`] (`Host::nft_commit`, one nfnetlink
//! transaction): unlike `nft -f`, that reads no other table, so a start costs the same with 1
//! or 200 NAT jails.

use std::net::{IpAddr, Ipv4Addr};

use ioc_sdk::nft::{
    ifname_bytes, NftBatch, NftField, NftHook, NftHookKind, NftMetaKey, NftPortRange, NftRule,
};
use ioc_sdk::{Error, Host, Jail, NatRequest, NftFamily, PortForward, Protocol, Result};

/// The prefix of every table this module owns.
pub const TABLE_PREFIX: &str = "ioc-nat-";

/// nft's `dstnat` and `srcnat` priorities.
const DSTNAT: i32 = -100;
const SRCNAT: i32 = 100;

/// The jail's NAT table.
pub fn table(jail: &str) -> String {
    format!("{TABLE_PREFIX}{jail}")
}

fn l4proto(proto: Protocol) -> u8 {
    match proto {
        Protocol::Tcp => 6,
        Protocol::Udp => 17,
    }
}

/// The DNAT rules of one forward: a range forwarded to the same ports is one rule, a shifted
/// one a rule per port (nft's port-shifting DNAT needs newer kernels).
///
/// Each rule tests the protocol and port before the destination's route type: the first
/// packet of every connection through the host crosses every NAT jail's dstnat chains, and
/// the comparisons end the rule for all but the forwarded port, where `fib daddr type local`
/// (a route lookup) would have run for each.
fn dnat_rules(jail_addr: Ipv4Addr, forward: &PortForward) -> Vec<NftRule> {
    let to = IpAddr::V4(jail_addr);
    let base = || NftRule::new().l4proto(l4proto(forward.proto));
    let last = |first: u16| first.saturating_add(forward.count.saturating_sub(1));
    if forward.jail_port == forward.host_port {
        let (first, end) = (forward.host_port, last(forward.host_port));
        let matched = if first == end {
            base().eq(NftField::TH_DPORT, &first.to_be_bytes())
        } else {
            base().range(NftField::TH_DPORT, &first.to_be_bytes(), &end.to_be_bytes())
        };
        return vec![matched.to_local_address().dnat(to, None)];
    }
    (0..forward.count)
        .map(|i| {
            let host = forward.host_port.saturating_add(i);
            let jail = forward.jail_port.saturating_add(i);
            base()
                .eq(NftField::TH_DPORT, &host.to_be_bytes())
                .to_local_address()
                .dnat(to, Some(NftPortRange::one(jail)))
        })
        .collect()
}

/// The batch that creates the jail's table, atomically: a new table (the batch fails if it
/// exists), or with `replace` one that replaces whatever table of that name there is.
pub fn install_batch(request: &NatRequest, uplink: &str, replace: bool) -> Result<NftBatch> {
    let nat = &request.nat;
    let name = table(&request.jail);
    let ip = NftFamily::Ip;
    let mut b = NftBatch::new();
    if replace {
        b.delete_table(ip, &name).add_table(ip, &name);
    } else {
        b.create_table(ip, &name);
    }
    // The dstnat chains only for a jail with forwards: each base chain is a netfilter hook
    // that the first packet of every connection through the host crosses.
    let dstnat: &[(&str, NftHookKind)] = if nat.forwards().is_empty() {
        &[]
    } else {
        &[
            ("prerouting", NftHookKind::Prerouting),
            ("output", NftHookKind::Output),
        ]
    };
    for &(chain, kind) in dstnat {
        b.add_chain(ip, &name, chain, Some(NftHook::nat(kind, DSTNAT)));
    }
    b.add_chain(
        ip,
        &name,
        "postrouting",
        Some(NftHook::nat(NftHookKind::Postrouting, SRCNAT)),
    );
    for &(chain, _) in dstnat {
        for forward in nat.forwards() {
            for rule in dnat_rules(nat.jail_address(), forward) {
                b.add_rule(ip, &name, chain, rule);
            }
        }
    }
    let block = nat.block();
    let IpAddr::V4(addr) = block.ip() else {
        return Err(Error::new(format!(
            "property 'nat_prefix' of jail {}: block {block} is not IPv4; expected an IPv4 prefix",
            request.jail
        )));
    };
    let mask = u32::MAX
        .checked_shl(32 - u32::from(block.prefix().min(32)))
        .unwrap_or(0);
    let network = u32::from(addr) & mask;
    b.add_rule(
        ip,
        &name,
        "postrouting",
        NftRule::new()
            .masked_eq(
                NftField::IP_SADDR,
                &mask.to_be_bytes(),
                &network.to_be_bytes(),
            )
            .meta_eq(NftMetaKey::Oifname, &ifname_bytes(uplink))
            .masquerade(),
    );
    Ok(b)
}

/// The batch that removes the jail's table (already gone is fine).
pub fn remove_batch(jail: &str) -> NftBatch {
    let mut b = NftBatch::new();
    b.delete_table(NftFamily::Ip, &table(jail));
    b
}

/// Installs the jail's NAT; see the module documentation.
///
/// The table is normally absent (a stop, a failed start and crash recovery delete it), so the
/// first batch creates it; only if that fails (a table left by something else) does a second
/// batch replace it, and its error is the one reported. Deleting unconditionally would cost
/// every start an RCU grace period (see [`NftCommand::CreateTable`]).
///
/// [`NftCommand::CreateTable`]: ioc_sdk::nft::NftCommand::CreateTable
pub fn install(_jail: &Jail, request: &NatRequest, host: &mut Host<'_>) -> Result<()> {
    let uplink = request.nat.uplink().ok_or_else(|| {
        Error::new("property 'nat_interface': no uplink known; expected an interface name")
    })?;
    if host
        .nft_commit(&install_batch(request, uplink, false)?)
        .is_ok()
    {
        return Ok(());
    }
    host.nft_commit(&install_batch(request, uplink, true)?)
        .map_err(|e| {
            Error::new(format!(
                "install the NAT table of jail {}: {e}",
                request.jail
            ))
        })
}

/// Removes the jail's NAT table.
pub fn remove(_jail: &Jail, request: &NatRequest, host: &mut Host<'_>) -> Result<()> {
    host.nft_commit(&remove_batch(&request.jail)).map_err(|e| {
        Error::new(format!(
            "remove the NAT table of jail {}: {e}",
            request.jail
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ioc_sdk::{Nat, Protocol};

    fn render(request: &NatRequest, uplink: &str) -> String {
        ioc_core::render::nft_text::batch(&install_batch(request, uplink, true).unwrap())
    }

    fn request(forwards: Vec<PortForward>) -> NatRequest {
        NatRequest {
            jail: "web".into(),
            jid: 3,
            link: "vnet0.3".into(),
            nat: Nat::new(
                "172.16.0.4".parse().unwrap(),
                Some("up0"),
                forwards,
                "nftables",
            ),
        }
    }

    #[test]
    fn the_table_masquerades_the_block_and_forwards_each_port() {
        let script = render(
            &request(vec![
                PortForward {
                    proto: Protocol::Tcp,
                    jail_port: 80,
                    host_port: 8080,
                    count: 1,
                },
                PortForward {
                    proto: Protocol::Udp,
                    jail_port: 53,
                    host_port: 53,
                    count: 1,
                },
                PortForward {
                    proto: Protocol::Tcp,
                    jail_port: 8000,
                    host_port: 8000,
                    count: 11,
                },
            ]),
            "up0",
        );
        let expected = "add table ip ioc-nat-web\n\
            delete table ip ioc-nat-web\n\
            add table ip ioc-nat-web\n\
            add chain ip ioc-nat-web prerouting { type nat hook prerouting priority -100; policy accept; }\n\
            add chain ip ioc-nat-web output { type nat hook output priority -100; policy accept; }\n\
            add chain ip ioc-nat-web postrouting { type nat hook postrouting priority 100; policy accept; }\n\
            add rule ip ioc-nat-web prerouting meta l4proto 6 @th,16,16 0x1f90 fib daddr type local dnat to 172.16.0.6:80\n\
            add rule ip ioc-nat-web prerouting meta l4proto 17 @th,16,16 0x0035 fib daddr type local dnat to 172.16.0.6\n\
            add rule ip ioc-nat-web prerouting meta l4proto 6 @th,16,16 0x1f40-0x1f4a fib daddr type local dnat to 172.16.0.6\n\
            add rule ip ioc-nat-web output meta l4proto 6 @th,16,16 0x1f90 fib daddr type local dnat to 172.16.0.6:80\n\
            add rule ip ioc-nat-web output meta l4proto 17 @th,16,16 0x0035 fib daddr type local dnat to 172.16.0.6\n\
            add rule ip ioc-nat-web output meta l4proto 6 @th,16,16 0x1f40-0x1f4a fib daddr type local dnat to 172.16.0.6\n\
            add rule ip ioc-nat-web postrouting @nh,96,32 & 0xfffffffc == 0xac100004 meta oifname \"up0\" masquerade\n";
        assert_eq!(script, expected);
    }

    #[test]
    fn a_jail_without_forwards_only_masquerades() {
        let script = render(&request(vec![]), "up0");
        let expected = "add table ip ioc-nat-web\n\
            delete table ip ioc-nat-web\n\
            add table ip ioc-nat-web\n\
            add chain ip ioc-nat-web postrouting { type nat hook postrouting priority 100; policy accept; }\n\
            add rule ip ioc-nat-web postrouting @nh,96,32 & 0xfffffffc == 0xac100004 meta oifname \"up0\" masquerade\n";
        assert_eq!(script, expected);
    }

    #[test]
    fn a_shifted_range_is_forwarded_port_by_port() {
        let script = render(
            &request(vec![PortForward {
                proto: Protocol::Tcp,
                jail_port: 8000,
                host_port: 9000,
                count: 2,
            }]),
            "up0",
        );
        assert!(script.contains("@th,16,16 0x2328 fib daddr type local dnat to 172.16.0.6:8000\n"));
        assert!(script.contains("@th,16,16 0x2329 fib daddr type local dnat to 172.16.0.6:8001\n"));
    }
}
