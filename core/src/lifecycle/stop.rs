//! Stopping jails: what a stop undoes, in which order, and what it does when parts fail.

use std::collections::BTreeMap;

use ioc_sdk::{Hook, HostError, HostErrorKind};

use super::hooks::hook_env;
use super::session::unwind;
use super::start::io;
use super::{
    dependency_order, Failure, Faults, JailError, Lifecycle, Outcome, Session, StopTarget,
};
use crate::host::Backend;
use crate::journal::{Journal, Record};
use crate::runtime::RunDir;
use crate::snapshot::Snapshot;
use crate::step::{HookPoint, JailParams, Step};

impl Lifecycle<'_> {
    /// Stops jails; each stop goes on past pieces already gone and reports every error.
    pub fn stop(
        &mut self,
        targets: Vec<StopTarget>,
        force: bool,
    ) -> Vec<Result<(String, Outcome), JailError>> {
        // Dependents stop before the jails they depend on: the start order, reversed.
        let names: Vec<String> = targets.iter().map(|t| t.name.clone()).collect();
        let depends: BTreeMap<String, Vec<String>> =
            targets.into_iter().map(|t| (t.name, t.depends)).collect();
        let order = match dependency_order(&names, &depends) {
            Ok(order) => order,
            Err(e) => return vec![Err(JailError::new(&names.join(","), e))],
        };
        order
            .iter()
            .rev()
            .map(|name| {
                let lock = self.run.lock_jail(name);
                let result = lock
                    .map_err(io("lock"))
                    .and_then(|_lock| self.stop_locked(name, force));
                result
                    .map(|o| (name.clone(), o))
                    .map_err(|e| JailError::new(name, e))
            })
            .collect()
    }

    pub(super) fn stop_locked(&mut self, name: &str, force: bool) -> Result<Outcome, Failure> {
        let path = self.run.journal_path(name);
        let journal = Journal::open(&path)?;
        let Some(journal) = journal else {
            if self.run.jail_dir(name).exists() {
                // Runtime state without a journal (deleted by hand): whatever jail may still be
                // there is removed without knowing its network; its host-side pieces cannot be
                // found any more, but its processes end and nothing stays pinned.
                self.remove_unrecorded(name)?;
            }
            return Ok(Outcome::NotRunning);
        };
        let Some(snapshot) = journal.snapshot().cloned() else {
            // The start died before it recorded anything, so it changed nothing ioc knows of;
            // a jail found there all the same goes as one whose journal is lost.
            journal.remove().map_err(io("remove journal"))?;
            self.remove_unrecorded(name)?;
            return Ok(Outcome::NotRunning);
        };
        let was_running = journal.started() && !journal.stopping();
        let mut s = Session::new(
            snapshot.jail.clone(),
            snapshot.params.clone(),
            journal,
            Faults::none(),
        );
        let errors = self.stop_session(&snapshot, &mut s, force, was_running)?;
        // Only pieces still journaled can be retried: a second stop runs no hooks and no mode
        // teardown. When nothing is left (a forced-past exec_prestop, a failed exec_poststop),
        // the runtime state goes too, and the errors are still reported.
        if !errors.is_empty() && !s.journal.pending_undos().is_empty() {
            return Err(Failure::StopIncomplete {
                jail: name.to_string(),
                errors,
            });
        }
        s.journal.remove().map_err(io("remove journal"))?;
        self.release(name).map_err(io("remove runtime dir"))?;
        if !errors.is_empty() {
            return Err(Failure::StoppedWithErrors(errors));
        }
        Ok(if was_running {
            Outcome::Stopped
        } else {
            Outcome::NotRunning
        })
    }

    /// Removes a jail that its journal does not describe (none there is fine), then its
    /// runtime dir.
    pub(super) fn remove_unrecorded(&mut self, name: &str) -> Result<(), Failure> {
        self.backend
            .remove_jail(&JailParams::unknown(name), true)
            .map_err(|source| Failure::Host {
                action: "remove jail",
                source,
            })?;
        self.release(name).map_err(io("remove runtime dir"))
    }

    /// The stop itself. Errors before anything changed abort it (unless forced); errors after
    /// that are collected and returned.
    pub(super) fn stop_session(
        &mut self,
        snapshot: &Snapshot,
        s: &mut Session,
        force: bool,
        was_running: bool,
    ) -> Result<Vec<Failure>, Failure> {
        let mut errors = Vec::new();
        let (mode, mut mode_error) = match self.mode_plugin(&snapshot.mode) {
            Ok(mode) => (Some(mode), None),
            Err(e) => (None, Some(e)),
        };
        if was_running {
            let prestop = |this: &mut Self, s: &mut Session| -> Result<(), Failure> {
                if let Some(mode) = &mode {
                    this.call_mode(mode, Hook::PreStop, s)?;
                }
                for point in [HookPoint::ExecPrestop, HookPoint::ExecStop] {
                    this.run_hook(snapshot.stop_hook(point), point, &snapshot.hook_env, s)?;
                }
                Ok(())
            };
            if let Err(e) = prestop(self, s) {
                if !force {
                    return Err(Failure::StopRefused(Box::new(e)));
                }
                errors.push(e);
            }
        }
        s.journal
            .append(Record::Stopping)
            .map_err(io("write journal"))?;
        match &mode {
            Some(mode) if was_running => {
                if let Err(e) = self.call_mode(mode, Hook::Teardown, s) {
                    errors.push(e);
                }
            }
            Some(_) => {}
            None => errors.extend(mode_error.take()),
        }
        let poststop = snapshot
            .stop_hook(HookPoint::ExecPoststop)
            .filter(|_| was_running);
        let env = hook_env(&snapshot.hook_env, s);
        let mut after_jail = |backend: &mut dyn Backend, s: &mut Session| -> Vec<Failure> {
            let Some(command) = poststop else {
                return Vec::new();
            };
            let step = Step::Hook {
                point: HookPoint::ExecPoststop,
                command: command.to_string(),
            };
            let result = s
                .journal
                .append(Record::Step { step, undo: None })
                .map_err(|e| HostError::new(HostErrorKind::Other, e.to_string()))
                .and_then(|_| backend.run_hook(&s.params, HookPoint::ExecPoststop, command, &env));
            result
                .err()
                .map(|source| Failure::Hook {
                    point: HookPoint::ExecPoststop,
                    source,
                })
                .into_iter()
                .collect()
        };
        errors.extend(unwind(
            self.backend,
            self.plugins,
            s,
            force,
            &mut after_jail,
        ));
        if was_running {
            if let Some(mode) = &mode {
                if let Err(e) = self.call_mode(mode, Hook::PostStop, s) {
                    errors.push(e);
                }
            }
        }
        Ok(errors)
    }
}

/// The snapshot of a jail that is running now.
pub fn running_snapshot(run: &RunDir, name: &str) -> Option<Snapshot> {
    let journal = Journal::read(&run.journal_path(name)).ok().flatten()?;
    (journal.started() && !journal.stopping())
        .then(|| journal.snapshot().cloned())
        .flatten()
}
