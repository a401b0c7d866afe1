//! Waiting for the host ends of removed jails' veth pairs to disappear (issue 15).
//!
//! Deleting a link costs the kernel RCU grace periods under the RTNL lock, so deleting the
//! host ends of many jails one by one makes every stop wait in line (35-42 ms each). When a
//! jail's network namespace goes, the kernel removes the veths it held, and with them their
//! host ends, in one batch for every namespace dying at the same time. Removing all the jails
//! of a stop first and then waiting here once lets those teardowns overlap, and the stop still
//! returns only when the host-side links are gone.

use std::collections::BTreeSet;
use std::thread::sleep;
use std::time::{Duration, Instant};

use super::netlink::Netlink;

/// How often the host's links are listed while waiting.
const POLL: Duration = Duration::from_millis(2);

/// Waits until no host link is called one of `names`, or until `timeout`; returns the names
/// still present (all of them when the links cannot be listed).
pub fn await_links_gone(
    nl: Option<&mut Netlink>,
    names: &[String],
    timeout: Duration,
) -> Vec<String> {
    let Some(nl) = nl else {
        return names.to_vec();
    };
    if names.is_empty() {
        return Vec::new();
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
