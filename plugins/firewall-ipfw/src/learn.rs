//! Addresses learned at run time (DHCP leases, SLAAC addresses): the ipfw tables the host's
//! learner fills, and the rules that consult them.
//!
//! The learner (`ioc __learn ... --sink ipfw:TABLE4,TABLE6`, spawned by the host for
//! [`HostOp::LearnAddresses`](ioc_sdk::HostOp::LearnAddresses)) watches, with bpf on the
//! jail's port, what the filter lets through toward the jail, and keeps the tables current with
//! `ipfw table NAME add|delete ADDR`: a lease or prefix change is a table update, never a rule
//! rewrite. ipfw tables have no timeouts, so the learner deletes an address itself when its
//! lease or valid lifetime ends.
//!
//! Unlike the Linux learner, which holds each DHCP reply in a netfilter queue until the set
//! has its address, bpf only observes: the reply reaches the jail while the learner adds the
//! address, so the jail's first packets from a new lease may be dropped until the table holds
//! it. That fails closed.

use ioc_sdk::{LearnSink, PortLearning, PortPolicy};

use crate::rules::words;

/// A port's two learned-address tables.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tables {
    /// DHCP leases (IPv4).
    pub table4: String,
    /// SLAAC addresses (IPv6).
    pub table6: String,
}

impl Tables {
    /// `ioc-<jid>-<nic>-lease4` and `ioc-<jid>-<nic>-slaac6`: unique per running jail and NIC
    /// as the rule number is per jail, and within ipfw's table names (`[A-Za-z0-9_.-]`, at most
    /// 63 characters: no `:`, so not the port's name).
    pub fn of(policy: &PortPolicy) -> Tables {
        let name = |set: &str| format!("ioc-{}-{}-{set}", policy.jid(), policy.nic());
        Tables {
            table4: name("lease4"),
            table6: name("slaac6"),
        }
    }

    /// Where the learner puts what it learns.
    pub fn sink(&self) -> LearnSink {
        LearnSink::IpfwTables {
            table4: self.table4.as_str().into(),
            table6: self.table6.as_str().into(),
        }
    }

    /// The tables this port's learning uses, IPv4 first.
    pub fn used(&self, learning: PortLearning) -> Vec<&str> {
        let mut used = Vec::new();
        if learning.dhcp4 {
            used.push(self.table4.as_str());
        }
        if learning.slaac {
            used.push(self.table6.as_str());
        }
        used
    }
}

/// `ipfw -q table NAME create type addr or-flush` for each table in use: `or-flush` empties a
/// table a crashed run left under the same name (a JID is reused) instead of failing.
pub fn create_tables(tables: &Tables, learning: PortLearning) -> Vec<Vec<String>> {
    tables
        .used(learning)
        .into_iter()
        .map(|t| words(&["table", t, "create", "type", "addr", "or-flush"]))
        .collect()
}

/// From the jail, first in its family: DHCP (`sport` 67) or DHCPv6 (`sport` 547) server replies
/// are dropped on every Secure VNET port unless the jail is the network's DHCP server, so no
/// jail, static or learning, can hand another a lease. `None` where nothing is to be dropped.
pub fn server_replies(learning: PortLearning, v6: bool, b: &str) -> Option<Vec<String>> {
    if learning.dhcp_server {
        return None;
    }
    let port = if v6 { "547" } else { "67" };
    Some(words(&[
        "deny", "log", "udp", "from", "any", port, "to", "any", "layer2", "via", b, "out",
    ]))
}

