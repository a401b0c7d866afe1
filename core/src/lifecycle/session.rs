//! One jail's start or stop in progress: journaling every change before the backend makes it,
//! and undoing the journal in the right order.

use std::collections::HashSet;
use std::rc::Rc;

use ioc_sdk::{
    Hook, HostError, HostErrorKind, HostOp, HostReply, Jail, PluginKind, Side, UndoAction,
};

use super::error::{Failure, UndoError};
use super::faults::Faults;
use super::firewall::answer_query;
use crate::host::Backend;
use crate::journal::{Journal, Record};
use crate::plugins::{LoadedPlugin, Registry};
use crate::step::{JailParams, Step, Undo};

/// The state of one jail's operation.
pub struct Session {
    pub jail: Jail,
    pub params: JailParams,
    pub journal: Journal,
    faults: Faults,
    /// Changes recorded so far (for fault injection).
    changes: usize,
    /// Links destroyed while undoing, so a link removed by a firewall backend is not destroyed
    /// (or printed) twice.
    destroyed: HashSet<String>,
}

fn io_error(context: &str, e: std::io::Error) -> HostError {
    HostError::new(HostErrorKind::Other, format!("{context}: {e}"))
}

impl Session {
    pub fn new(jail: Jail, params: JailParams, journal: Journal, faults: Faults) -> Session {
        Session {
            jail,
            params,
            journal,
            faults,
            changes: 0,
            destroyed: HashSet::new(),
        }
    }

    /// Journals a change (and its undo) before it is made.
    pub fn record(&mut self, step: Step, undo: Option<Undo>) -> Result<usize, HostError> {
        self.changes += 1;
        self.faults.before(self.changes)?;
        super::interrupt::check()
            .map_err(|e| HostError::new(HostErrorKind::Other, e.to_string()))?;
        let index = self
            .journal
            .append(Record::Step { step, undo })
            .map_err(|e| io_error("write journal", e))?;
        self.faults.journaled(self.changes);
        Ok(index)
    }

    /// Journals that the undo of record `index` is done (or not needed any more).
    pub fn mark_undone(&mut self, index: usize) -> Result<(), HostError> {
        self.journal
            .append(Record::Undone { index })
            .map(drop)
            .map_err(|e| io_error("write journal", e))
    }
}

/// Whether a request comes from a network mode or from a firewall backend's install. A
/// backend's own pieces are not undone one by one: its `remove` takes them back, in the order
/// the backend chooses.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    Mode,
    Firewall,
}

/// Carries out a plugin's request during a start.
pub fn perform(
    backend: &mut dyn Backend,
    registry: &mut Registry,
    s: &mut Session,
    op: &HostOp,
    origin: Origin,
) -> Result<HostReply, HostError> {
    if let HostOp::CniCheck { attachment } = op {
        return crate::cni::journaled::check(backend, &s.journal, &s.params, attachment);
    }
    if op.is_query() {
        return answer_query(backend, registry, &s.jail, &s.params, op);
    }
    match op {
        HostOp::CniAdd { attachment } => crate::cni::journaled::add(backend, s, op, attachment),
        // Nothing to undo: not journaled.
        HostOp::CniGc { attachment, valid } => {
            crate::cni::journaled::gc(backend, attachment, valid)
        }
        HostOp::RegisterUndo { action } => {
            s.journal
                .append(Record::Step {
                    step: Step::Op(op.clone()),
                    undo: Some(Undo::Plugin(action.clone())),
                })
                .map_err(|e| io_error("write journal", e))?;
            Ok(HostReply::Done)
        }
        HostOp::ProtectPort { policy } => {
            let name = s.jail.firewall().to_string();
            let firewall = firewall_plugin(registry, &name)?;
            let index = s.record(
                Step::Op(op.clone()),
                Some(Undo::RemovePolicy {
                    backend: name.clone(),
                    policy: policy.clone(),
                }),
            )?;
            let jail = s.jail.clone();
            firewall
                .call(
                    Hook::FirewallInstall(policy.clone()),
                    &jail,
                    &mut |inner: &HostOp| perform(backend, registry, s, inner, Origin::Firewall),
                )
                .map_err(|e| {
                    HostError::new(HostErrorKind::Other, format!("firewall {name}: {e}"))
                })?;
            // A backend that registered its removal is taken back by that alone (see
            // `Firewall::install`): a stop then runs it from the journal, without loading the
            // backend. Until the install succeeded, `remove` stays journaled too.
            if registered_undo_since(&s.journal, index) {
                s.mark_undone(index)?;
            }
            Ok(HostReply::Done)
        }
        HostOp::NatJail { request } => {
            let name = request.nat.backend().to_string();
            let firewall = firewall_plugin(registry, &name)?;
            s.record(
                Step::Op(op.clone()),
                Some(Undo::Plugin(UndoAction::RemoveNat {
                    request: request.clone(),
                })),
            )?;
            let jail = s.jail.clone();
            firewall
                .call(
                    Hook::FirewallNat(request.clone()),
                    &jail,
                    &mut |inner: &HostOp| perform(backend, registry, s, inner, Origin::Firewall),
                )
                .map_err(|e| {
                    HostError::new(HostErrorKind::Other, format!("NAT backend {name}: {e}"))
                })?;
            Ok(HostReply::Done)
        }
        HostOp::AddHostAlias { iface, address } => {
            // An address the host already has stays the host's: never journaled, never removed.
            if backend.host_has_address(iface, address)? {
                return Ok(HostReply::Flag(false));
            }
            let undo = (origin == Origin::Mode).then(|| Undo::RemoveHostAlias {
                iface: iface.to_string(),
                address: *address,
            });
            let index = s.record(Step::Op(op.clone()), undo)?;
            match backend.perform(&s.params, op) {
                Err(e) if e.kind == HostErrorKind::AlreadyExists => {
                    s.mark_undone(index)?;
                    Ok(HostReply::Flag(false))
                }
                other => other,
            }
        }
        _ => {
            // A firewall backend's own pieces are its `remove`'s to take back, but a learner it
            // asked for is a process: always stopped by its own undo.
            let learner = matches!(op, HostOp::LearnAddresses { .. });
            let undo = if origin == Origin::Mode || learner {
                Undo::for_op(op)
            } else {
                None
            };
            s.record(Step::Op(op.clone()), undo)?;
            backend.perform(&s.params, op)
        }
    }
}

