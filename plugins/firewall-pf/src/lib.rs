//! The `pf` firewall backend (FreeBSD 14 and later): Secure VNET with pf `ether` rules, one
//! anchor per jail NIC, on the same per-jail bridge as the ipfw backend.
//!
//! # Topology
//!
//! The per-jail bridge of [`ioc_jail_bridge`] (second pair `vnet0:5:a`/`vnet0:5:b`, bridge
//! `vnet0:5:net`), not plain filtering of `vnet0:5` on the host bridge: FreeBSD's bridge runs
//! ether rules only on frames it forwards, on their way out of a member, so on the host bridge
//! alone the frames between the host and a jail would never be filtered. For the seed jail:
//!
//! ```text
//! /sbin/ifconfig epair create up                                   (-> epair1a)
//! /sbin/ifconfig epair1a mtu 1500 name vnet0:5:a up
//! /sbin/ifconfig epair1b mtu 1500 name vnet0:5:b up
//! printf '%s\n' 'ether pass out quick on "vnet0:5:b" ...' ... | /sbin/pfctl -a ioc/myjail:vnet0 -f -
//! /sbin/ifconfig bridge create name vnet0:5:net up
//! /sbin/ifconfig vnet0:5:net addm vnet0:5 addm vnet0:5:b up
//! /sbin/ifconfig bridge0 addm vnet0:5:a up
//! ```
//!
//! Removal destroys `vnet0:5`, `vnet0:5:a` and `vnet0:5:net`, then `pfctl -a ioc/myjail:vnet0
//! -F all`, which with `-a` flushes only that anchor (its ether rules, rules and tables); it
//! succeeds on an anchor that is empty or gone.
//!
//! # The main ruleset is the admin's
//!
//! ioc only ever loads and flushes its own anchors. pf evaluates them only where the main
//! ruleset says so, so `/etc/pf.conf` must contain (in its Ethernet section, before any layer-3
//! rule):
//!
//! ```text
//! ether anchor "ioc/*"
//! ```
//!
//! plus `net.link.bridge.ipfw=1` (despite its name this makes bridges run every layer-2 firewall
//! hook, pf's ether rules included) and `net.link.bridge.ipfw_arp=1` (without it bridges pass ARP
//! without asking any firewall). `check_ready` verifies both tunables and that pf is loaded.
//! It cannot verify the anchor reference: readiness checks may only query the host, and `pfctl
//! -s ether` is a command. A start without the reference succeeds but filters nothing.
//!
//! # The rules, and what pf cannot express
//!
//! Out of the jail: IPv4 only with its MAC and one of its addresses as source, ARP only with its
//! MAC as Ethernet source, IPv6 only with its MAC and one of its addresses, its EUI-64
//! link-local or `::`. Into the jail: IPv4/IPv6 to its MAC and addresses, ARP to its MAC or
//! broadcast, and IPv6 to all-nodes and its solicited-node groups. Everything else is blocked,
//! a family without addresses entirely. pf's ether rules see the Ethernet header and the IP
//! addresses (`l3`) only, so, as with ipfw: the ARP payload (sender MAC and IP, target IP), the
//! ICMPv6 type (router advertisements and redirects from the jail pass when sent from its
//! link-local) and the neighbour-discovery body (NA target, link-layer options) are not checked,
//! and `::` may be used for any IPv6 packet, not only DAD.
//!
//! # Learned addresses
//!
//! SLAAC (`ip6_addr="vnet0|accept_rtadv"`) works as with ipfw: the anchor declares a `slaac6`
//! table, its rules let IPv6 from and to the addresses in it pass like static ones, and the
//! host's learner (`ioc __learn ... --sink pf:ioc/myjail:vnet0:lease4,slaac6`, started after
//! the rules are loaded and before the bridges) fills it with `pfctl -a ioc/myjail:vnet0 -t
//! slaac6 -T add ADDR`. `-F all` on the anchor removes the table with the rules. As above,
//! router advertisements from the jail are not dropped (pf cannot see the ICMPv6 type), and
//! neither are DHCPv6 server replies from it (nor UDP ports at all).
//!
//! DHCP (`ip4_addr="vnet0|dhcp"`) is refused, by `check_ready` before anything changes: ether
//! rules do not see UDP ports, so pf could neither hold a jail without a lease to DHCP client
//! traffic (it would have to pass any IPv4 from `0.0.0.0`) nor drop the DHCP server replies of
//! a rogue server in the jail. ipfw can; the error says so.