/// DHCPv4 with a lease table `t4`: from the jail, DHCP client traffic from `0.0.0.0` (before
/// it has a lease) and any IPv4 from a leased address, as its static ones; toward it, DHCP
/// replies (to its MAC or broadcast: a server may send an offer before any address is known)
/// and IPv4 to a leased address.
pub fn dhcp4(t4: &str, mac: &str, b: &str, p: &str) -> Vec<Vec<String>> {
    let table = format!("table({t4})");
    vec![
        words(&[
            "allow", "udp", "from", "0.0.0.0", "68", "to", "any", "67", "layer2", "MAC", "any",
            mac, "via", b, "out",
        ]),
        words(&[
            "allow", "ipv4", "from", &table, "to", "any", "layer2", "MAC", "any", mac, "via", b,
            "out",
        ]),
        words(&[
            "allow", "udp", "from", "any", "67", "to", "any", "68", "layer2", "MAC", mac, "any",
            "via", p, "out",
        ]),
        words(&[
            "allow",
            "udp",
            "from",
            "any",
            "67",
            "to",
            "any",
            "68",
            "layer2",
            "MAC",
            "ff:ff:ff:ff:ff:ff",
            "any",
            "via",
            p,
            "out",
        ]),
        words(&[
            "allow", "udp", "from", "any", "67", "to", "any", "68", "via", p, "out",
        ]),
        words(&[
            "allow", "ipv4", "from", "any", "to", &table, "layer2", "MAC", mac, "any", "via", p,
            "out",
        ]),
        words(&[
            "allow", "ipv4", "from", "any", "to", &table, "via", p, "out",
        ]),
    ]
}

/// SLAAC with an address table `t6`: IPv6 from and to a learned address, as a static one, and
/// router advertisements (from a link-local router to all-nodes) toward the jail. Those from
/// the jail stay dropped by the rule before every allow.
pub fn slaac(t6: &str, mac: &str, b: &str, p: &str) -> Vec<Vec<String>> {
    let table = format!("table({t6})");
    let ra = [
        "allow",
        "ipv6-icmp",
        "from",
        "fe80::/10",
        "to",
        "ff02::1",
        "icmp6types",
        "134",
    ];
    let mut ra_l2 = words(&ra);
    ra_l2.extend(words(&[
        "layer2",
        "MAC",
        "33:33:00:00:00:01",
        "any",
        "via",
        p,
        "out",
    ]));
    let mut ra_l3 = words(&ra);
    ra_l3.extend(words(&["via", p, "out"]));
    vec![
        words(&[
            "allow", "ipv6", "from", &table, "to", "any", "layer2", "MAC", "any", mac, "via", b,
            "out",
        ]),
        words(&[
            "allow", "ipv6", "from", "any", "to", &table, "layer2", "MAC", mac, "any", "via", p,
            "out",
        ]),
        words(&[
            "allow", "ipv6", "from", "any", "to", &table, "via", p, "out",
        ]),
        ra_l2,
        ra_l3,
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn learning(dhcp4: bool, slaac: bool) -> PortLearning {
        PortLearning {
            dhcp4,
            slaac,
            dhcp_server: false,
        }
    }

    #[test]
    fn tables_are_named_per_jid_and_nic_within_ipfws_alphabet() {
        let (_, policy) = ioc_jail_bridge::fixtures::myjail("ipfw", &[]);
        let t = Tables::of(&policy);
        assert_eq!(t.table4, "ioc-5-vnet0-lease4");
        assert_eq!(t.table6, "ioc-5-vnet0-slaac6");
        assert_eq!(t.used(learning(true, false)), ["ioc-5-vnet0-lease4"]);
        assert!(t.used(learning(false, false)).is_empty());
        assert_eq!(
            create_tables(&t, learning(false, true))[0].join(" "),
            "table ioc-5-vnet0-slaac6 create type addr or-flush"
        );
    }

    #[test]
    fn server_replies_are_dropped_on_every_port_unless_the_jail_serves_dhcp() {
        assert_eq!(
            server_replies(learning(true, false), false, "b").map(|r| r.join(" ")),
            Some("deny log udp from any 67 to any layer2 via b out".into())
        );
        assert_eq!(
            server_replies(learning(false, true), true, "b").map(|r| r.join(" ")),
            Some("deny log udp from any 547 to any layer2 via b out".into())
        );
        assert_eq!(
            server_replies(learning(false, false), false, "b").map(|r| r.join(" ")),
            Some("deny log udp from any 67 to any layer2 via b out".into())
        );
        let server = PortLearning {
            dhcp_server: true,
            ..learning(true, false)
        };
        assert_eq!(server_replies(server, false, "b"), None);
    }
}
