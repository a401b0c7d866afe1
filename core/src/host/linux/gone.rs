//! Waiting for the host ends of removed jails' veth pairs to disappear (issue 15).
//!
//! Deleting a link costs the kernel RCU grace periods under the RTNL lock, so deleting the
//! host ends of many jails one by one makes every stop wait in line (35-42 ms each). When a
//! jail's network namespace goes, the kernel removes the veths it held, and with them their
//! host ends, in one batch for every namespace dying at the same time. Removing all the jails
//! of a stop first and then waiting here once lets those teardowns overlap, and the stop still
//! returns only when the host-side links are gone.
//!
//! A stop of one or a few jails has nothing to overlap with, and the namespaces' teardown runs
//! on one ordered kernel workqueue whose every run ends in an `rcu_barrier()`: a stop right
//! after another waits behind the previous teardown's tail (16-51 ms measured, back to back).
//! Those few links are deleted instead by index from detached processes (`detached.rs`), which
//! unlists them at once and leaves the kernel's freeing to those processes.

use std::collections::BTreeSet;
use std::os::fd::{BorrowedFd, OwnedFd};
use std::thread::sleep;
use std::time::{Duration, Instant};

use super::detached::send_detached;
use super::netlink::{delete_link_request, Netlink};

/// How often the host's links are listed while waiting.
const POLL: Duration = Duration::from_millis(2);

/// How often a link deleted from a detached process is looked up: it goes within about a
/// millisecond, and a lookup by index costs a few microseconds.
const POLL_DETACHED: Duration = Duration::from_micros(250);

/// Up to this many links, a wait deletes them from detached processes; more (a multi-jail
/// stop) are left to the namespaces' batched teardown, which removes hundreds at once.
pub const DETACHED_MAX: usize = 4;

/// Waits until no host link is called one of `names`, or until `timeout`; returns the names
/// still present (all of them when the links cannot be listed). Up to [`DETACHED_MAX`] links
/// are deleted from detached processes, which keep `hold` too (see
/// [`super::detached::send_detached`]); the pipe that keeps them is stored in `holding`.
pub fn await_links_gone(
    nl: Option<&mut Netlink>,
    names: &[String],
    timeout: Duration,
    hold: Option<BorrowedFd<'_>>,
    holding: &mut Vec<OwnedFd>,
) -> Vec<String> {
    let Some(nl) = nl else {
        return names.to_vec();
    };
    if names.is_empty() {
        return Vec::new();
    }
    if names.len() <= DETACHED_MAX {
        if let Some(left) = delete_detached(nl, names, timeout, hold, holding) {
            return left;
        }
    }
    let deadline = Instant::now() + timeout;
    loop {
        let present: BTreeSet<String> = match nl.links() {
            Ok(links) => links.into_iter().map(|l| l.name).collect(),
            Err(_) => return names.to_vec(),
        };
        let left: Vec<String> = names
            .iter()
            .filter(|n| present.contains(*n))
            .cloned()
            .collect();
        if left.is_empty() || Instant::now() >= deadline {
            return left;
        }
        sleep(POLL);
    }
}

/// Deletes the links `names` by index from detached processes and waits until none of those
/// indices is listed, or until `timeout`; returns the names still present. `None` when the
/// links cannot be looked up or the processes not started: the caller then just waits.
fn delete_detached(
    nl: &mut Netlink,
    names: &[String],
    timeout: Duration,
    hold: Option<BorrowedFd<'_>>,
    holding: &mut Vec<OwnedFd>,
) -> Option<Vec<String>> {
    let mut present = Vec::with_capacity(names.len());
    for name in names {
        if let Some(link) = nl.link(name).ok()? {
            present.push((name, link.index));
        }
    }
    let requests: Vec<Vec<u8>> = present
        .iter()
        .map(|(_, index)| delete_link_request(*index))
        .collect();
    holding.extend(send_detached(&requests, hold).ok()?);
    let deadline = Instant::now() + timeout;
    loop {
        let mut left = Vec::new();
        for (name, index) in &present {
            if nl.link_by_index(*index).ok()?.is_some() {
                left.push(name.to_string());
            }
        }
        if left.is_empty() || Instant::now() >= deadline {
            return Some(left);
        }
        sleep(POLL_DETACHED);
    }
}
