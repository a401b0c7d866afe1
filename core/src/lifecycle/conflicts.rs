//! Addresses a jail may not take: those of running jails and of other jails starting with it.

use std::collections::BTreeMap;
use std::net::IpAddr;

use ioc_sdk::Network;

use super::error::{Failure, Holder};
use crate::runtime::RunDir;

/// The static addresses of a jail's network, each with the property it came from.
pub fn static_addresses(network: &Network) -> Vec<(IpAddr, &'static str)> {
    let v4 = network
        .ip4()
        .iter()
        .filter_map(|a| a.cidr())
        .map(|c| (c.ip(), "ip4_addr"));
    let v6 = network
        .ip6()
        .iter()
        .filter_map(|a| a.cidr())
        .map(|c| (c.ip(), "ip6_addr"));
    v4.chain(v6).collect()
}

/// Who holds which address: running jails (through the run dir's claims) and the jails of
/// this same start.
pub struct AddressBook<'r> {
    run: &'r RunDir,
    starting: BTreeMap<IpAddr, String>,
}

impl<'r> AddressBook<'r> {
    pub fn new(run: &'r RunDir) -> AddressBook<'r> {
        AddressBook {
            run,
            starting: BTreeMap::new(),
        }
    }

    /// Records the addresses of a jail that starts with the others.
    pub fn add(&mut self, jail: &str, network: &Network) {
        for (ip, _) in static_addresses(network) {
            self.starting.entry(ip).or_insert_with(|| jail.to_string());
        }
    }

    /// The first address of `network` someone else holds.
    pub fn conflict(&self, jail: &str, network: &Network) -> Option<Failure> {
        static_addresses(network)
            .into_iter()
            .find_map(|(address, property)| {
                let holder = match self.run.address_owner(address) {
                    Some(owner) if owner != jail => Holder::Running(owner),
                    _ => match self.starting.get(&address) {
                        Some(owner) if owner != jail => Holder::Starting(owner.clone()),
                        _ => return None,
                    },
                };
                Some(Failure::AddressInUse {
                    property,
                    address,
                    holder,
                })
            })
    }
}
