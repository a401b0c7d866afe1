//! The `nftables` firewall backend (Linux): Secure VNET's layer-2 whitelist as nftables rules
//! in the `bridge` family, one pair of chains per jail port.
//!
//! # Layout
//!
//! Everything lives in one table ioc owns, `table bridge ioc`; no other table is ever flushed,
//! listed or rewritten.
//!
//! ```text
//! map from_port { type ifname : verdict }      "vnet0.5" : goto from-vnet0.5, ...
//! map to_port   { type ifname : verdict }      "vnet0.5" : goto to-vnet0.5, ...
//! chain prerouting  { hook prerouting  ...; iifname vmap @from_port }   frames from a port
//! chain postrouting { hook postrouting ...; oifname vmap @to_port }     frames out of a port
//! chain from-vnet0.5 { ... }   chain to-vnet0.5 { ... }                 one pair per jail port
//! ```
//!
//! A frame costs one hash lookup per direction, whatever the number of jails, and ports that
//! belong to no Secure VNET jail miss the map and pass untouched. Starting a jail adds its two
//! chains and two map elements in one atomic transaction; stopping it deletes exactly those. No
//! step reads or rewrites another jail's rules.
//!
//! The table, maps and base chains (the skeleton) are made by the first start in a network
//! namespace, and by any start that finds a base chain missing; other starts ask whether the two
//! base chains exist (one query each) and leave them alone. That matters for speed: any change to an existing base chain
//! makes the kernel wait for an RCU grace period, which ioc would sit out on every start (see
//! [`script::probes`]). A start that only adds costs no wait.
//!
//! One cost does grow with the ruleset: before a transaction that adds rules or elements,
//! libnftables (1.0.6) lists the chains and sets of the whole ruleset (names and types, not
//! rules) to resolve references. That is about 2 µs per chain, so the jails' rules use no
//! anonymous sets, which would each add a set to that list: with them, the 200th jail's start
//! took 35 ms instead of under 2.
//!
//! Filtering from the jail happens at `prerouting`, before the bridge learns the frame's source
//! MAC: a spoofed frame is dropped before it can move another host's MAC onto the jail's port.
//!
//! # The whitelist
//!
//! With `J` the jail's MAC, `A4`/`A6` its static addresses and `LL` the link-local address its
//! kernel derives from `J` (modified EUI-64), frames **from the jail** pass only when:
//!
//! - the Ethernet source is `J` (everything else is dropped first), and the frame carries no
//!   802.1Q/802.1ad VLAN tag;
//! - IPv4: the source is in `A4`;
//! - ARP (Ethernet/IPv4 only, request or reply): sender MAC `J` and sender IP in `A4`;
//! - IPv6: router advertisements and redirects are dropped whatever their source. Neighbour
//!   solicitations come from `A6`+`LL` and carry, if any option, a source link-layer option of
//!   `J`; duplicate-address-detection solicitations come from `::`, target one of `A6`+`LL` and
//!   carry no option or only a DAD nonce. Neighbour advertisements come from `A6`+`LL`, target one
//!   of `A6`+`LL`, and carry no option or a target link-layer option of `J`. Any other NS/NA
//!   (more options, extension headers) is dropped. MLD reports may come from `::` (the kernel
//!   sends them before its link-local address is usable); anything else must come from `A6`+`LL`;
//! - nothing else: other ethertypes (VLAN tags included) are dropped.
//!
//! Frames **toward the jail** pass only when they carry no VLAN tag and:
//!
//! - IPv4: addressed to `J` and to an address in `A4`;
//! - ARP: addressed to `J` or broadcast, with a target IP in `A4`;
//! - IPv6: addressed to `J` and to one of `A6`+`LL`; or NS, NA and MLD queries sent to all-nodes
//!   (`ff02::1`) or to the solicited-node group of one of `A6`+`LL`, each with its matching
//!   `33:33:..` group MAC. Router advertisements are not let in: the jail's addresses are static
//!   (Secure VNET refuses `accept_rtadv`), and a SLAAC address it could not use would only
//!   shadow its real ones;
//! - nothing else.
//!
//! A jail without IPv4 addresses gets no IPv4 and no ARP at all; without IPv6 addresses, no IPv6
//! at all, not even link-local.
//!
//! # Removal
//!
//! Removal deletes the port's map elements and chains in one transaction that succeeds whether or
//! not they exist (see [`script::remove`]). The table itself stays, even when no jail uses it:
//! telling "empty" needs a read, and another ioc may add a jail between that read and the
//! delete, whose filter would vanish with the table while its port stays on the bridge. An
//! empty table costs one failed map lookup per bridged frame.

pub mod nat;
pub mod script;

use ioc_sdk::{Error, Firewall, Host, Jail, NatRequest, Platform, PortPolicy, Result};

/// The nftables firewall backend.
#[derive(Default)]
pub struct Nftables;

