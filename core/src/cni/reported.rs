//! The addresses modes report for a running jail ([`ioc_sdk::HostOp::ReportAddresses`]): a CNI
//! result's (later DHCP leases). They live in the jail's journal, so they go when it stops;
//! `ioc list` and `ioc get ip4_addr`/`ip6_addr` show them in place of the `dhcp`/`none` of the
//! jail's properties.

use ioc_sdk::{Cidr, HostOp};

use crate::journal::Journal;
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

/// The `ip4_addr` (or, with `v6`, `ip6_addr`) entries (`eth0|10.22.0.5/16`) a running jail's
/// modes reported; `None` when the jail is not running or nothing of that family was reported,
/// so the jail's property is shown instead.
pub fn entries(run: &RunDir, name: &str, v6: bool) -> Option<Vec<String>> {
    if !matches!(run.state(name), JailState::Running { .. }) {
        return None;
    }
    let journal = Journal::read(&run.journal_path(name)).ok().flatten()?;
    let entries: Vec<String> = from_journal(&journal)
        .into_iter()
        .flat_map(|(link, addresses)| {
            addresses
                .into_iter()
                .filter(|a| a.is_v6() == v6)
                .map(move |a| format!("{link}|{a}"))
        })
        .collect();
    (!entries.is_empty()).then_some(entries)
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
}
