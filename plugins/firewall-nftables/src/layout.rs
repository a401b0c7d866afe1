//! One port's table: its names, and the batches that create and delete it.

use ioc_sdk::nft::{
    NftBatch, NftElement, NftHook, NftHookKind, NftKeyType, NftPolicy, NftRule, NftSetFlags,
};
use ioc_sdk::{LearnSink, NftFamily};

use crate::whitelist::Whitelist;
use crate::{from_jail, to_jail};

/// The family of every table ioc makes: hooks on one device, no other port's traffic.
pub const FAMILY: NftFamily = NftFamily::Netdev;
/// The chain on the port's ingress hook: frames from the jail.
pub const FROM: &str = "from";
/// The chain on the port's egress hook: frames toward the jail.
pub const TO: &str = "to";
/// The jail's static IPv4 addresses.
pub const ALLOWED4: &str = "allowed4";
/// The jail's static IPv6 addresses and its EUI-64 link-local address.
pub const ALLOWED6: &str = "allowed6";
/// Its DHCP lease, kept by the learner for the lease's lifetime.
pub const LEASE4: &str = "lease4";
/// Its SLAAC addresses, kept by the learner for each prefix's valid lifetime.
pub const SLAAC6: &str = "slaac6";
/// Every table ioc makes is named this, then the port (`ioc-vnet0.5`).
pub const TABLE_PREFIX: &str = "ioc-";

/// A port name that cannot name an nftables table or hook device.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("port name {0:?} cannot be used in an nftables table name (expected at most 15 letters, digits, '.', '-' or '_')")]
pub struct BadPortName(pub String);

/// The table of `port`, `ioc-<port>`. Only the characters of ioc's own link names are
/// accepted: the name goes into the rendered `nft -f` text unquoted, where anything else could
/// change its meaning.
pub fn table(port: &str) -> Result<String, BadPortName> {
    let ok = !port.is_empty()
        && port.len() <= 15
        && port
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'));
    if ok {
        Ok(format!("{TABLE_PREFIX}{port}"))
    } else {
        Err(BadPortName(port.to_string()))
    }
}

/// Where the port's learner keeps what it learns: `lease4` and `slaac6` of the port's table.
pub fn learn_sink(table: &str) -> LearnSink {
    LearnSink::NftSets {
        family: FAMILY,
        table: table.into(),
        set4: LEASE4.into(),
        set6: SLAAC6.into(),
    }
}

/// The whole filter of `port`, as one transaction: the table with the sets its rules use, its two base
/// chains (policy drop) and their rules. The hooks only see the finished table: the kernel
/// commits the transaction at once or not at all.
///
/// Without `replace` the table is created exclusively: where one of that name exists (only a
/// crashed start can have left one, with leases that are no longer valid) the transaction
/// fails with `AlreadyExists` and changes nothing. With `replace`, that table is deleted
/// first, in the same transaction. Only then: a deletion makes the kernel free the old objects
/// after an RCU grace period, and the `ioc` process would sit that out when it closes its
/// netfilter socket (several milliseconds per start).
pub fn install(port: &str, w: &Whitelist, replace: bool) -> Result<NftBatch, BadPortName> {
    let table = table(port)?;
    let mut batch = NftBatch::new();
    if replace {
        batch.delete_table(FAMILY, &table);
        batch.add_table(FAMILY, &table);
    } else {
        batch.create_table(FAMILY, &table);
    }
    for (name, key, flags, elements) in sets(w) {
        batch.add_set(FAMILY, &table, name, key, flags, elements);
    }
    let chains: [(&str, NftHookKind, Vec<NftRule>); 2] = [
        (FROM, NftHookKind::Ingress, from_jail::rules(w)),
        (TO, NftHookKind::Egress, to_jail::rules(w)),
    ];
    for (chain, kind, rules) in chains {
        let hook = NftHook::device(kind, port, NftPolicy::Drop);
        batch.add_chain(FAMILY, &table, chain, Some(hook));
        for rule in rules {
            batch.add_rule(FAMILY, &table, chain, rule);
        }
    }
    Ok(batch)
}

/// The sets the rules of `w` look up, with their initial elements: only those. Each set costs
/// the commit a message or two, and every message of a transaction looks the port's table up
/// by name among all the tables of the host (one more walk per message with every jail).
fn sets(w: &Whitelist) -> Vec<(&'static str, NftKeyType, NftSetFlags, Vec<NftElement>)> {
    let timeout = NftSetFlags::with_timeout();
    let mut sets = Vec::new();
    if w.ipv4() {
        let flags = NftSetFlags::default();
        sets.push((ALLOWED4, NftKeyType::Ipv4Addr, flags, elements(&w.v4)));
    }
    if w.ipv6() {
        let flags = NftSetFlags::default();
        sets.push((ALLOWED6, NftKeyType::Ipv6Addr, flags, elements(&w.v6)));
    }
    if w.learning.dhcp4 {
        sets.push((LEASE4, NftKeyType::Ipv4Addr, timeout, Vec::new()));
    }
    if w.learning.slaac {
        sets.push((SLAAC6, NftKeyType::Ipv6Addr, timeout, Vec::new()));
    }
    sets
}

/// The removal of `port`'s filter: its table, with everything in it. Absent is fine, so a
/// removal after a failed or partial start, or a second one, succeeds.
pub fn remove(port: &str) -> Result<NftBatch, BadPortName> {
    let table = table(port)?;
    let mut batch = NftBatch::new();
    batch.delete_table(FAMILY, &table);
    Ok(batch)
}

fn elements<A: Copy + Into<std::net::IpAddr>>(addresses: &[A]) -> Vec<NftElement> {
    addresses
        .iter()
        .map(|a| NftElement::ip((*a).into()))
        .collect()
}
