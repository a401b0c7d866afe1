//! Stopping jails: what a stop undoes, in which order, and what it does when parts fail.

use std::rc::Rc;

use ioc_sdk::{Hook, HostError, HostErrorKind};

use super::bulk_start::BATCH;
use super::bulk_stop::{vanishing_links, Begun, PendingStop, VANISH_TIMEOUT};
use super::hooks::hook_env;
use super::session::{unwind_jail, unwind_rest};
use super::start::io;
use super::waves::{start_waves, Ranked};
use super::{Failure, Faults, JailError, Lifecycle, Outcome, Session, StopTarget};
use crate::host::Backend;
use crate::journal::{Journal, Record};
use crate::plugins::LoadedPlugin;
use crate::runtime::RunDir;
use crate::snapshot::Snapshot;
use crate::step::{HookPoint, JailParams, Step};

impl Lifecycle<'_> {
    /// Stops jails; each stop goes on past pieces already gone and reports every error.
    /// Dependents stop before the jails they depend on, higher priorities before lower ones
    /// (the start waves, reversed); the jails of one wave are removed first and their host-side
    /// pieces waited for together (see [`Lifecycle::stop_wave`]).
    pub fn stop(
        &mut self,
        targets: Vec<StopTarget>,
        force: bool,
    ) -> Vec<Result<(String, Outcome), JailError>> {
        let ranked: Vec<Ranked> = targets
            .into_iter()
            .map(|t| Ranked {
                name: t.name,
                priority: t.priority,
                depends: t.depends,
            })
            .collect();
        let waves = match start_waves(&ranked) {
            Ok(waves) => waves,
            Err(e) => {
                let names: Vec<&str> = ranked.iter().map(|r| r.name.as_str()).collect();
                return vec![self.reported(Err(JailError::new(&names.join(","), e)))];
            }
        };
        waves
            .iter()
            .rev()
            .flat_map(|wave| {
                let wave: Vec<String> = wave.iter().rev().cloned().collect();
                // Each jail of a batch holds its lock and journal open until it is finished.
                wave.chunks(BATCH)
                    .flat_map(|batch| self.stop_wave(batch, force))
                    .collect::<Vec<_>>()
            })
            .collect()
    }

    pub(super) fn stop_locked(&mut self, name: &str, force: bool) -> Result<Outcome, Failure> {
        match self.stop_begin(name, force)? {
            Begun::Done(outcome) => Ok(outcome),
            Begun::Pending(mut pending) => {
                let vanishing = vanishing_links(&pending.s.journal);
                self.backend.await_links_gone(&vanishing, VANISH_TIMEOUT);
                self.stop_finish(&mut pending)
            }
        }
    }

    /// A stop up to the jail's removal (hooks, mode teardown, the jail itself, exec_poststop).
    pub(super) fn stop_begin(&mut self, name: &str, force: bool) -> Result<Begun, Failure> {
        let path = self.run.journal_path(name);
        let journal = Journal::open(&path)?;
        let Some(journal) = journal else {
            if self.run.jail_dir(name).exists() {
                // Runtime state without a journal (deleted by hand): whatever jail may still be
                // there is removed without knowing its network; its host-side pieces cannot be
                // found any more, but its processes end and nothing stays pinned.
                self.remove_unrecorded(name)?;
            }
            return Ok(Begun::Done(Outcome::NotRunning));
        };
        let Some(snapshot) = journal.snapshot().cloned() else {
            // The start died before it recorded anything, so it changed nothing ioc knows of;
            // a jail found there all the same goes as one whose journal is lost.
            journal.remove().map_err(io("remove journal"))?;
            self.remove_unrecorded(name)?;
            return Ok(Begun::Done(Outcome::NotRunning));
        };
        let was_running = journal.started() && !journal.stopping();
        let mut s = Session::new(
            snapshot.jail.clone(),
            snapshot.params.clone(),
            journal,
            Faults::none(),
        );
        let (mode, errors) = self.stop_session(&snapshot, &mut s, force, was_running)?;
        Ok(Begun::Pending(Box::new(PendingStop {
            name: name.to_string(),
            s,
            mode,
            was_running,
            errors,
        })))
    }

    /// The rest of a stop once the jail is removed: the remaining host-side pieces, the mode's
    /// `post_stop`, the journal and the runtime state.
    pub(super) fn stop_finish(&mut self, p: &mut PendingStop) -> Result<Outcome, Failure> {
        let mut errors = std::mem::take(&mut p.errors);
        errors.extend(self.session_rest(&mut p.s, p.mode.as_deref(), p.was_running));
        let name = p.name.as_str();
        // Only pieces still journaled can be retried: a second stop runs no hooks and no mode
        // teardown. When nothing is left (a forced-past exec_prestop, a failed exec_poststop),
        // the runtime state goes too, and the errors are still reported.
        if !errors.is_empty() && !p.s.journal.pending_undos().is_empty() {
            return Err(Failure::StopIncomplete {
                jail: name.to_string(),
                errors,
            });
        }
        let journal = std::mem::replace(&mut p.s.journal, Journal::in_memory());
        journal.remove().map_err(io("remove journal"))?;
        self.release(name).map_err(io("remove runtime dir"))?;
        if !errors.is_empty() {
            return Err(Failure::StoppedWithErrors(errors));
        }
        Ok(if p.was_running {
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

    /// A whole stop in one session (dry runs): [`Lifecycle::stop_session`], then
    /// [`Lifecycle::session_rest`].
    pub(super) fn stop_session_whole(
        &mut self,
        snapshot: &Snapshot,
        s: &mut Session,
        force: bool,
        was_running: bool,
    ) -> Result<Vec<Failure>, Failure> {
        let (mode, mut errors) = self.stop_session(snapshot, s, force, was_running)?;
        errors.extend(self.session_rest(s, mode.as_deref(), was_running));
        Ok(errors)
    }

    /// What a stop does after the jail's removal: the remaining host-side pieces, then the
    /// mode's `post_stop`.
    fn session_rest(
        &mut self,
        s: &mut Session,
        mode: Option<&LoadedPlugin>,
        was_running: bool,
    ) -> Vec<Failure> {
        let mut errors = unwind_rest(self.backend, self.plugins, s);
        if let (true, Some(mode)) = (was_running, mode) {
            if let Err(e) = self.call_mode(mode, Hook::PostStop, s) {
                errors.push(e);
            }
        }
        errors
    }

    /// The stop itself, up to the jail's removal. Errors before anything changed abort it
    /// (unless forced); errors after that are collected and returned, with the mode for
    /// [`Lifecycle::stop_finish`].
    pub(super) fn stop_session(
        &mut self,
        snapshot: &Snapshot,
        s: &mut Session,
        force: bool,
        was_running: bool,
    ) -> Result<(Option<Rc<LoadedPlugin>>, Vec<Failure>), Failure> {
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
        errors.extend(unwind_jail(self.backend, s, force, &mut after_jail));
        Ok((mode, errors))
    }
}

/// The snapshot of a jail that is running now.
pub fn running_snapshot(run: &RunDir, name: &str) -> Option<Snapshot> {
    let journal = Journal::read(&run.journal_path(name)).ok().flatten()?;
    (journal.started() && !journal.stopping())
        .then(|| journal.snapshot().cloned())
        .flatten()
}
