//! What the learner believes the sets hold, and the element changes each event needs.
//!
//! The kernel expires elements itself; this only remembers what was added and until when, to
//! know what to replace: a renewal or a new lease deletes the old element and adds the new one
//! in the same batch (the kernel would keep an existing element's old timeout otherwise), a NAK
//! or RELEASE deletes it. A delete of something the kernel expired meanwhile fails the batch;
//! the caller then sends the additions alone ([`additions_only`]).

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::{Duration, Instant, SystemTime};

use ioc_sdk::Cidr;

use super::dhcp::DhcpEvent;
use super::ra::SlaacAddress;
use super::record::{LearnedAddress, LearnedBy};
use super::Sink;
use crate::host::linux::netlink::{ElementChange, SetElements};

/// When an element goes away: `None` never.
type Expiry = Option<Instant>;

/// The learned addresses of one port.
#[derive(Default)]
pub struct Learned {
    lease: Option<(Ipv4Addr, Expiry)>,
    /// The prefix length the lease's server gave (its subnet mask), if any.
    lease_prefix: Option<u8>,
    slaac: HashMap<Ipv6Addr, Expiry>,
}

/// The prefix length shown for a lease whose server sent no subnet mask: the address alone.
const HOST_PREFIX4: u8 = 32;
/// The prefix length of a SLAAC address: an EUI-64 interface identifier fills the other half.
const SLAAC_PREFIX: u8 = 64;

impl Learned {
    /// The changes a DHCP event makes to the IPv4 set.
    pub fn dhcp(&mut self, sink: &Sink, event: &DhcpEvent, now: Instant) -> Vec<SetElements> {
        let mut changes = Vec::new();
        let current = self.lease.take().filter(|(_, e)| alive(*e, now));
        match event {
            DhcpEvent::Ack {
                address,
                lease,
                prefix,
                ..
            } if *lease != Some(Duration::ZERO) => {
                if let Some((old, _)) = current.filter(|(old, _)| old != address) {
                    changes.push(sink.change4(ElementChange::Delete, old, None));
                }
                // The kernel added the address itself when the ACK passed, with a provisional
                // lifetime, and an add keeps an existing element's timeout: delete it first.
                changes.push(sink.change4(ElementChange::Delete, *address, None));
                changes.push(sink.change4(ElementChange::Add, *address, *lease));
                self.lease = Some((*address, lease.map(|l| now + l)));
                self.lease_prefix = *prefix;
            }
            DhcpEvent::Release { address } if current.is_some_and(|(a, _)| a != *address) => {
                self.lease = current;
            }
            _ => {
                if let Some((old, _)) = current {
                    changes.push(sink.change4(ElementChange::Delete, old, None));
                }
            }
        }
        changes
    }

    /// The changes an RA's addresses make to the IPv6 set.
    pub fn slaac(
        &mut self,
        sink: &Sink,
        addresses: &[SlaacAddress],
        now: Instant,
    ) -> Vec<SetElements> {
        let mut changes = Vec::new();
        for SlaacAddress { address, valid } in addresses {
            if self.slaac.remove(address).is_some_and(|e| alive(e, now)) {
                changes.push(sink.change6(ElementChange::Delete, *address));
            }
            if *valid != Some(Duration::ZERO) {
                changes.push(sink.add6(*address, *valid));
                self.slaac.insert(*address, valid.map(|v| now + v));
            }
        }
        changes
    }
}

impl Learned {
    /// What the port may use at `now`, for the jail's record ([`record`](super::record)):
    /// ends of life move from the monotonic clock to `wall`, the wall clock at `now`.
    pub fn allowed(&self, now: Instant, wall: SystemTime) -> Vec<LearnedAddress> {
        let wall_at = |e: Expiry| e.map(|e| wall + e.saturating_duration_since(now));
        let lease = self.lease.filter(|(_, e)| alive(*e, now));
        let lease = lease.map(|(address, e)| LearnedAddress {
            by: LearnedBy::Dhcp,
            cidr: Cidr::new(address, self.lease_prefix.unwrap_or(HOST_PREFIX4)),
            expires: wall_at(e),
        });
        let mut slaac: Vec<(Ipv6Addr, Expiry)> = self
            .slaac
            .iter()
            .map(|(a, e)| (*a, *e))
            .filter(|(_, e)| alive(*e, now))
            .collect();
        slaac.sort();
        lease
            .into_iter()
            .chain(slaac.into_iter().map(|(address, e)| LearnedAddress {
                by: LearnedBy::Slaac,
                cidr: Cidr::new(address, SLAAC_PREFIX),
                expires: wall_at(e),
            }))
            .collect()
    }
}

fn alive(expiry: Expiry, now: Instant) -> bool {
    expiry.is_none_or(|e| e > now)
}

/// The same changes without the deletions (see the module documentation).
pub fn additions_only(changes: &[SetElements]) -> Vec<SetElements> {
    changes
        .iter()
        .filter(|c| c.change == ElementChange::Add)
        .cloned()
        .collect()
}

impl Sink {
    fn change4(
        &self,
        change: ElementChange,
        address: Ipv4Addr,
        timeout: Option<Duration>,
    ) -> SetElements {
        self.change(&self.set4, change, IpAddr::V4(address), timeout)
    }

    fn change6(&self, change: ElementChange, address: Ipv6Addr) -> SetElements {
        self.change(&self.set6, change, IpAddr::V6(address), None)
    }

    fn add6(&self, address: Ipv6Addr, timeout: Option<Duration>) -> SetElements {
        self.change(&self.set6, ElementChange::Add, IpAddr::V6(address), timeout)
    }