/// Whether a plugin registered an undo action after record `index`.
fn registered_undo_since(journal: &Journal, index: usize) -> bool {
    journal.records().iter().skip(index + 1).any(|r| {
        matches!(
            r,
            Record::Step {
                step: Step::Op(HostOp::RegisterUndo { .. }),
                ..
            }
        )
    })
}

fn firewall_plugin(registry: &mut Registry, name: &str) -> Result<Rc<LoadedPlugin>, HostError> {
    registry
        .get(name, PluginKind::Firewall)
        .map_err(|e| HostError::new(HostErrorKind::Other, e.to_string()))
}

/// Carries out a request while undoing: journaled as done (no undo of its own), and a piece
/// that is already gone counts as removed.
pub fn perform_undo(
    backend: &mut dyn Backend,
    s: &mut Session,
    op: &HostOp,
) -> Result<HostReply, HostError> {
    if op.is_query() {
        return backend.perform(&s.params, op);
    }
    match op {
        HostOp::DestroyLink { name, .. } if s.destroyed.contains(name.as_str()) => {
            return Ok(HostReply::Done)
        }
        HostOp::ProtectPort { .. } | HostOp::RegisterUndo { .. } => {
            return Err(HostError::new(
                HostErrorKind::Unsupported,
                format!("{} is not allowed while removing", op.name()),
            ))
        }
        _ => {}
    }
    s.journal
        .append(Record::Step {
            step: Step::Op(op.clone()),
            undo: None,
        })
        .map_err(|e| io_error("write journal", e))?;
    let result = backend.perform(&s.params, op);
    let removal = matches!(
        op,
        HostOp::DestroyLink { .. } | HostOp::RemoveHostAlias { .. }
    );
    match result {
        Err(e) if removal && e.kind == HostErrorKind::NotFound => Ok(HostReply::Done),
        other => {
            if let (Ok(_), HostOp::DestroyLink { name, .. }) = (&other, op) {
                s.destroyed.insert(name.to_string());
            }
            other
        }
    }
}

/// Undoes everything the journal still holds. The jail goes first: its processes end and its
/// own network stack with everything inside it; `after_jail` then runs (exec_poststop on a
/// stop); the remaining host-side pieces follow in reverse order of creation. Goes on past
/// failures and returns all of them.
pub fn unwind(
    backend: &mut dyn Backend,
    registry: &mut Registry,
    s: &mut Session,
    force: bool,
    after_jail: &mut dyn FnMut(&mut dyn Backend, &mut Session) -> Vec<Failure>,
) -> Vec<Failure> {
    let mut errors = unwind_jail(backend, s, force, after_jail);
    errors.extend(unwind_rest(backend, registry, s));
    errors
}