impl Firewall for Nftables {
    /// Asks for the skeleton's base chains, which exist once a start has put them in place; else
    /// has the kernel check the skeleton (table, maps, base chains on bridge hooks) without
    /// applying it. That fails when nftables is missing or the kernel has no bridge family; it
    /// also costs a wait for the kernel (see [`script::probes`]), so only the first start pays.
    fn check_ready(&self, jail: &Jail, host: &mut Host<'_>) -> Result<()> {
        if jail.platform() != Platform::Linux {
            return Err(Error::new(
                "nftables exists only on Linux; use firewall=ipfw or firewall=pf on FreeBSD",
            ));
        }
        if skeleton_in_place(host) {
            return Ok(());
        }
        host.nft_check(&script::skeleton()).map_err(|e| {
            Error::new(format!(
                "nftables cannot filter bridge ports on this host: {e} (ioc needs the nftables package, with libnftables1, and a kernel with nf_tables bridge support, CONFIG_NF_TABLES_BRIDGE)"
            ))
        })
    }

    /// The port's chains and map elements, with the skeleton only where it is missing: a
    /// start that re-asserted the skeleton would make ioc wait for the kernel (see
    /// [`script::probes`]).
    fn install(&self, _jail: &Jail, policy: &PortPolicy, host: &mut Host<'_>) -> Result<()> {
        let port = policy.port();
        let script = if skeleton_in_place(host) {
            script::install_port(policy)
        } else {
            script::install(policy)
        }
        .map_err(|e| Error::new(e.to_string()))?;
        host.nft_apply(&script)
            .map_err(|e| Error::new(format!("install the filter of port {port}: {e}")))?;
        // Filtering is in place before the port joins the bridge: no frame passes unfiltered.
        host.add_bridge_members(policy.bridge(), &[port])?;
        Ok(())
    }

    /// The port itself is the network mode's and goes with it; this removes only the filter.
    fn remove(&self, _jail: &Jail, policy: &PortPolicy, host: &mut Host<'_>) -> Result<()> {
        let port = policy.port();
        let script = script::remove(port).map_err(|e| Error::new(e.to_string()))?;
        host.nft_apply(&script)
            .map_err(|e| Error::new(format!("remove the filter of port {port}: {e}")))
    }

    fn install_nat(&self, jail: &Jail, request: &NatRequest, host: &mut Host<'_>) -> Result<()> {
        nat::install(jail, request, host)
    }

    fn remove_nat(&self, jail: &Jail, request: &NatRequest, host: &mut Host<'_>) -> Result<()> {
        nat::remove(jail, request, host)
    }
}

/// Whether the skeleton's base chains exist (a cheap query each, see [`script::probes`]). A
/// query the host cannot answer counts as "no": the skeleton is then checked or applied whole,
/// and nftables' own message says what is wrong.
fn skeleton_in_place(host: &mut Host<'_>) -> bool {
    script::probes().iter().all(
        |p| match host.nft_chain_exists(p.family, p.table, p.chain) {
            Ok(exists) => exists,
            Err(e) => {
                ioc_sdk::tracing::debug!(
                    "nftables: cannot tell whether chain {} {} {} exists: {e}",
                    p.family,
                    p.table,
                    p.chain
                );
                false
            }
        },
    )
}

ioc_sdk::export_firewall! {
    name: "nftables",
    description: "nftables bridge-family filter (Linux)",
    backend: Nftables,
    platforms: [Platform::Linux],
}

#[cfg(test)]
mod tests {
    use super::*;
    use ioc_sdk::{HostError, HostErrorKind, HostHandle, HostOp, HostReply, NftFamily};

    /// Runs `skeleton_in_place` against a host that answers chain queries with `answer`, and
    /// returns its verdict and the chains it asked about.
    fn probe(
        answer: impl Fn(&str) -> Result<bool, HostError>,
    ) -> (bool, Vec<(NftFamily, String, String)>) {
        let mut asked = Vec::new();
        let mut perform = |op: &HostOp| match op {
            HostOp::NftChainExists {
                family,
                table,
                chain,
            } => {
                asked.push((*family, table.to_string(), chain.to_string()));
                answer(chain).map(HostReply::Flag)
            }
            other => panic!("unexpected {}", other.name()),
        };
        let in_place = skeleton_in_place(&mut Host::from_handle(HostHandle::new(&mut perform)));
        (in_place, asked)
    }

    fn chain(name: &str) -> (NftFamily, String, String) {
        (NftFamily::Bridge, "ioc".into(), name.into())
    }

    #[test]
    fn the_skeleton_is_in_place_when_both_base_chains_exist() {
        let (in_place, asked) = probe(|_| Ok(true));
        assert!(in_place);
        assert_eq!(asked, [chain("prerouting"), chain("postrouting")]);
    }

    #[test]
    fn the_first_missing_chain_ends_the_probing() {
        let (in_place, asked) = probe(|c| Ok(c != "prerouting"));
        assert!(!in_place);
        assert_eq!(asked, [chain("prerouting")]);
        let (in_place, _) = probe(|c| Ok(c != "postrouting"));
        assert!(!in_place);
    }

    #[test]
    fn a_query_the_host_cannot_answer_counts_as_missing() {
        let (in_place, _) = probe(|_| Err(HostError::new(HostErrorKind::PermissionDenied, "no")));
        assert!(!in_place);
    }
}
