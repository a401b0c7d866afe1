//! The attachment's filter: ioc's Secure VNET per-port table, built by ioc's nftables backend
//! (`ioc_plugin_nftables::layout`, the code `ioc start` runs) and committed by ioc's netlink
//! (`Nfnetlink::commit`: one nfnetlink transaction, no ruleset dump), so its cost does not grow
//! with the number of containers. `CHECK` reads the table back and compares.

use std::net::IpAddr;

use ioc_core::host::linux::netlink::{Nfnetlink, NlError};
use ioc_plugin_nftables::layout::{self, ALLOWED4, ALLOWED6, FAMILY, FROM, TO};
use ioc_plugin_nftables::whitelist::Whitelist;
use ioc_sdk::nft::{NftBatch, NftCommand, NftExpr, NftRule, NftVerdict};
use ioc_sdk::{PortLearning, PortPolicy};

use crate::config::SecureConfig;
use crate::target::Target;

/// A table name no port has, asked for to see whether nf_tables answers at all.
const READY_PROBE: &str = "ioc-";

/// Why the filter cannot be installed, removed or checked.
#[derive(Debug, thiserror::Error)]
pub enum FilterError {
    /// The port's name cannot name a table.
    #[error(transparent)]
    Name(#[from] layout::BadPortName),
    /// The kernel refused or could not be asked.
    #[error("{0}")]
    Kernel(#[from] NlError),
    /// The installed filter is not what the attachment asks for; one line per difference.
    #[error("the filter of port {port} differs from what prevResult asks for: {}", .differences.join("; "))]
    Differs {
        /// The port.
        port: String,
        /// What differs.
        differences: Vec<String>,
    },
}

/// The whitelist of `target`: exactly ioc's Secure VNET policy for a port with static
/// addresses (no learning: CNI's IPAM hands out the addresses).
fn whitelist(target: &Target, config: &SecureConfig) -> Whitelist {
    let policy = PortPolicy::new(
        &config.network,
        0,
        "",
        &target.port,
        &target.bridge,
        target.mac,
        target.addresses.iter().copied(),
        None,
    )
    .with_learning(PortLearning {
        dhcp4: false,
        slaac: false,
        dhcp_server: config.dhcp_server,
    });
    Whitelist::new(&policy, None)
}

/// The transaction that installs the filter of `target` (replacing a table of that name when
/// `replace`).
pub fn batch(
    target: &Target,
    config: &SecureConfig,
    replace: bool,
) -> Result<NftBatch, FilterError> {
    let mut batch = layout::install(&target.port, &whitelist(target, config), replace)?;
    if let Some(prefix) = &config.log_prefix {
        log_drops(&mut batch, &layout::table(&target.port)?, prefix);
    }
    Ok(batch)
}

/// `logDropped`: every rule that drops logs first, and each chain ends with a rule that logs
/// what its policy is about to drop.
fn log_drops(batch: &mut NftBatch, table: &str, prefix: &str) {
    let log = || NftExpr::Log {
        prefix: Some(prefix.into()).into(),
        group: None.into(),
    };
    let mut last_rule = Vec::new();
    for (n, command) in batch.commands.iter_mut().enumerate() {
        if let NftCommand::AddRule { chain, exprs, .. } = command {
            if let Some(at) = exprs.iter().position(|e| {
                matches!(
                    e,
                    NftExpr::Verdict {
                        verdict: NftVerdict::Drop
                    }
                )
            }) {
                exprs.insert(at, log());
            }
            last_rule.retain(|(c, _): &(String, usize)| c != chain.as_str());
            last_rule.push((chain.to_string(), n));
        }
    }
    // Insert from the back, so earlier positions stay valid.
    last_rule.sort_by_key(|(_, n)| std::cmp::Reverse(*n));
    for (chain, n) in last_rule {
        let rule = NftRule::new().log(prefix);
        let mut tail = NftBatch::new();
        tail.add_rule(FAMILY, table, &chain, rule);
        batch.commands.insert(n + 1, tail.commands.remove(0));
    }
}

/// Installs the filter of `target`: one request asks whether a table of that name is left
/// over (from a crashed `ADD`, or a port name reused), then one transaction replaces or
/// creates it.
pub fn install(target: &Target, config: &SecureConfig) -> Result<(), FilterError> {
    let mut nf = Nfnetlink::open()?;
    let table = layout::table(&target.port)?;
    let leftover = nf.table_exists(FAMILY, &table)?;
    nf.commit(&batch(target, config, leftover)?)?;
    Ok(())
}

/// Removes the filter of `port` (absent is fine).
pub fn remove(port: &str) -> Result<(), FilterError> {
    let mut nf = Nfnetlink::open()?;
    nf.commit(&layout::remove(port)?)?;
    Ok(())
}

/// Whether nf_tables can be used: one request about a table that cannot exist.
pub fn ready() -> Result<(), NlError> {
    Nfnetlink::open()?
        .table_exists(FAMILY, READY_PROBE)
        .map(|_| ())
}

/// Compares the kernel's table of `target` with the one [`batch`] builds: the table and both
/// chains exist, the allowed sets hold exactly the expected addresses, and each chain has the
/// expected rules, compared by their expressions and the constants they test (so a deleted,
/// added or changed rule, and a rule for another MAC, are all differences).
pub fn check(target: &Target, config: &SecureConfig) -> Result<(), FilterError> {
    let mut nf = Nfnetlink::open()?;
    let table = layout::table(&target.port)?;
    let differs = |differences: Vec<String>| FilterError::Differs {
        port: target.port.clone(),
        differences,
    };
    if !nf.table_exists(FAMILY, &table)? {
        return Err(differs(vec![format!("table {FAMILY} {table} is missing")]));
    }
    let expected = batch(target, config, false)?;
    let mut differences = Vec::new();
    for chain in [FROM, TO] {
        if !nf.chain_exists(FAMILY, &table, chain)? {
            differences.push(format!("chain {chain} is missing"));
            continue;
        }
        let want = expected_rules(&expected, chain);
        let have = nf.chain_rules(FAMILY, &table, chain)?.unwrap_or_default();
        if have.len() != want.len() {
            differences.push(format!(
                "chain {chain} has {} rules, expected {}",
                have.len(),
                want.len()
            ));
        } else if let Some(n) = (0..want.len()).find(|&n| have[n].compared != want[n]) {
            differences.push(format!("rule {} of chain {chain} differs", n + 1));
        }
    }
    let w = whitelist(target, config);
    let sets: [(&str, Vec<IpAddr>); 2] = [
        (ALLOWED4, w.v4.iter().map(|a| IpAddr::V4(*a)).collect()),
        (ALLOWED6, w.v6.iter().map(|a| IpAddr::V6(*a)).collect()),
    ];
    for (set, want) in sets {
        match nf.set_elements(FAMILY, &table, set)? {
            None => differences.push(format!("set {set} is missing")),
            Some(keys) => {
                let mut have: Vec<IpAddr> = keys.iter().filter_map(|k| ip(k)).collect();
                let mut want = want;
                have.sort();
                want.sort();
                if have != want {
                    differences.push(format!(
                        "set {set} holds [{}], expected [{}]",
                        list(&have),
                        list(&want)
                    ));
                }
            }
        }
    }
    if differences.is_empty() {
        Ok(())
    } else {
        Err(differs(differences))
    }
}

/// The constants each rule of `chain` compares, in order (what the kernel reports as the data
/// of its `cmp` expressions).
fn expected_rules(batch: &NftBatch, chain: &str) -> Vec<Vec<Vec<u8>>> {
    batch
        .commands
        .iter()
        .filter_map(|c| match c {
            NftCommand::AddRule {
                chain: name, exprs, ..
            } if name.as_str() == chain => Some(
                exprs
                    .iter()
                    .filter_map(|e| match e {
                        NftExpr::Cmp { data, .. } => Some(data.to_vec()),
                        _ => None,
                    })
                    .collect(),
            ),
            _ => None,
        })
        .collect()
}

fn ip(key: &[u8]) -> Option<IpAddr> {
    match key.len() {
        4 => Some(IpAddr::from(<[u8; 4]>::try_from(key).ok()?)),
        16 => Some(IpAddr::from(<[u8; 16]>::try_from(key).ok()?)),
        _ => None,
    }
}

fn list(addresses: &[IpAddr]) -> String {
    addresses
        .iter()
        .map(IpAddr::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn target() -> Target {
        Target {
            port: "veth0123abcd".into(),
            bridge: "cni0".into(),
            mac: "02:00:00:00:00:05".parse().unwrap(),
            addresses: vec!["10.22.0.5".parse().unwrap(), "fd00:22::5".parse().unwrap()],
        }
    }

    fn config(log: Option<&str>) -> SecureConfig {
        SecureConfig {
            network: "jails".into(),
            allowed: Vec::new(),
            dhcp_server: false,
            log_prefix: log.map(String::from),
            state_dir: PathBuf::from("/run/ioc-secure"),
        }
    }

    fn rules(batch: &NftBatch) -> Vec<(String, Vec<NftExpr>)> {
        batch
            .commands
            .iter()
            .filter_map(|c| match c {
                NftCommand::AddRule { chain, exprs, .. } => {
                    Some((chain.to_string(), exprs.to_vec()))
                }
                _ => None,
            })
            .collect()
    }

    #[test]
    fn the_batch_is_the_nftables_backends_and_log_dropped_logs_every_drop() {
        let plain = batch(&target(), &config(None), false).unwrap();
        let ioc =
            layout::install("veth0123abcd", &whitelist(&target(), &config(None)), false).unwrap();
        assert_eq!(plain, ioc);
        let first_rule = &rules(&plain)[0].1;
        assert!(first_rule.contains(&NftExpr::Cmp {
            op: ioc_sdk::nft::NftCmpOp::Neq,
            data: vec![2, 0, 0, 0, 0, 5].into(),
        }));

        let logged = batch(&target(), &config(Some("drop: ")), false).unwrap();
        let (before, after) = (rules(&plain), rules(&logged));
        assert_eq!(
            after.len(),
            before.len() + 2,
            "one closing log rule per chain"
        );
        let is_log = |e: &NftExpr| matches!(e, NftExpr::Log { prefix, .. } if prefix.is_some());
        let is_drop = |e: &NftExpr| {
            matches!(
                e,
                NftExpr::Verdict {
                    verdict: NftVerdict::Drop
                }
            )
        };
        for (_, exprs) in &after {
            if let Some(at) = exprs.iter().position(is_drop) {
                assert!(at > 0 && is_log(&exprs[at - 1]), "{exprs:?}");
            }
        }
        for chain in [FROM, TO] {
            let last = after.iter().rfind(|(c, _)| c == chain).unwrap();
            assert!(last.1.len() == 1 && is_log(&last.1[0]), "{chain}: {last:?}");
        }
        assert_eq!(
            expected_rules(&logged, FROM).len(),
            expected_rules(&plain, FROM).len() + 1
        );
    }
}
