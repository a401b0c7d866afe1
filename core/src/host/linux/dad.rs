//! Waiting out IPv6 duplicate address detection (DAD) on addresses ioc adds to host
//! interfaces (shared-IP aliases).
//!
//! Such an address is tentative for one to two seconds after it is added: the kernel waits a
//! random delay of up to `rtr_solicit_delay`, then sends `dad_transmits` probes
//! `retrans_time_ms` apart. Meanwhile nothing can bind it, so a service that `exec_start`
//! starts on it would fail. DAD may also find the address in use by another node, which no
//! check before the start can see. So a start waits, for all of a jail's aliases at once,
//! before its `exec_start`. A VNET jail's own addresses need no wait: they are optimistic.

use std::net::IpAddr;
use std::thread::sleep;
use std::time::{Duration, Instant};

use super::netlink::{Dad, Netlink, NlError};

/// How long a start waits for DAD at most. Default settings finish within two seconds; a link
/// without carrier never starts DAD, and its jail should still start.
pub const DAD_WAIT: Duration = Duration::from_secs(5);

/// How often the addresses are read while waiting.
const POLL: Duration = Duration::from_millis(25);

/// An IPv6 address ioc added to a host interface, still to pass DAD.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingDad {
    pub iface: String,
    pub index: u32,
    pub addr: IpAddr,
}

/// How the wait ended, when no address failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Settled {
    /// Every address can be bound (or is gone, which stop and rollback handle).
    Usable,
    /// These were still tentative when the wait ended.
    StillTentative(Vec<PendingDad>),
}

/// Another node on the link holds the address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DuplicateAddress(pub PendingDad);

impl std::fmt::Display for DuplicateAddress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "address {} on {} is already in use on the network (IPv6 duplicate address detection failed)",
            self.0.addr, self.0.iface
        )
    }
}

/// Why waiting failed: netlink, or a duplicate address.
#[derive(Debug)]
pub enum DadError {
    Netlink(NlError),
    Duplicate(DuplicateAddress),
}

/// Waits until every pending address is usable, one has failed DAD, or `timeout` passed.
pub fn wait_usable(
    nl: &mut Netlink,
    pending: Vec<PendingDad>,
    timeout: Duration,
) -> Result<Settled, DadError> {
    let deadline = Instant::now() + timeout;
    let mut waiting = pending;
    loop {
        let listed = nl.addresses(None).map_err(DadError::Netlink)?;
        let mut still = Vec::new();
        for address in waiting {
            let state = listed
                .iter()
                .find(|a| a.index == address.index && a.addr == address.addr)
                .map(|a| a.dad);
            match state {
                Some(Dad::Failed) => return Err(DadError::Duplicate(DuplicateAddress(address))),
                Some(Dad::Tentative) => still.push(address),
                Some(Dad::Done | Dad::Optimistic) | None => {}
            }
        }
        if still.is_empty() {
            return Ok(Settled::Usable);
        }
        if Instant::now() >= deadline {
            return Ok(Settled::StillTentative(still));
        }
        waiting = still;
        sleep(POLL);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_duplicate_names_address_and_interface() {
        let e = DuplicateAddress(PendingDad {
            iface: "em0".into(),
            index: 2,
            addr: "fd00:10::10".parse().unwrap(),
        });
        assert_eq!(
            e.to_string(),
            "address fd00:10::10 on em0 is already in use on the network (IPv6 duplicate address detection failed)"
        );
    }
}
