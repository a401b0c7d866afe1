//! The addresses a running jail really has when they are not its static properties, as
//! `ioc list` and `ioc get ip4_addr`/`ip6_addr` show them:
//!
//! - what modes report ([`ioc_sdk::HostOp::ReportAddresses`], a CNI result's): kept in the
//!   jail's journal, so they go when it stops, and shown in place of the `none` of the
//!   jail's properties;
//! - what a Secure VNET port's address learner allows now (DHCP leases, SLAAC addresses),
//!   from its record in the jail's runtime dir ([`crate::learner::record`]): shown in front of
//!   the NIC's `dhcp`/`accept_rtadv` entry (`vnet0|10.0.0.5/24,vnet0|dhcp`), which stays to
//!   say where they came from and is all that is shown once they expire or are released.

use std::time::SystemTime;

use ioc_sdk::{Address, AddressKind, Cidr, HostOp};

use crate::journal::Journal;
use crate::learner::record::{self, LearnedAddress, LearnedBy};
use crate::runtime::{JailState, RunDir};
use crate::step::Step;

/// The reported addresses of a journal, per interface, in report order; a later report of an
/// interface replaces the earlier one.
pub fn from_journal(journal: &Journal) -> Vec<(String, Vec<Cidr>)> {
    let mut links: Vec<(String, Vec<Cidr>)> = Vec::new();
    for step in journal.start_steps() {
        let Step::Op(HostOp::ReportAddresses { link, addresses }) = step else {
            continue;
        };
        let addresses: Vec<Cidr> = addresses.iter().copied().collect();
        match links.iter_mut().find(|(l, _)| l == link.as_str()) {
            Some((_, known)) => *known = addresses,
            None => links.push((link.to_string(), addresses)),
        }
    }
    links
}

/// What a running jail's journal and learners say about its addresses.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Observed {
    /// Reported addresses per interface ([`from_journal`]).
    pub reported: Vec<(String, Vec<Cidr>)>,
    /// Learned addresses still allowed, with the jail interface they belong to.
    pub learned: Vec<(String, LearnedAddress)>,
}

/// What is observed of jail `name`; `None` when it is not running.
pub fn observe(run: &RunDir, name: &str) -> Option<Observed> {
    if !matches!(run.state(name), JailState::Running { .. }) {
        return None;
    }
    let journal = Journal::read(&run.journal_path(name)).ok().flatten()?;
    let now = SystemTime::now();
    let learned = learning_ports(&journal)
        .into_iter()
        .flat_map(|(nic, port)| {
            record::read(&record::path(&run.jail_dir(name), &port), now)
                .into_iter()
                .map(move |a| (nic.clone(), a))
        })
        .collect();
    Some(Observed {
        reported: from_journal(&journal),
        learned,
    })
}

/// The (jail interface, port) of every port whose addresses the host learns.
fn learning_ports(journal: &Journal) -> Vec<(String, String)> {
    journal
        .start_steps()
        .filter_map(|step| match step {
            Step::Op(HostOp::ProtectPort { policy }) if policy.learning().any() => {
                Some((policy.nic().to_string(), policy.port().to_string()))
            }
            _ => None,
        })
        .collect()
}