    fn change(
        &self,
        set: &str,
        change: ElementChange,
        address: IpAddr,
        timeout: Option<Duration>,
    ) -> SetElements {
        SetElements {
            family: self.family,
            table: self.table.clone(),
            set: set.to_string(),
            change,
            elements: vec![(address, timeout)],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ioc_sdk::NftFamily;

    fn sink() -> Sink {
        Sink {
            family: NftFamily::Netdev,
            table: "ioc-p".into(),
            set4: "lease4".into(),
            set6: "slaac6".into(),
        }
    }

    fn ack(address: &str, seconds: u64) -> DhcpEvent {
        DhcpEvent::Ack {
            address: address.parse().unwrap(),
            lease: Some(Duration::from_secs(seconds)),
            server: None,
            prefix: None,
        }
    }

    fn summary(changes: &[SetElements]) -> Vec<(ElementChange, String)> {
        changes
            .iter()
            .map(|c| (c.change, c.elements[0].0.to_string()))
            .collect()
    }

    #[test]
    fn a_lease_is_added_renewed_replaced_and_dropped() {
        use ElementChange::*;
        let (s, now) = (sink(), Instant::now());
        let mut learned = Learned::default();
        // The kernel's provisional element goes, the lease's own lifetime comes.
        let first = learned.dhcp(&s, &ack("192.0.2.5", 60), now);
        assert_eq!(
            summary(&first),
            [(Delete, "192.0.2.5".into()), (Add, "192.0.2.5".into())]
        );
        assert_eq!(first[1].elements[0].1, Some(Duration::from_secs(60)));
        let renew = learned.dhcp(&s, &ack("192.0.2.5", 60), now);
        assert_eq!(
            summary(&renew),
            [(Delete, "192.0.2.5".into()), (Add, "192.0.2.5".into())]
        );
        assert_eq!(
            summary(&additions_only(&renew)),
            [(Add, "192.0.2.5".into())]
        );
        let moved = learned.dhcp(&s, &ack("192.0.2.6", 60), now);
        assert_eq!(
            summary(&moved),
            [
                (Delete, "192.0.2.5".into()),
                (Delete, "192.0.2.6".into()),
                (Add, "192.0.2.6".into())
            ]
        );
        let other = DhcpEvent::Release {
            address: "192.0.2.5".parse().unwrap(),
        };
        assert!(learned.dhcp(&s, &other, now).is_empty());
        assert_eq!(
            summary(&learned.dhcp(&s, &DhcpEvent::Nak, now)),
            [(Delete, "192.0.2.6".into())]
        );
        assert!(learned.dhcp(&s, &DhcpEvent::Nak, now).is_empty());
        // An expired lease is the kernel's to remove: nothing to delete.
        learned.dhcp(&s, &ack("192.0.2.7", 1), now);
        let later = now + Duration::from_secs(2);
        assert_eq!(
            summary(&learned.dhcp(&s, &ack("192.0.2.8", 1), later)),
            [(Delete, "192.0.2.8".into()), (Add, "192.0.2.8".into())]
        );
    }

    #[test]
    fn slaac_addresses_are_refreshed_and_withdrawn() {
        use ElementChange::*;
        let (s, now) = (sink(), Instant::now());
        let mut learned = Learned::default();
        let a = SlaacAddress {
            address: "2001:db8::1".parse().unwrap(),
            valid: Some(Duration::from_secs(600)),
        };
        assert_eq!(
            summary(&learned.slaac(&s, std::slice::from_ref(&a), now)),
            [(Add, "2001:db8::1".into())]
        );
        assert_eq!(
            summary(&learned.slaac(&s, std::slice::from_ref(&a), now)),
            [(Delete, "2001:db8::1".into()), (Add, "2001:db8::1".into())]
        );
        let gone = SlaacAddress {
            valid: Some(Duration::ZERO),
            ..a
        };
        assert_eq!(
            summary(&learned.slaac(&s, std::slice::from_ref(&gone), now)),
            [(Delete, "2001:db8::1".into())]
        );
        assert!(learned.slaac(&s, &[gone], now).is_empty());
    }

    #[test]
    fn what_is_allowed_is_recorded_with_wall_clock_ends() {
        let (s, now, wall) = (sink(), Instant::now(), SystemTime::UNIX_EPOCH);
        let mut learned = Learned::default();
        assert!(learned.allowed(now, wall).is_empty());
        let masked = DhcpEvent::Ack {
            address: "192.0.2.5".parse().unwrap(),
            lease: Some(Duration::from_secs(60)),
            server: None,
            prefix: Some(24),
        };
        learned.dhcp(&s, &masked, now);
        let a = SlaacAddress {
            address: "2001:db8::1".parse().unwrap(),
            valid: None,
        };
        learned.slaac(&s, &[a], now);
        let shown: Vec<String> = crate::learner::record::format(&learned.allowed(now, wall))
            .lines()
            .map(String::from)
            .collect();
        assert_eq!(shown, ["dhcp 192.0.2.5/24 60", "slaac 2001:db8::1/64 -"]);
        // Past its end, and after a release, the lease is no longer allowed.
        assert_eq!(
            learned.allowed(now + Duration::from_secs(61), wall).len(),
            1
        );
        let release = DhcpEvent::Release {
            address: "192.0.2.5".parse().unwrap(),
        };
        learned.dhcp(&s, &release, now);
        assert_eq!(learned.allowed(now, wall).len(), 1);
    }
}