pub mod nat;
pub mod rules;

use ioc_jail_bridge::{all_or_errors, require_sysctl, JailBridge};
use ioc_sdk::{
    AddressKind, Error, Firewall, Host, Jail, NatRequest, Platform, PortPolicy, Result, Side,
};

pub const PFCTL: &str = "/sbin/pfctl";

/// The pf firewall backend.
#[derive(Default)]
pub struct Pf;

fn dhcp_refused(nic: &str) -> Error {
    Error::new(format!(
        "firewall=pf cannot filter DHCP on FreeBSD (property 'ip4_addr': {nic}|dhcp on a Secure VNET NIC): pf ether rules do not see UDP ports, so it could neither limit the jail to DHCP client traffic until it has a lease nor drop DHCP server replies from it; use firewall=ipfw"
    ))
}

/// Refuses a Secure VNET NIC that takes its IPv4 address by DHCP (see the module docs).
pub fn check_learning(jail: &Jail) -> Result<()> {
    let net = jail.network();
    let dhcp = net.addresses().find(|a| {
        a.kind() == AddressKind::Dhcp && net.interface(a.nic()).is_some_and(|n| n.secure())
    });
    match dhcp {
        Some(a) => Err(dhcp_refused(a.nic())),
        None => Ok(()),
    }
}

impl Firewall for Pf {
    fn check_ready(&self, jail: &Jail, host: &mut Host<'_>) -> Result<()> {
        if jail.platform() != Platform::FreeBsd {
            return Err(Error::new(
                "pf ether rules exist only on FreeBSD 14 and later; use firewall=nftables on Linux",
            ));
        }
        check_learning(jail)?;
        // The `net.pf` sysctl tree exists only while pf is loaded.
        host.read_sysctl("net.pf.request_maxcount").map_err(|_| {
            Error::new(
                "pf is not loaded (sysctl net.pf.request_maxcount does not exist): kldload pf, pfctl -e, and add `ether anchor \"ioc/*\"` to /etc/pf.conf",
            )
        })?;
        require_sysctl(
            host,
            "net.link.bridge.ipfw",
            "Layer-2 filtering on bridges is disabled",
            "despite its name it makes bridges run pf's ether rules; add it to /etc/sysctl.conf",
        )?;
        require_sysctl(
            host,
            "net.link.bridge.ipfw_arp",
            "ARP filtering is disabled",
            "without it bridges pass ARP unfiltered; add it to /etc/sysctl.conf",
        )
    }

    fn install(&self, jail: &Jail, policy: &PortPolicy, host: &mut Host<'_>) -> Result<()> {
        let learning = policy.learning();
        // check_ready refused this already; a caller that skipped it still changes nothing.
        if learning.dhcp4 {
            return Err(dhcp_refused(policy.nic()));
        }
        let links = JailBridge::new(jail, policy);
        let anchor = rules::anchor(policy);
        links.create_pair(host)?;
        host.run_checked(
            Side::Host,
            &[PFCTL, "-a", &anchor, "-f", "-"],
            Some(&rules::rules(policy, &links)),
        )?;
        if learning.slaac {
            host.learn_addresses(policy.port(), policy.mac(), learning, rules::sink(policy))?;
        }
        links.connect(host)
    }

    fn remove(&self, jail: &Jail, policy: &PortPolicy, host: &mut Host<'_>) -> Result<()> {
        let links = JailBridge::new(jail, policy);
        let anchor = rules::anchor(policy);
        let mut errors = links.destroy(host);
        if let Err(e) = host.run_checked(Side::Host, &[PFCTL, "-a", &anchor, "-F", "all"], None) {
            errors.push(e.to_string());
        }
        all_or_errors(errors)
    }

    fn install_nat(&self, jail: &Jail, request: &NatRequest, host: &mut Host<'_>) -> Result<()> {
        nat::install(jail, request, host)
    }

    fn remove_nat(&self, jail: &Jail, request: &NatRequest, host: &mut Host<'_>) -> Result<()> {
        nat::remove(jail, request, host)
    }
}

ioc_sdk::export_firewall! {
    name: "pf",
    description: "pf ether rules in a per-jail anchor (FreeBSD 14+)",
    backend: Pf,
    platforms: [Platform::FreeBsd],
}
