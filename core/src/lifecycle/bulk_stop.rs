//! Stopping many jails without waiting in line (issue 15).
//!
//! A stop removes the jail (its namespaces go, and with them every veth whose peer was inside)
//! and then the host-side pieces. Deleting a veth's host end by hand costs RCU grace periods
//! under the RTNL lock, one stop after the other; the kernel's own teardown of dying namespaces
//! does all of them at once. So the jails of one stop wave are removed first, the host ends of
//! their pairs are waited for together, and only then does each stop go on with its remaining
//! pieces (the links already gone count as removed). Each jail keeps its own journal and its
//! own errors: a failure in one never touches another.

use std::time::Duration;

use ioc_sdk::{HostOp, Side};

use super::start::io;
use super::{Failure, JailError, Lifecycle, Outcome, Session};
use crate::journal::{Journal, Record};
use crate::plugins::LoadedPlugin;
use crate::step::{Step, Undo};
use std::rc::Rc;

/// How long a stop waits for the host ends of removed jails' pairs to go by themselves before
/// it deletes the rest one by one. Generous: the kernel needs about 0.5 s for 200 namespaces.
pub const VANISH_TIMEOUT: Duration = Duration::from_secs(10);

/// A stop that has removed its jail and still has host-side pieces to take back.
pub struct PendingStop {
    pub name: String,
    pub s: Session,
    pub mode: Option<Rc<LoadedPlugin>>,
    pub was_running: bool,
    pub errors: Vec<Failure>,
}

/// How far the first half of a stop got.
pub enum Begun {
    /// Nothing more to do (the jail was not running, or only leftovers were removed).
    Done(Outcome),
    Pending(Box<PendingStop>),
}

/// The host ends, still journaled, of the pairs whose peer went into the jail: the kernel
/// removes them with the jail's namespace. None when the jail's removal is still pending (it
/// failed, so its namespace may live on).
pub fn vanishing_links(journal: &Journal) -> Vec<String> {
    let pending = journal.pending_undos();
    if pending
        .iter()
        .any(|(_, undo)| matches!(undo, Undo::RemoveJail(_)))
    {
        return Vec::new();
    }
    let records = journal.records();
    let moved = |peer: &str| {
        records.iter().any(|r| {
            matches!(r, Record::Step { step: Step::Op(HostOp::MoveToJail { name }), .. } if name.as_str() == peer)
        })
    };
    pending
        .iter()
        .filter_map(|(index, undo)| {
            let Undo::DestroyLink {
                side: Side::Host,
                name,
            } = undo
            else {
                return None;
            };
            match records.get(*index) {
                Some(Record::Step {
                    step:
                        Step::Op(HostOp::CreatePair {
                            peer, peer_in_jail, ..
                        }),
                    ..
                }) if *peer_in_jail || moved(peer.as_str()) => Some(name.clone()),
                _ => None,
            }
        })
        .collect()
}

impl Lifecycle<'_> {
    /// Stops the jails of one wave (none depends on another): every jail is removed, the host
    /// ends of their pairs are waited for once, then every stop finishes. Results are in the
    /// order of `names`.
    pub(super) fn stop_wave(
        &mut self,
        names: &[String],
        force: bool,
    ) -> Vec<Result<(String, Outcome), JailError>> {
        let mut begun = Vec::with_capacity(names.len());
        for name in names {
            let result = self.run.lock_jail(name).map_err(io("lock"));
            let result = result.and_then(|lock| Ok((lock, self.stop_begin(name, force)?)));
            begun.push(result);
        }
        let vanishing: Vec<String> = begun
            .iter()
            .filter_map(|b| match b {
                Ok((_, Begun::Pending(p))) => Some(vanishing_links(&p.s.journal)),
                _ => None,
            })
            .flatten()
            .collect();
        self.backend.await_links_gone(&vanishing, VANISH_TIMEOUT);
        names
            .iter()
            .zip(begun)
            .map(|(name, b)| {
                let outcome = b.and_then(|(_lock, begun)| match begun {
                    Begun::Done(outcome) => Ok(outcome),
                    Begun::Pending(mut p) => self.stop_finish(&mut p),
                });
                let result = outcome
                    .map(|o| (name.clone(), o))
                    .map_err(|e| JailError::new(name, e));
                self.reported(result)
            })
            .collect()
    }
}