impl Observed {
    /// The `ip4_addr` (or, with `v6`, `ip6_addr`) entries to show for a jail configured with
    /// `configured`: the reported ones (`eth0|10.22.0.5/16`) when there are, else the
    /// configured ones with each NIC's learned addresses in front of its dynamic entry; `None`
    /// when neither changes anything, so the jail's property is shown as it is.
    pub fn entries(&self, configured: &[Address], v6: bool) -> Option<Vec<String>> {
        let reported: Vec<String> = self
            .reported
            .iter()
            .flat_map(|(link, addresses)| {
                addresses
                    .iter()
                    .filter(|a| a.is_v6() == v6)
                    .map(move |a| format!("{link}|{a}"))
            })
            .collect();
        if !reported.is_empty() {
            return Some(reported);
        }
        let (by, dynamic) = if v6 {
            (LearnedBy::Slaac, AddressKind::AcceptRtadv)
        } else {
            (LearnedBy::Dhcp, AddressKind::Dhcp)
        };
        let mut changed = false;
        let mut entries = Vec::new();
        for address in configured {
            let nic = address.nic();
            let word = match address.kind() {
                AddressKind::Static(cidr) => {
                    entries.push(format!("{nic}|{cidr}"));
                    continue;
                }
                AddressKind::Dhcp => "dhcp",
                AddressKind::AcceptRtadv => "accept_rtadv",
            };
            if address.kind() == dynamic {
                let learned = self
                    .learned
                    .iter()
                    .filter(|(n, a)| n == nic && a.by == by && a.cidr.is_v6() == v6);
                for (_, a) in learned {
                    entries.push(format!("{nic}|{}", a.cidr));
                    changed = true;
                }
            }
            entries.push(format!("{nic}|{word}"));
        }
        changed.then_some(entries)
    }
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use ioc_sdk::Ip;

    use super::*;
    use crate::journal::Record;

    fn report(journal: &mut Journal, link: &str, last: u8) {
        journal
            .append(Record::Step {
                step: Step::Op(HostOp::ReportAddresses {
                    link: link.into(),
                    addresses: vec![Cidr::new(Ip::from(Ipv4Addr::new(10, 22, 0, last)), 16)].into(),
                }),
                undo: None,
            })
            .unwrap();
    }

    #[test]
    fn a_later_report_of_an_interface_replaces_the_earlier() {
        let mut journal = Journal::in_memory();
        report(&mut journal, "eth0", 5);
        report(&mut journal, "eth1", 9);
        report(&mut journal, "eth0", 6);
        let shown: Vec<String> = from_journal(&journal)
            .into_iter()
            .map(|(l, a)| format!("{l}|{}", a[0]))
            .collect();
        assert_eq!(shown, ["eth0|10.22.0.6/16", "eth1|10.22.0.9/16"]);
    }

    #[test]
    fn learned_addresses_go_in_front_of_their_dynamic_entry_and_reports_win() {
        use crate::config::syntax::{Ip4Addrs, Ip6Addrs, Syntax};
        let learned = |nic: &str, by, cidr: &str| {
            let (ip, prefix) = cidr.split_once('/').unwrap();
            let ip: std::net::IpAddr = ip.parse().unwrap();
            let address = LearnedAddress {
                by,
                cidr: Cidr::new(ip, prefix.parse().unwrap()),
                expires: None,
            };
            (nic.to_string(), address)
        };
        let observed = Observed {
            reported: Vec::new(),
            learned: vec![
                learned("vnet0", LearnedBy::Dhcp, "10.0.0.5/24"),
                learned("vnet1", LearnedBy::Dhcp, "10.1.0.5/24"),
                learned("vnet0", LearnedBy::Slaac, "2001:db8::1/64"),
            ],
        };
        let v4 = Ip4Addrs::parse("vnet0|dhcp,vnet2|192.0.2.1/24").unwrap();
        assert_eq!(
            observed.entries(&v4.entries, false).unwrap(),
            ["vnet0|10.0.0.5/24", "vnet0|dhcp", "vnet2|192.0.2.1/24"]
        );
        let v6 = Ip6Addrs::parse("vnet0|accept_rtadv").unwrap();
        assert_eq!(
            observed.entries(&v6.entries, true).unwrap(),
            ["vnet0|2001:db8::1/64", "vnet0|accept_rtadv"]
        );
        // Nothing learned for the configured NICs: the property as it is.
        let other = Ip4Addrs::parse("vnet3|dhcp").unwrap();
        assert_eq!(observed.entries(&other.entries, false), None);
        assert_eq!(Observed::default().entries(&v4.entries, false), None);
        let cni = Observed {
            reported: vec![(
                "eth0".into(),
                vec![Cidr::new(Ipv4Addr::new(10, 22, 0, 5), 16)],
            )],
            ..observed
        };
        assert_eq!(
            cni.entries(&v4.entries, false).unwrap(),
            ["eth0|10.22.0.5/16"]
        );
    }
}
