//! The `nftables` firewall backend (Linux): Secure VNET's layer-2 whitelist as nftables rules
//! in the `netdev` family, one table per jail port.
//!
//! # Layout
//!
//! Each Secure VNET port gets a table of its own, named after it; ioc never lists, flushes or
//! rewrites any other table, and finds its own by name.
//!
//! ```text
//! table netdev ioc-vnet0.5 {
//!     set allowed4 { type ipv4_addr; }                  the jail's static IPv4 addresses (with IPv4)
//!     set allowed6 { type ipv6_addr; }                  its static IPv6 addresses + EUI-64 link-local (with IPv6)
//!     set lease4   { type ipv4_addr; flags timeout; }   its DHCP lease, the learner's (with DHCP)
//!     set slaac6   { type ipv6_addr; flags timeout; }   its SLAAC addresses, the learner's (with SLAAC)
//!     chain from { type filter hook ingress device "vnet0.5" priority 0; policy drop; ... }
//!     chain to   { type filter hook egress  device "vnet0.5" priority 0; policy drop; ... }
//! }
//! ```
//!
//! `from` sees what the jail sends before the bridge does anything with it (so a spoofed frame
//! is dropped before the bridge can learn its source MAC on the jail's port); `to` sees what
//! the bridge, or the host, sends out of the port toward the jail. A frame only ever meets the
//! rules of the port it crosses, whatever the number of jails.
//!
//! A start commits the whole table in one netlink transaction ([`ioc_sdk::Host::nft_commit`],
//! no ruleset dump) before the port joins its bridge, so no frame ever crosses it unfiltered.
//! It first asks whether a table of that name exists (one request for that name); only a
//! crashed start can have left one, with leases that are no longer valid, and the transaction
//! then deletes it first. The commit touches no other jail's objects. Learned addresses are
//! set elements: a new lease is an element update by the learner, not a rule change.
//!
//! # The whitelist
//!
//! With `J` the jail's MAC, `A4`/`A6` its static addresses, `L4` its DHCP lease (`lease4`),
//! `S6` its SLAAC addresses (`slaac6`) and `LL` the link-local address its kernel derives from
//! `J` (modified EUI-64), frames **from the jail** pass only when:
//!
//! - the Ethernet source is `J` (everything else is dropped first), and the frame carries no
//!   802.1Q/802.1ad VLAN tag (every rule tests the EtherType as it is on the wire, tag
//!   included, so a tagged frame meets no accept);
//! - IPv4: DHCP server replies (UDP source port 67) are dropped unless the jail is the
//!   network's DHCP server (`dhcp_server`). With DHCP, client messages (UDP 68 to 67) from
//!   `0.0.0.0` pass, and those from `L4` go through the learner (which ends the lease on a
//!   RELEASE) and pass. Otherwise the source is in `A4` or `L4`;
//! - ARP (Ethernet/IPv4 only, request or reply): sender MAC `J` and sender IP in `A4` or `L4`;
//! - IPv6: router advertisements and redirects are dropped whatever their source, and so are
//!   DHCPv6 server replies (UDP source port 547) unless `dhcp_server`. Neighbour solicitations
//!   come from `A6`+`LL`+`S6` and carry, if any option, a source link-layer option of `J`;
//!   duplicate-address-detection solicitations come from `::`, target one of the jail's own
//!   addresses and carry no option or only a DAD nonce. Neighbour advertisements target one of
//!   its own addresses and carry no option or a target link-layer option of `J`. "Own" is
//!   `A6`+`LL`, and with SLAAC any address with the interface identifier of `J` (nft cannot
//!   look a raw ND target up in a typed set; such an address is by construction the jail's).
//!   Any other NS/NA (more options, extension headers) is dropped. MLD reports (and with
//!   SLAAC, router solicitations) may come from `::` (the kernel sends them before its
//!   link-local address is usable); anything else must come from `A6`+`LL`+`S6`;
//! - nothing else: other ethertypes (VLAN tags included) are dropped.
//!
//! Frames **toward the jail** pass only when they carry no VLAN tag and:
//!
//! - IPv4: addressed to `J` and to an address in `A4` or `L4`. With DHCP, replies (UDP 67 to
//!   68) to `J` or broadcast whose `chaddr` is `J` pass; the kernel puts the address a reply
//!   hands out into `L4` before it passes, for a provisional minute, and copies the reply to
//!   the learner, which gives the address the lease's own lifetime or drops it on a NAK;
//! - ARP: addressed to `J` or broadcast, with a target IP in `A4` or `L4`;
//! - IPv6: with SLAAC, router advertisements to all nodes or to `LL` (without extension
//!   headers) pass, copied to the learner, which puts the jail's address in each advertised
//!   prefix into `S6` with the prefix's valid lifetime; every other router advertisement is
//!   dropped. Otherwise
//!   addressed to `J` and to one of `A6`+`LL`+`S6`; or NS, NA and MLD queries sent to
//!   all-nodes (`ff02::1`) or to the solicited-node group of one of `A6`+`LL` (`S6` shares
//!   `LL`'s group), each with its matching `33:33:..` group MAC;
//! - nothing else.
//!
//! The learner gets its copies through `log group N` (nfnetlink_log), not a netfilter queue:
//! kernels built without `CONFIG_NFT_QUEUE` (this project's CI among them) still learn, and
//! a reply never waits for a process. Without a learner the filter fails closed: a DHCP lease
//! lives a minute and is never renewed, a SLAAC address is never allowed. A jail without IPv4 addresses and without DHCP
//! gets no IPv4 and no ARP at all; without IPv6 addresses and without SLAAC, no IPv6 at all,
//! not even link-local.
//!
//! # Removal
//!
//! Removal deletes the port's table in one message, which succeeds whether or not the table
//! exists, so it is safe after a failed start and safe twice. Nothing else is left: the port
//! filters share no table (NAT does, see [`nat`]). The install registers that deletion as its
//! undo before it commits the table, so ioc runs it from the jail's journal when the jail
//! stops, without loading this plugin at all; [`Firewall::remove`] only serves a rollback of a
//! failed install.

