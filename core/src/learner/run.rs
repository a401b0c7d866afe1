//! The learner's life: bind a free queue, say which, learn until the port is gone.

use std::ffi::CString;
use std::io;
use std::time::{Duration, Instant, SystemTime};

use super::nfqueue::{self, Kind, NfQueue, Queued};
use super::state::{additions_only, Learned};
use super::{dhcp, frame, ra, record, LearnConfig};
use crate::host::linux::netlink::{Nfnetlink, NlError, SetElements};

/// How many queue numbers are tried before giving up.
pub(super) const QUEUE_ATTEMPTS: u16 = 256;
/// How often the learner checks that its port still exists.
const PORT_CHECK: Duration = Duration::from_secs(1);

/// Why a learner stopped.
#[derive(Debug, thiserror::Error)]
pub enum LearnError {
    #[error("port {0} does not exist")]
    NoPort(String),
    #[error("no free netfilter queue in {first}..+{QUEUE_ATTEMPTS}")]
    NoFreeQueue { first: u16 },
    #[error("netfilter queue {queue}: {source}")]
    Queue { queue: u16, source: io::Error },
    #[error("nftables: {0}")]
    Nftables(#[from] NlError),
}

/// Runs the learner: binds a free queue, calls `ready` with its number (the host waits for it
/// before the rules that queue to it are committed), then learns until the port is gone
/// (`Ok`) or something fails for good.
pub fn run(config: &LearnConfig, ready: impl FnOnce(u16)) -> Result<(), LearnError> {
    let index = ifindex(&config.port).ok_or_else(|| LearnError::NoPort(config.port.clone()))?;
    let mut sockets = bind_free(config.queue)?;
    let number = sockets[0].queue();
    let mut nft = Nfnetlink::open()?;
    ready(number);
    let mut learned = Learned::default();
    let mut checked = Instant::now();
    loop {
        let queue_error = |source| LearnError::Queue {
            queue: number,
            source,
        };
        for socket in wait(&sockets, PORT_CHECK).map_err(queue_error)? {
            sockets[socket]
                .receive_ready(|packet| {
                    if let Err(e) = learn(config, &mut nft, &mut learned, packet) {
                        tracing::warn!(port = %config.port, "learning from a packet: {e}");
                    }
                })
                .map_err(queue_error)?;
        }
        if checked.elapsed() >= PORT_CHECK {
            if ifindex(&config.port) != Some(index) {
                tracing::info!(port = %config.port, "port is gone, learner exits");
                return Ok(());
            }
            checked = Instant::now();
        }
    }
}

/// Waits up to `timeout` for any of `sockets` to be readable; returns which are.
fn wait(sockets: &[NfQueue; 2], timeout: Duration) -> io::Result<Vec<usize>> {
    let mut fds = sockets.each_ref().map(|s| libc::pollfd {
        fd: s.fd(),
        events: libc::POLLIN,
        revents: 0,
    });
    let ms = libc::c_int::try_from(timeout.as_millis()).unwrap_or(libc::c_int::MAX);
    // SAFETY: `fds` is an array of valid pollfds, its length passed with it.
    if unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, ms) } < 0 {
        let e = io::Error::last_os_error();
        return if e.kind() == io::ErrorKind::Interrupted {
            Ok(Vec::new())
        } else {
            Err(e)
        };
    }
    Ok((0..fds.len()).filter(|&i| fds[i].revents != 0).collect())
}

/// Binds the first number from `first` on that is free both as a queue and as a log group:
/// the port's rules may hand packets to either (see `nfqueue.rs`).
pub(super) fn bind_free(first: u16) -> Result<[NfQueue; 2], LearnError> {
    for offset in 0..QUEUE_ATTEMPTS {
        let queue = first.wrapping_add(offset);
        let bound = NfQueue::bind(Kind::Queue, queue)
            .and_then(|q| NfQueue::bind(Kind::Log, queue).map(|l| [q, l]));
        match bound {
            Ok(sockets) => return Ok(sockets),
            Err(e) if nfqueue::is_taken(&e) => continue,
            Err(source) => return Err(LearnError::Queue { queue, source }),
        }
    }
    Err(LearnError::NoFreeQueue { first })
}

/// Updates the sets from one queued packet.
fn learn(
    config: &LearnConfig,
    nft: &mut Nfnetlink,
    learned: &mut Learned,
    packet: &Queued<'_>,
) -> Result<(), NlError> {
    tracing::debug!(
        port = %config.port,
        hook = packet.hook,
        "packet of {} bytes: {:02x?}",
        packet.payload.len(),
        &packet.payload[..packet.payload.len().min(64)]
    );
    let now = Instant::now();
    let changes = changes(config, learned, packet.payload, now);
    apply(nft, &changes)?;
    if let (Some(path), false) = (&config.record, changes.is_empty()) {
        let allowed = learned.allowed(now, SystemTime::now());
        if let Err(e) = record::write(path, &allowed) {
            tracing::warn!(port = %config.port, "recording the learned addresses: {e}");
        }
    }
    Ok(())
}

/// The set changes one queued payload makes.
pub(super) fn changes(
    config: &LearnConfig,
    learned: &mut Learned,
    payload: &[u8],
    now: Instant,
) -> Vec<SetElements> {
    match frame::parse(payload) {
        frame::Packet::Udp4(udp) if config.dhcp4 => match dhcp::parse(&udp, config.mac) {
            Some(event) => {
                tracing::info!(port = %config.port, "DHCP: {event:?}");
                learned.dhcp(&config.sink, &event, now)
            }
            None => Vec::new(),
        },
        frame::Packet::Icmp6(icmp) if config.slaac => {
            let addresses = ra::parse(&icmp, config.mac);
            if !addresses.is_empty() {
                tracing::info!(port = %config.port, "RA: {addresses:?}");
            }
            learned.slaac(&config.sink, &addresses, now)
        }
        _ => Vec::new(),
    }
}

/// Sends the changes as one batch; when a delete finds its element expired already, sends the
/// additions alone.
fn apply(nft: &mut Nfnetlink, changes: &[SetElements]) -> Result<(), NlError> {
    if changes.is_empty() {
        return Ok(());
    }
    match nft.update_elements(changes) {
        Err(e) if e.is_not_found() => {
            let additions = additions_only(changes);
            if additions.is_empty() {
                Ok(())
            } else {
                nft.update_elements(&additions)
            }
        }
        other => other,
    }
}

/// The interface index of `name` in the learner's network namespace.
fn ifindex(name: &str) -> Option<u32> {
    let name = CString::new(name).ok()?;
    // SAFETY: `name` is a valid NUL-terminated string for the duration of the call.
    let index = unsafe { libc::if_nametoindex(name.as_ptr()) };
    (index != 0).then_some(index)
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::learner::first_queue;

    #[test]
    fn first_queues_leave_room_for_every_attempt_and_differ_by_port() {
        let a = first_queue("vnet0.5");
        let b = first_queue("vnet0.6");
        assert_ne!(a, b);
        for q in [a, b, first_queue(""), first_queue("x".repeat(15).as_str())] {
            assert!(q >= 0x4000 && q.checked_add(QUEUE_ATTEMPTS).is_some());
        }
    }
}
