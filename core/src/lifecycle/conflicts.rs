//! Addresses a jail may not take: those of running jails and of other jails starting with it.

use std::collections::BTreeMap;
use std::net::IpAddr;

use ioc_sdk::Network;

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

/// Who holds which address.
#[derive(Default)]
pub struct AddressBook {
    owners: BTreeMap<IpAddr, (String, bool)>,
}

impl AddressBook {
    /// Records the addresses of a jail; `running` says whether it already runs (for messages).
    pub fn add(&mut self, jail: &str, network: &Network, running: bool) {
        for (ip, _) in static_addresses(network) {
            self.owners
                .entry(ip)
                .or_insert_with(|| (jail.to_string(), running));
        }
    }

    /// The first address of `network` someone else holds, as an error message.
    pub fn conflict(&self, jail: &str, network: &Network) -> Option<String> {
        static_addresses(network)
            .into_iter()
            .find_map(|(ip, prop)| {
                let (owner, running) = self.owners.get(&ip)?;
                (owner != jail).then(|| {
                    let whose = if *running {
                        format!("running jail '{owner}'")
                    } else {
                        format!("jail '{owner}', which is starting too")
                    };
                    format!("property '{prop}': address {ip} is already used by {whose}")
                })
            })
    }
}
