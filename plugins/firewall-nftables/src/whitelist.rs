//! What one port may carry: the jail's MAC, its static addresses (the sets' initial elements),
//! what it learns at run time, and the values rules derive from them.

use std::net::{Ipv4Addr, Ipv6Addr};

use ioc_sdk::{Mac, PortLearning, PortPolicy};

/// The addresses one port may use, deduplicated in the order given, and how it learns more.
#[derive(Clone, Debug)]
pub struct Whitelist {
    /// The only Ethernet source the jail may use.
    pub mac: Mac,
    /// Its static IPv4 addresses (set `allowed4`).
    pub v4: Vec<Ipv4Addr>,
    /// Its static IPv6 addresses plus its EUI-64 link-local (set `allowed6`); empty when the
    /// jail has no IPv6 at all.
    pub v6: Vec<Ipv6Addr>,
    /// What the host learns for it (DHCP leases into `lease4`, SLAAC addresses into `slaac6`).
    pub learning: PortLearning,
    /// The netfilter queue of the port's learner, when it learns anything.
    pub queue: Option<u16>,
}

impl Whitelist {
    /// The whitelist of `policy`; `queue` is where DHCP replies and router advertisements go
    /// to be learned (see [`ioc_sdk::Host::learn_addresses`]).
    pub fn new(policy: &PortPolicy, queue: Option<u16>) -> Whitelist {
        let learning = policy.learning();
        let mut v4: Vec<Ipv4Addr> = Vec::new();
        for a in policy.ipv4() {
            if !v4.contains(&a) {
                v4.push(a);
            }
        }
        let mut v6: Vec<Ipv6Addr> = Vec::new();
        // No IPv6 address and no SLAAC: no IPv6 at all, not even link-local.
        if policy.ipv6().next().is_some() || learning.slaac {
            let link_local = policy.mac().link_local();
            for a in policy.ipv6().chain(std::iter::once(link_local)) {
                if !v6.contains(&a) {
                    v6.push(a);
                }
            }
        }
        Whitelist {
            mac: policy.mac(),
            v4,
            v6,
            learning,
            queue,
        }
    }

    /// Whether the jail may use IPv4 (and ARP) at all: static addresses or DHCP.
    pub fn ipv4(&self) -> bool {
        !self.v4.is_empty() || self.learning.dhcp4
    }

    /// Whether the jail may use IPv6 at all: static addresses or SLAAC.
    pub fn ipv6(&self) -> bool {
        !self.v6.is_empty()
    }

    /// The learner's queue when the port learns DHCP leases.
    pub fn dhcp4_queue(&self) -> Option<u16> {
        self.queue.filter(|_| self.learning.dhcp4)
    }

    /// The learner's queue when the port learns SLAAC addresses.
    pub fn slaac_queue(&self) -> Option<u16> {
        self.queue.filter(|_| self.learning.slaac)
    }

    /// The interface identifier (low 64 bits) of the jail's EUI-64 addresses: its link-local
    /// address and every SLAAC address it may use share it.
    pub fn eui64_iid(&self) -> [u8; 8] {
        let o = self.mac.link_local().octets();
        let mut iid = [0u8; 8];
        iid.copy_from_slice(&o[8..]);
        iid
    }

    /// The multicast groups ND and MLD queries reach the jail on: all-nodes, and the
    /// solicited-node group of each of its addresses (its SLAAC addresses share the group of
    /// its link-local address, which has the same interface identifier).
    pub fn groups(&self) -> Vec<Ipv6Addr> {
        let mut groups = vec![ALL_NODES];
        for a in &self.v6 {
            let g = ioc_sdk::solicited_node(a);
            if !groups.contains(&g) {
                groups.push(g);
            }
        }
        groups
    }
}

/// `ff02::1`, the all-nodes group.
pub const ALL_NODES: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 1);

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::IpAddr;

    pub(crate) fn policy(addresses: &[&str], learning: PortLearning) -> PortPolicy {
        PortPolicy::new(
            "myjail",
            5,
            "vnet0",
            "vnet0.5",
            "bridge0",
            "02:ff:60:cb:49:49".parse().unwrap(),
            addresses.iter().map(|a| a.parse::<IpAddr>().unwrap()),
            Some(1500),
        )
        .with_learning(learning)
    }

    #[test]
    fn duplicates_are_listed_once_and_the_link_local_comes_last() {
        let w = Whitelist::new(
            &policy(
                &["10.23.42.2", "10.23.42.2", "fe80::ff:60ff:fecb:4949"],
                PortLearning::default(),
            ),
            None,
        );
        assert_eq!(w.v4, ["10.23.42.2".parse::<Ipv4Addr>().unwrap()]);
        assert_eq!(
            w.v6,
            ["fe80::ff:60ff:fecb:4949".parse::<Ipv6Addr>().unwrap()]
        );
        let w = Whitelist::new(&policy(&["2001:db8::2"], PortLearning::default()), None);
        assert_eq!(
            w.v6,
            [
                "2001:db8::2".parse::<Ipv6Addr>().unwrap(),
                "fe80::ff:60ff:fecb:4949".parse().unwrap()
            ]
        );
        assert_eq!(w.eui64_iid(), [0, 0xff, 0x60, 0xff, 0xfe, 0xcb, 0x49, 0x49]);
    }

    #[test]
    fn families_are_on_with_addresses_or_learning_only() {
        let none = Whitelist::new(&policy(&[], PortLearning::default()), None);
        assert!(!none.ipv4() && !none.ipv6());
        let learning = PortLearning {
            dhcp4: true,
            slaac: true,
            dhcp_server: false,
        };
        let learns = Whitelist::new(&policy(&[], learning), Some(7));
        assert!(learns.ipv4() && learns.ipv6());
        assert_eq!(
            learns.v6,
            ["fe80::ff:60ff:fecb:4949".parse::<Ipv6Addr>().unwrap()]
        );
        assert_eq!(
            (learns.dhcp4_queue(), learns.slaac_queue()),
            (Some(7), Some(7))
        );
        let static_only = Whitelist::new(&policy(&["10.0.0.1"], PortLearning::default()), Some(7));
        assert_eq!(static_only.dhcp4_queue(), None);
    }
}