/// The first half of [`unwind`]: removes the jail, then runs `after_jail`. A multi-jail stop
/// does this for every jail before the second half, so that the kernel tears their network
/// stacks down together.
pub fn unwind_jail(
    backend: &mut dyn Backend,
    s: &mut Session,
    force: bool,
    after_jail: &mut dyn FnMut(&mut dyn Backend, &mut Session) -> Vec<Failure>,
) -> Vec<Failure> {
    let mut errors = Vec::new();
    let pending = s.journal.pending_undos();
    // CNI plugins take their pieces back while the jail's namespace still exists.
    for (index, undo) in pending.iter().rev() {
        let Undo::CniDel(run) = undo else {
            continue;
        };
        let result = s
            .journal
            .append(Record::Step {
                step: Step::CniDel(run.clone()),
                undo: None,
            })
            .map_err(|e| io_error("write journal", e))
            .and_then(|_| crate::cni::journaled::del(backend, &s.params, run))
            .and_then(|()| s.mark_undone(*index));
        if let Err(e) = result {
            errors.push(undo_error(undo, e).into());
        }
    }
    for (index, undo) in &pending {
        let Undo::RemoveJail(params) = undo else {
            continue;
        };
        let step = Step::RemoveJail(params.clone());
        let result = s
            .journal
            .append(Record::Step { step, undo: None })
            .map_err(|e| io_error("write journal", e))
            .and_then(|_| backend.remove_jail(params, force))
            .and_then(|()| s.mark_undone(*index));
        if let Err(e) = result {
            errors.push(UndoError::RemoveJail(e).into());
        }
    }
    errors.extend(after_jail(backend, s));
    errors
}

/// The second half of [`unwind`]: the remaining host-side pieces, in reverse order of creation
/// (a jail whose removal failed stays journaled and is skipped).
pub fn unwind_rest(
    backend: &mut dyn Backend,
    registry: &mut Registry,
    s: &mut Session,
) -> Vec<Failure> {
    let mut errors = Vec::new();
    let pending = s.journal.pending_undos();
    for (index, undo) in pending.iter().rev() {
        let result = match undo {
            Undo::RemoveJail(_) | Undo::CniDel(_) => continue,
            Undo::StopLearner { port } => backend.stop_learner(&s.params, port),
            Undo::RemovePolicy {
                backend: name,
                policy,
            } => {
                let jail = s.jail.clone();
                firewall_plugin(registry, name).and_then(|fw| {
                    fw.call(
                        Hook::FirewallRemove(policy.clone()),
                        &jail,
                        &mut |op: &HostOp| perform_undo(backend, s, op),
                    )
                    .map_err(|e| {
                        HostError::new(HostErrorKind::Other, format!("firewall {name}: {e}"))
                    })
                })
            }
            Undo::Plugin(UndoAction::RemoveNat { request }) => {
                let name = request.nat.backend().to_string();
                let jail = s.jail.clone();
                firewall_plugin(registry, &name).and_then(|fw| {
                    fw.call(
                        Hook::FirewallNatRemove(request.clone()),
                        &jail,
                        &mut |op: &HostOp| perform_undo(backend, s, op),
                    )
                    .map_err(|e| {
                        HostError::new(HostErrorKind::Other, format!("NAT backend {name}: {e}"))
                    })
                })
            }
            other => match other.as_step() {
                Some(Step::Op(op)) => perform_undo(backend, s, &op).map(drop),
                _ => Ok(()),
            },
        };
        match result.and_then(|()| s.mark_undone(*index)) {
            Ok(()) => {}
            Err(e) => errors.push(undo_error(undo, e).into()),
        }
    }
    errors
}

fn undo_error(undo: &Undo, source: HostError) -> UndoError {
    match undo {
        Undo::DestroyLink { side, name } => UndoError::DestroyLink {
            name: name.clone(),
            in_jail: *side == Side::Jail,
            source,
        },
        Undo::RemoveHostAlias { iface, address } => UndoError::RemoveHostAlias {
            iface: iface.clone(),
            address: *address,
            source,
        },
        Undo::RemovePolicy { backend, .. } => UndoError::RemovePolicy {
            backend: backend.clone(),
            source,
        },
        Undo::Plugin(action) => UndoError::Plugin {
            action: action.clone(),
            source,
        },
        Undo::RemoveJail(_) => UndoError::RemoveJail(source),
        Undo::StopLearner { port } => UndoError::StopLearner {
            port: port.clone(),
            source,
        },
        Undo::CniDel(run) => UndoError::CniDel {
            what: run.attachment.describe(),
            source,
        },
    }
}
