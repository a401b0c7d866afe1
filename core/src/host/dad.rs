//! Waiting out IPv6 duplicate address detection (DAD) on addresses ioc adds to host
//! interfaces (shared-IP aliases), on every platform.
//!
//! Such an address is tentative for one to two seconds after it is added (Linux waits a random
//! delay of up to `rtr_solicit_delay`, then sends `dad_transmits` probes `retrans_time_ms`
//! apart; FreeBSD sends `net.inet6.ip6.dad_count` probes a second apart). Meanwhile nothing can
//! bind it, so a service that `exec_start` starts on it would fail, a well-known trap of
//! shared-IP jails. DAD may also find the address in use by another node, which no check before
//! the start can see. So a start waits, for all of a jail's aliases at once, before its
//! `exec_start`. A Linux VNET jail's own addresses need no wait: they are optimistic.

use std::collections::HashMap;
use std::net::IpAddr;
use std::thread::sleep;
use std::time::{Duration, Instant};

use ioc_sdk::{HostError, HostErrorKind};

/// How long a start waits for DAD at most. Default settings finish within two seconds; a link
/// without carrier never finishes DAD, and its jail should still start.
pub const DAD_WAIT: Duration = Duration::from_secs(5);

/// How often the addresses are read while waiting.
const POLL: Duration = Duration::from_millis(25);

/// Where an address stands in IPv6 duplicate address detection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dad {
    /// Detection is over (or never ran): the address is in service.
    Done,
    /// Detection runs; the address can be neither bound nor reached yet.
    Tentative,
    /// Detection runs, but the address is optimistic (RFC 4429): usable meanwhile.
    Optimistic,
    /// Another node on the link has the address; the kernel will not use it.
    Failed,
}

impl Dad {
    /// Whether a program can bind the address now.
    pub fn usable(self) -> bool {
        matches!(self, Dad::Done | Dad::Optimistic)
    }
}

/// An IPv6 address ioc added to a host interface, still to pass DAD.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingDad {
    pub iface: String,
    pub addr: IpAddr,
}

/// The IPv6 aliases a host added for each jail during this command, until its start waits.
#[derive(Debug, Default)]
pub struct DadWatch {
    pending: HashMap<String, Vec<PendingDad>>,
}

impl DadWatch {
    /// Notes an address added for `jail` (IPv4 needs no wait and is ignored).
    pub fn added(&mut self, jail: &str, iface: &str, addr: IpAddr) {
        if addr.is_ipv6() {
            self.pending
                .entry(jail.to_string())
                .or_default()
                .push(PendingDad {
                    iface: iface.to_string(),
                    addr,
                });
        }
    }

    /// The addresses still to wait for, taken out.
    pub fn take(&mut self, jail: &str) -> Vec<PendingDad> {
        self.pending.remove(jail).unwrap_or_default()
    }
}

/// Waits until every pending address is usable, one has failed DAD (an error naming it), or
/// `timeout` passed (a warning for each still tentative). `read` gives the state of each
/// pending address, in order (`None`: gone, which stop and rollback handle).
pub fn settle(
    jail: &str,
    pending: Vec<PendingDad>,
    timeout: Duration,
    mut read: impl FnMut(&[PendingDad]) -> Result<Vec<Option<Dad>>, HostError>,
) -> Result<(), HostError> {
    let deadline = Instant::now() + timeout;
    let mut waiting = pending;
    while !waiting.is_empty() {
        let states = read(&waiting)?;
        let mut still = Vec::new();
        for (address, state) in waiting.into_iter().zip(states) {
            match state {
                Some(Dad::Failed) => return Err(duplicate(&address)),
                Some(Dad::Tentative) => still.push(address),
                Some(Dad::Done | Dad::Optimistic) | None => {}
            }
        }
        if !still.is_empty() && Instant::now() >= deadline {
            for address in still {
                tracing::warn!(
                    jail,
                    "{} on {} is still in IPv6 duplicate address detection after {} s \
                     (no carrier?); services cannot bind it until that ends",
                    address.addr,
                    address.iface,
                    timeout.as_secs()
                );
            }
            return Ok(());
        }
        waiting = still;
        if !waiting.is_empty() {
            sleep(POLL);
        }
    }
    Ok(())
}

/// Another node on the link holds the address.
fn duplicate(address: &PendingDad) -> HostError {
    HostError::new(
        HostErrorKind::AlreadyExists,
        format!(
            "address {} on {} is already in use on the network (IPv6 duplicate address detection failed)",
            address.addr, address.iface
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pending(addr: &str) -> PendingDad {
        PendingDad {
            iface: "em0".into(),
            addr: addr.parse().unwrap(),
        }
    }

    #[test]
    fn only_ipv6_aliases_are_watched_per_jail() {
        let mut watch = DadWatch::default();
        watch.added("a", "em0", "10.1.1.10".parse().unwrap());
        watch.added("a", "em0", "fd00:10::10".parse().unwrap());
        assert_eq!(watch.take("a"), [pending("fd00:10::10")]);
        assert_eq!(watch.take("a"), []);
        assert_eq!(watch.take("b"), []);
    }

    #[test]
    fn waits_until_usable_and_names_a_duplicate() {
        let mut reads = 0;
        settle(
            "a",
            vec![pending("fd00:10::10")],
            DAD_WAIT,
            |_: &[PendingDad]| {
                reads += 1;
                Ok(vec![Some(if reads < 3 {
                    Dad::Tentative
                } else {
                    Dad::Done
                })])
            },
        )
        .unwrap();
        assert_eq!(reads, 3);

        let e = settle(
            "a",
            vec![pending("fd00:10::10")],
            DAD_WAIT,
            |_: &[PendingDad]| Ok(vec![Some(Dad::Failed)]),
        )
        .unwrap_err();
        assert_eq!(e.kind, HostErrorKind::AlreadyExists);
        assert_eq!(
            e.message,
            "address fd00:10::10 on em0 is already in use on the network (IPv6 duplicate address detection failed)"
        );
    }

    #[test]
    fn gives_up_after_the_timeout_without_failing() {
        let mut reads = 0;
        settle(
            "a",
            vec![pending("fd00:10::10")],
            Duration::ZERO,
            |_: &[PendingDad]| {
                reads += 1;
                Ok(vec![Some(Dad::Tentative)])
            },
        )
        .unwrap();
        assert_eq!(reads, 1);
    }
}
