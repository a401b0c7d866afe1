//! What a learner whose tables have no timeouts (ipfw, pf) has added, until when, and the
//! table changes each event or the passing of time makes.
//!
//! nftables sets expire their elements themselves (`state.rs`); ipfw and pf tables keep an
//! address until someone deletes it. So this remembers each address's end of life, finds the
//! next one with a min-heap, and gives back what is due: the learner sleeps until then.
//! Heap entries are never removed in place: a renewal pushes a new entry, and an entry that no
//! longer matches its address's current end of life is skipped when it comes up.
//!
//! The rules are those of the Linux learner: a DHCP ACK grants its address for its lease time
//! (replacing the previous lease), a NAK drops the lease, a RELEASE drops it when it names the
//! leased address; each RA prefix grants the jail's EUI-64 address for its valid lifetime, a
//! zero lifetime withdraws it. An address already in the table is never added again (ipfw
//! refuses a duplicate), only its end of life moves.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

use super::dhcp::DhcpEvent;
use super::ra::SlaacAddress;
use crate::render::freebsd::learn::TableChange;

/// When an address goes: `None` never.
type Expiry = Option<Instant>;

/// One change to a table: the table is the address's family's.
pub type Change = (TableChange, IpAddr);

/// The learned addresses of one port, and when each expires.
#[derive(Default, Debug)]
pub struct Leases {
    /// The DHCP lease (one per port: a new one replaces it).
    lease4: Option<Ipv4Addr>,
    /// Every address in the tables, with its end of life.
    added: HashMap<IpAddr, Expiry>,
    /// End of life of each address, earliest first; stale entries are skipped.
    heap: BinaryHeap<Reverse<(Instant, IpAddr)>>,
}

impl Leases {
    /// The changes a DHCP event makes.
    pub fn dhcp(&mut self, event: &DhcpEvent, now: Instant) -> Vec<Change> {
        let mut changes = self.expire(now);
        match event {
            DhcpEvent::Ack { address, lease, .. } if *lease != Some(Duration::ZERO) => {
                let address = *address;
                if let Some(old) = self.lease4.filter(|old| *old != address) {
                    changes.extend(self.remove(IpAddr::V4(old)));
                }
                changes.extend(self.grant(IpAddr::V4(address), *lease, now));
                self.lease4 = Some(address);
            }
            DhcpEvent::Release { address } if self.lease4.is_some_and(|a| a != *address) => {}
            _ => {
                if let Some(old) = self.lease4.take() {
                    changes.extend(self.remove(IpAddr::V4(old)));
                }
            }
        }
        changes
    }

    /// The changes an RA's addresses make.
    pub fn slaac(&mut self, addresses: &[SlaacAddress], now: Instant) -> Vec<Change> {
        let mut changes = self.expire(now);
        for SlaacAddress { address, valid } in addresses {
            let address = IpAddr::V6(*address);
            if *valid == Some(Duration::ZERO) {
                changes.extend(self.remove(address));
            } else {
                changes.extend(self.grant(address, *valid, now));
            }
        }
        changes
    }

    /// Deletes for every address whose life has ended by `now`.
    pub fn expire(&mut self, now: Instant) -> Vec<Change> {
        let mut changes = Vec::new();
        while let Some(&Reverse((at, address))) = self.heap.peek() {
            if at > now {
                break;
            }
            self.heap.pop();
            // A renewed or removed address left this entry behind: skip it.
            if self.added.get(&address) == Some(&Some(at)) {
                changes.extend(self.remove(address));
            }
        }
        changes
    }

    /// When [`Leases::expire`] next has something to do.
    pub fn next_expiry(&mut self) -> Option<Instant> {
        while let Some(&Reverse((at, address))) = self.heap.peek() {
            if self.added.get(&address) == Some(&Some(at)) {
                return Some(at);
            }
            self.heap.pop();
        }
        None
    }

    /// Forgets `address` without a change: its add failed, so the table does not hold it,
    /// and the next grant adds it again.
    pub fn forget(&mut self, address: IpAddr) {
        self.added.remove(&address);
        if self.lease4.map(IpAddr::V4) == Some(address) {
            self.lease4 = None;
        }
    }

    /// Deletes for everything added: what the learner undoes when it exits.
    pub fn drain(&mut self) -> Vec<Change> {
        self.lease4 = None;
        self.heap.clear();
        let mut addresses: Vec<IpAddr> = self.added.drain().map(|(a, _)| a).collect();
        addresses.sort();
        addresses
            .into_iter()
            .map(|a| (TableChange::Delete, a))
            .collect()
    }

    /// Allows `address` for `life` from `now`: an add unless the table holds it already.
    fn grant(&mut self, address: IpAddr, life: Option<Duration>, now: Instant) -> Option<Change> {
        let expiry = life.and_then(|l| now.checked_add(l));
        if let Some(at) = expiry {
            self.heap.push(Reverse((at, address)));
        }
        match self.added.insert(address, expiry) {
            Some(_) => None,
            None => Some((TableChange::Add, address)),
        }
    }

