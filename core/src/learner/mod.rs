//! The address learner of a Secure VNET port: one small process per learning port, started
//! by the host for [`HostOp::LearnAddresses`](ioc_sdk::HostOp::LearnAddresses) as the hidden
//! `ioc __learn` command.
//!
//! On Linux the port's firewall rules queue DHCP replies and router advertisements toward the
//! jail (and DHCP RELEASEs from it) to a netfilter queue; the learner binds that queue, reads
//! each packet, updates the port's `lease4`/`slaac6` sets, and only then accepts the packet, so
//! the reply reaches the jail once the set allows the address it grants. The rules queue
//! without the bypass flag: with no learner, those packets are dropped (fail closed).
//!
//! On FreeBSD the learner watches the port with bpf(4) and fills ipfw or pf tables, which have
//! no timeouts: it expires what it added itself and deletes it all when it exits.
//!
//! - `nfqueue.rs`, `run.rs`, `state.rs` (Linux): the netfilter queue protocol; picking a free
//!   queue, the loop, and exiting when the port is gone; the set changes.
//! - `frame.rs`: the IP packet in a queued payload or a captured frame; `dhcp.rs`, `ra.rs`:
//!   what a DHCP message or an RA grants. Shared by both learners.
//! - `bpf.rs`: bpf read buffers and filter programs; `expiry.rs`: leases and their ends;
//!   `freebsd_sink.rs`: the ipfw/pf table commands; `bsd.rs`: the FreeBSD learner's logic.
//!   All platform independent, so tested on Linux.
//! - `bpf_device.rs`, `bsd_run.rs` (FreeBSD): the bpf descriptors and the loop.
//! - `ready.rs`: the start handshake with the host, both ends.
//! - `record.rs`: what the port may use now, in the jail's runtime dir for `ioc list`.
//!
//! Everything the learner reads comes from the network or from a jail: parsing is
//! bounds-checked and a packet it cannot read is accepted unchanged (the sets decide what the
//! jail may do, never the packet itself).

pub mod bpf;
#[cfg(target_os = "freebsd")]
mod bpf_device;
pub mod bsd;
#[cfg(target_os = "freebsd")]
mod bsd_run;
pub mod dhcp;
pub mod expiry;
pub mod frame;
pub mod freebsd_sink;
#[cfg(target_os = "linux")]
mod nfqueue;
pub mod ra;
pub mod ready;
pub mod record;
#[cfg(target_os = "linux")]
mod run;
#[cfg(target_os = "linux")]
mod state;
#[cfg(all(test, target_os = "linux"))]
mod tests;

use ioc_sdk::{Mac, NftFamily};

#[cfg(target_os = "freebsd")]
pub use bsd_run::{run as run_bsd, BsdLearnError};
pub use ra::eui64;
pub use ready::{announce_ready, detach};
#[cfg(target_os = "linux")]
pub use run::{run, LearnError};

/// Where learned addresses go: two sets of one table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sink {
    pub family: NftFamily,
    pub table: String,
    pub set4: String,
    pub set6: String,
}

/// What one learner learns, for which port.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LearnConfig {
    /// The host-side interface of the jail's pair.
    pub port: String,
    /// The jail's MAC.
    pub mac: Mac,
    /// The first queue number to try (see [`first_queue`]).
    pub queue: u16,
    pub sink: Sink,
    pub dhcp4: bool,
    pub slaac: bool,
    /// Where to keep the record of what the port may use now (see [`record`]); none when the
    /// learner runs on its own.
    pub record: Option<std::path::PathBuf>,
}

/// The option of `ioc __learn` that names its record; the host adds it (see [`record`]).
pub const RECORD_OPTION: &str = "--record";

/// The nftables family named `name` as `nft` writes it (`netdev`, `bridge`...).
pub fn family(name: &str) -> Option<NftFamily> {
    [
        NftFamily::Ip,
        NftFamily::Ip6,
        NftFamily::Inet,
        NftFamily::Arp,
        NftFamily::Bridge,
        NftFamily::Netdev,
    ]
    .into_iter()
    .find(|f| f.as_str() == name)
}

/// The hidden command line that starts a learner: `ioc __learn` and its options, without the
/// program itself. The host runs it, and the Linux dry run shows it.
pub fn command_line(port: &str, mac: Mac, sink: &Sink, dhcp4: bool, slaac: bool) -> Vec<String> {
    let mut argv: Vec<String> = [
        "__learn",
        "--port",
        port,
        "--mac",
        &mac.to_string(),
        "--family",
        sink.family.as_str(),
        "--table",
        &sink.table,
        "--set4",
        &sink.set4,
        "--set6",
        &sink.set6,
    ]
    .map(String::from)
    .to_vec();
    argv.extend(dhcp4.then(|| "--dhcp4".to_string()));
    argv.extend(slaac.then(|| "--slaac".to_string()));
    argv
}

/// Learners take queue numbers from here up: below are the numbers people write by hand.
const QUEUE_BASE: u16 = 0x4000;
/// Room above a first number for the numbers tried after it.
const QUEUE_ROOM: u16 = 256;

/// The first queue number a port's learner tries: a hash of the port's name, so that
/// learners started together rarely try the same numbers.
pub fn first_queue(port: &str) -> u16 {
    // FNV-1a: stable across builds, unlike the standard hasher.
    let hash = port.bytes().fold(0x811c_9dc5_u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    });
    QUEUE_BASE + (hash % u32::from(u16::MAX - QUEUE_BASE - QUEUE_ROOM)) as u16
}