mod from_jail;
pub mod layout;
pub mod nat;
mod proto;
mod to_jail;
pub mod whitelist;

use ioc_sdk::{
    Error, Firewall, Host, HostErrorKind, Jail, NatRequest, Platform, PortPolicy, Result,
    UndoAction,
};

use whitelist::Whitelist;

/// The nftables firewall backend.
#[derive(Default)]
pub struct Nftables;

impl Firewall for Nftables {
    /// Asks the kernel whether nftables can be used (one request that fails without nf_tables
    /// in the kernel or without permission, at the same cost whatever the ruleset holds). A
    /// kernel with nf_tables but without the `netdev` family or its egress hook (before Linux
    /// 5.16) refuses the first start's commit instead, before the port joins its bridge.
    fn check_ready(&self, jail: &Jail, host: &mut Host<'_>) -> Result<()> {
        if jail.platform() != Platform::Linux {
            return Err(Error::new(
                "nftables exists only on Linux; use firewall=ipfw or firewall=pf on FreeBSD",
            ));
        }
        host.nft_ready().map_err(|e| {
                Error::new(format!(
                    "nftables cannot filter ports on this host: {e} (ioc needs a kernel with nf_tables and its netdev family, CONFIG_NF_TABLES_NETDEV, Linux 5.16 or later)"
                ))
            })
    }

    /// Starts the port's learner when it learns addresses, then commits its table (replacing a
    /// leftover of a crashed start), then joins the port to its bridge.
    ///
    /// The learner comes first because the rules name its log group. It only writes to the
    /// sets when a copied packet arrives, and none can before the table exists and the port is
    /// on the bridge, so the sets are always there when it needs them.
    fn install(&self, _jail: &Jail, policy: &PortPolicy, host: &mut Host<'_>) -> Result<()> {
        let port = policy.port();
        let table = layout::table(port).map_err(|e| Error::new(e.to_string()))?;
        let learning = policy.learning();
        let group = if learning.any() {
            let sink = layout::learn_sink(&table);
            let group = host
                .learn_addresses(port, policy.mac(), learning, sink)
                .map_err(|e| Error::new(format!("learn the addresses of port {port}: {e}")))?;
            Some(group.ok_or_else(|| {
                Error::new(format!(
                    "learn the addresses of port {port}: the host named no log group for its learner"
                ))
            })?)
        } else {
            None
        };
        // The table's deletion is the whole removal: registered, it is run from the journal
        // when the jail stops, without loading this plugin (see `Firewall::install`).
        let removal = layout::remove(port).map_err(|e| Error::new(e.to_string()))?;
        host.register_undo(UndoAction::NftCommit { batch: removal })
            .map_err(|e| {
                Error::new(format!("register the removal of port {port}'s filter: {e}"))
            })?;
        // The table is created exclusively; a leftover of a crashed start makes that commit
        // fail, changing nothing, and is replaced by a second one. Asking first would cost
        // every start one more lookup of the table by name, which walks all the host's
        // tables (one per running Secure VNET jail).
        let whitelist = Whitelist::new(policy, group);
        let install = |replace| {
            layout::install(port, &whitelist, replace).map_err(|e| Error::new(e.to_string()))
        };
        let committed = match host.nft_commit(&install(false)?) {
            Err(e) if e.kind == HostErrorKind::AlreadyExists => host.nft_commit(&install(true)?),
            result => result,
        };
        committed.map_err(|e| {
            // The kernel names a missing expression type ENOENT, nothing more; `log` and
            // `dynset` are the ones only a learning port adds.
            let hint = if group.is_some() && e.kind == HostErrorKind::NotFound {
                " (learning addresses needs the kernel's nftables log and dynset support: CONFIG_NFT_LOG, CONFIG_NETFILTER_NETLINK_LOG)"
            } else {
                ""
            };
            Error::new(format!("install the filter of port {port}: {e}{hint}"))
        })?;
        // Filtering is in place before the port joins the bridge: no frame passes unfiltered.
        host.add_bridge_members(policy.bridge(), &[port])?;
        Ok(())
    }

    /// The port itself is the network mode's and goes with it; this removes only the filter.
    fn remove(&self, _jail: &Jail, policy: &PortPolicy, host: &mut Host<'_>) -> Result<()> {
        let port = policy.port();
        let batch = layout::remove(port).map_err(|e| Error::new(e.to_string()))?;
        host.nft_commit(&batch)
            .map_err(|e| Error::new(format!("remove the filter of port {port}: {e}")))
    }

    fn install_nat(&self, jail: &Jail, request: &NatRequest, host: &mut Host<'_>) -> Result<()> {
        nat::install(jail, request, host)
    }

    fn remove_nat(&self, jail: &Jail, request: &NatRequest, host: &mut Host<'_>) -> Result<()> {
        nat::remove(jail, request, host)
    }
}

ioc_sdk::export_firewall! {
    name: "nftables",
    description: "nftables per-port netdev filter (Linux)",
    backend: Nftables,
    platforms: [Platform::Linux],
}

#[cfg(test)]
mod tests;