    /// A delete of `address` if the table holds it.
    fn remove(&mut self, address: IpAddr) -> Option<Change> {
        if self.lease4.map(IpAddr::V4) == Some(address) {
            self.lease4 = None;
        }
        self.added
            .remove(&address)
            .map(|_| (TableChange::Delete, address))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use TableChange::{Add, Delete};

    fn ack(address: &str, seconds: u64) -> DhcpEvent {
        DhcpEvent::Ack {
            address: address.parse().unwrap(),
            lease: Some(Duration::from_secs(seconds)),
            server: None,
            prefix: None,
        }
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn secs(n: u64) -> Duration {
        Duration::from_secs(n)
    }

    #[test]
    fn a_lease_is_added_once_renewed_replaced_released_and_nakked() {
        let now = Instant::now();
        let mut l = Leases::default();
        assert_eq!(l.dhcp(&ack("192.0.2.5", 60), now), [(Add, ip("192.0.2.5"))]);
        // A renewal only moves the end of life: the table holds the address already.
        assert!(l.dhcp(&ack("192.0.2.5", 60), now + secs(30)).is_empty());
        assert_eq!(l.next_expiry(), Some(now + secs(90)));
        assert!(l.expire(now + secs(60)).is_empty());
        assert_eq!(
            l.dhcp(&ack("192.0.2.6", 60), now + secs(40)),
            [(Delete, ip("192.0.2.5")), (Add, ip("192.0.2.6"))]
        );
        let other = DhcpEvent::Release {
            address: "192.0.2.5".parse().unwrap(),
        };
        assert!(l.dhcp(&other, now + secs(41)).is_empty());
        let release = DhcpEvent::Release {
            address: "192.0.2.6".parse().unwrap(),
        };
        assert_eq!(
            l.dhcp(&release, now + secs(42)),
            [(Delete, ip("192.0.2.6"))]
        );
        assert!(l.dhcp(&DhcpEvent::Nak, now + secs(43)).is_empty());
        l.dhcp(&ack("192.0.2.7", 60), now + secs(44));
        assert_eq!(
            l.dhcp(&DhcpEvent::Nak, now + secs(45)),
            [(Delete, ip("192.0.2.7"))]
        );
        // A zero lease takes the lease away, as a NAK.
        l.dhcp(&ack("192.0.2.8", 60), now + secs(46));
        assert_eq!(
            l.dhcp(&ack("192.0.2.8", 0), now + secs(47)),
            [(Delete, ip("192.0.2.8"))]
        );
        assert_eq!(l.next_expiry(), None);
    }

    #[test]
    fn leases_and_slaac_addresses_expire_in_order_and_renewals_postpone_them() {
        let now = Instant::now();
        let mut l = Leases::default();
        l.dhcp(&ack("192.0.2.5", 100), now);
        let slaac = |valid| SlaacAddress {
            address: "2001:db8::1".parse().unwrap(),
            valid,
        };
        assert_eq!(
            l.slaac(&[slaac(Some(secs(50)))], now),
            [(Add, ip("2001:db8::1"))]
        );
        assert_eq!(l.next_expiry(), Some(now + secs(50)));
        // The RA comes again before the end: the address lives on, the old entry is stale.
        assert!(l.slaac(&[slaac(Some(secs(50)))], now + secs(40)).is_empty());
        assert_eq!(l.next_expiry(), Some(now + secs(90)));
        assert!(l.expire(now + secs(60)).is_empty());
        assert_eq!(l.expire(now + secs(95)), [(Delete, ip("2001:db8::1"))]);
        assert_eq!(l.next_expiry(), Some(now + secs(100)));
        // An expired lease is gone: a NAK after it deletes nothing.
        assert_eq!(l.expire(now + secs(100)), [(Delete, ip("192.0.2.5"))]);
        assert!(l.dhcp(&DhcpEvent::Nak, now + secs(101)).is_empty());
        assert_eq!(l.next_expiry(), None);
        // A lifetime of zero withdraws; an infinite one never expires.
        l.slaac(&[slaac(None)], now);
        assert_eq!(l.next_expiry(), None);
        assert_eq!(
            l.slaac(&[slaac(Some(Duration::ZERO))], now),
            [(Delete, ip("2001:db8::1"))]
        );
        assert!(l.slaac(&[slaac(Some(Duration::ZERO))], now).is_empty());
    }

    #[test]
    fn an_event_first_expires_what_is_due() {
        let now = Instant::now();
        let mut l = Leases::default();
        l.dhcp(&ack("192.0.2.5", 10), now);
        assert_eq!(
            l.dhcp(&ack("192.0.2.5", 10), now + secs(11)),
            [(Delete, ip("192.0.2.5")), (Add, ip("192.0.2.5"))]
        );
    }

    #[test]
    fn draining_deletes_everything_added_and_a_failed_add_is_forgotten() {
        let now = Instant::now();
        let mut l = Leases::default();
        l.dhcp(&ack("192.0.2.5", 10), now);
        l.slaac(
            &[SlaacAddress {
                address: "2001:db8::1".parse().unwrap(),
                valid: None,
            }],
            now,
        );
        l.forget(ip("192.0.2.5"));
        // Forgotten: the next ACK adds it again, and its old heap entry deletes nothing.
        assert_eq!(
            l.dhcp(&ack("192.0.2.5", 100), now),
            [(Add, ip("192.0.2.5"))]
        );
        assert!(l.expire(now + secs(20)).is_empty());
        assert_eq!(
            l.drain(),
            [(Delete, ip("192.0.2.5")), (Delete, ip("2001:db8::1"))]
        );
        assert!(l.drain().is_empty());
        assert_eq!(l.next_expiry(), None);
    }
}
