//! The FreeBSD learner's logic, without the device: what a captured frame changes in the
//! port's ipfw or pf tables, when the next lease expires, and what is undone at exit.
//! Platform independent and tested on Linux; `bsd_run.rs` drives it from bpf on FreeBSD.
//!
//! # Which way a frame went
//!
//! The learner reads the jail's port (the host end of its pair) through two bpf descriptors:
//! one sees only the frames the port sends toward the jail (`BPF_D_OUT`), the other only those
//! it receives from the jail (`BPF_D_IN`). The kernel decides the direction (by the mbuf's
//! receiving interface), not the frame, and that is what makes it safe:
//!
//! - Toward the jail, the port sends only what the bridge forwarded after the firewall's
//!   rules for the port let it out: replies a server on the uplink side sent, never a DHCP
//!   server reply or RA another Secure VNET jail sent (its own port drops those). So ACKs,
//!   NAKs and RAs are learned from that descriptor only.
//! - From the jail, bpf sees the frame as the jail sent it, *before* any filter: the jail may
//!   have put any source MAC and any content in it. So nothing that grants is learned from it;
//!   only a RELEASE of the jail's own lease (its `chaddr`), which can only take away.
//!
//! The frame's source MAC backs this up: a frame toward the jail from the jail's own MAC, or
//! a frame from the jail with another MAC (which its port's filter drops: it forces the jail's
//! MAC as source), is ignored. The MAC alone would not do: on the receive side bpf taps before
//! the filter, so a jail could send a forged "server reply" with the server's MAC.

use std::time::{Duration, Instant};

use ioc_sdk::{LearnSink, Mac};

use super::bpf::source_mac;
use super::dhcp::{self, DhcpEvent};
use super::expiry::{Change, Leases};
use super::freebsd_sink::{Runner, SinkFailure, Tables};
use super::{frame, ra};
use crate::render::freebsd::learn::{SinkError, TableChange};

/// How often the learner checks that its port still exists, at most.
pub const PORT_CHECK: Duration = Duration::from_secs(1);

/// What one FreeBSD learner learns, for which port, into which tables.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BsdConfig {
    /// The host end of the jail's pair.
    pub port: String,
    /// The jail's MAC.
    pub mac: Mac,
    pub dhcp4: bool,
    pub slaac: bool,
    pub sink: LearnSink,
}

/// Which way a captured frame went through the port (see the module documentation).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// Sent by the port toward the jail, after the filter.
    TowardJail,
    /// Received by the port from the jail, before the filter.
    FromJail,
}

/// One port's learner: its leases and its tables.
pub struct Learner<R> {
    config: BsdConfig,
    leases: Leases,
    tables: Tables<R>,
}

impl<R: Runner> Learner<R> {
    pub fn new(config: BsdConfig, runner: R) -> Result<Learner<R>, SinkError> {
        let tables = Tables::new(config.sink.clone(), runner)?;
        Ok(Learner {
            config,
            leases: Leases::default(),
            tables,
        })
    }

    /// Learns from one captured Ethernet frame.
    pub fn frame(&mut self, direction: Direction, bytes: &[u8], now: Instant) {
        let from_jail = source_mac(bytes) == Some(self.config.mac);
        if from_jail != (direction == Direction::FromJail) {
            return;
        }
        let changes = match (frame::parse(bytes), direction) {
            (frame::Packet::Udp4(udp), _) if self.config.dhcp4 => {
                match dhcp::parse(&udp, self.config.mac) {
                    Some(event) if allowed(&event, direction) => {
                        tracing::info!(port = %self.config.port, "DHCP: {event:?}");
                        self.leases.dhcp(&event, now)
                    }
                    _ => Vec::new(),
                }
            }
            (frame::Packet::Icmp6(icmp), Direction::TowardJail) if self.config.slaac => {
                let addresses = ra::parse(&icmp, self.config.mac);
                if !addresses.is_empty() {
                    tracing::info!(port = %self.config.port, "RA: {addresses:?}");
                }
                self.leases.slaac(&addresses, now)
            }
            _ => Vec::new(),
        };
        self.apply(changes);
    }

    /// Deletes what has expired by `now`.
    pub fn tick(&mut self, now: Instant) {
        let changes = self.leases.expire(now);
        self.apply(changes);
    }

    /// How long the learner may wait for frames before it has something to do.
    pub fn wait(&mut self, now: Instant) -> Duration {
        self.leases
            .next_expiry()
            .map_or(PORT_CHECK, |at| at.saturating_duration_since(now))
            .min(PORT_CHECK)
    }

    /// Deletes everything it added: the learner's last act.
    pub fn finish(&mut self) {
        let changes = self.leases.drain();
        self.apply(changes);
    }

    /// The tables, for the tests to inspect.
    pub fn tables(&self) -> &Tables<R> {
        &self.tables
    }

    fn apply(&mut self, changes: Vec<Change>) {
        for change in changes {
            if let Err(e) = self.tables.apply(change) {
                self.failed(change, &e);
            }
        }
    }

    /// A failed add is forgotten (the next grant retries it); a failed delete is only logged:
    /// the address may be gone already, and nothing else can be done about it.
    fn failed(&mut self, (change, address): Change, e: &SinkFailure) {
        tracing::warn!(port = %self.config.port, "{e}");
        if change == TableChange::Add {
            self.leases.forget(address);
        }
    }
}

/// Grants come only from the port's side toward the jail, a RELEASE only from the jail.
fn allowed(event: &DhcpEvent, direction: Direction) -> bool {
    matches!(
        (event, direction),
        (
            DhcpEvent::Ack { .. } | DhcpEvent::Nak,
            Direction::TowardJail
        ) | (DhcpEvent::Release { .. }, Direction::FromJail)
    )
}

#[cfg(test)]
#[path = "bsd_tests.rs"]
mod tests;
