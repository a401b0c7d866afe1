//! Starting jails: dependency order, journaled creation, rollback of a failed start.

use std::collections::BTreeMap;
use std::net::IpAddr;

use ioc_sdk::Hook;

use super::root_check;
use super::session::unwind;
use super::waves::{start_waves, Ranked};
use super::{
    conflicts, interrupt, Failure, JailError, JailSpec, Lifecycle, Outcome, Session, StartError,
};
use crate::journal::{Journal, Record};
use crate::plugins::LoadedPlugin;
use crate::runtime::{JailState, Lock};
use crate::snapshot::Snapshot;
use crate::step::{HookPoint, Step, Undo};

/// A start whose journal has begun: the jail's lock (held until the start ends), its mode's
/// name and its session.
pub struct BegunStart {
    _lock: Lock,
    mode: String,
    s: Session,
}

/// A run-dir or journal error, saying what was being done.
pub(super) fn io(action: &'static str) -> impl FnOnce(std::io::Error) -> Failure {
    move |source| Failure::Io { action, source }
}

impl Lifecycle<'_> {
    /// Starts jails in dependency order after validating all of them. Nothing changes when
    /// validation fails. A jail whose start fails is rolled back completely; the others go on.
    pub fn start(&mut self, specs: Vec<JailSpec>) -> Vec<Result<(String, Outcome), JailError>> {
        let specs = match self.order(specs) {
            Ok(s) => s,
            Err(e) => return vec![self.reported(Err(e))],
        };
        let mut results = Vec::new();
        let mut to_start = Vec::new();
        for spec in specs {
            match self.run.state(&spec.name) {
                JailState::Running { jid } => results
                    .push(self.reported(Ok((spec.name.clone(), Outcome::AlreadyRunning { jid })))),
                _ => to_start.push(spec),
            }
        }
        let mut errors = self.validate(&to_start);
        errors.extend(root_check::check_all(&to_start, self.run.path()));
        if !errors.is_empty() {
            results.extend(errors.into_iter().map(|e| self.reported(Err(e))));
            return results;
        }
        results.extend(self.start_in_waves(&to_start));
        results
    }

    /// Starts one jail unless ioc was interrupted: the result a report shows for it.
    pub(super) fn start_reported(
        &mut self,
        spec: &JailSpec,
    ) -> Result<(String, Outcome), JailError> {
        if let Err(e) = interrupt::check() {
            return Err(JailError::new(&spec.name, Failure::NotStarted(e)));
        }
        self.start_one(spec)
            .map(|jid| (spec.name.clone(), Outcome::Started { jid }))
            .map_err(|e| JailError::new(&spec.name, e))
    }

    /// The specs in start order: the start waves (see `waves`), flattened.
    pub(super) fn order(&self, specs: Vec<JailSpec>) -> Result<Vec<JailSpec>, JailError> {
        let ranked: Vec<Ranked> = specs.iter().map(Ranked::from).collect();
        let waves = start_waves(&ranked).map_err(|e| {
            let names: Vec<&str> = ranked.iter().map(|r| r.name.as_str()).collect();
            JailError::new(&names.join(","), e)
        })?;
        let mut by_name: BTreeMap<String, JailSpec> =
            specs.into_iter().map(|s| (s.name.clone(), s)).collect();
        Ok(waves
            .iter()
            .flatten()
            .filter_map(|n| by_name.remove(n))
            .collect())
    }

    pub(super) fn start_one(&mut self, spec: &JailSpec) -> Result<u32, Failure> {
        let begun = self.begin_start(spec)?;
        self.finish_start(spec, begun)
    }

    /// The first part of a start, up to its journal's `Begin` record: the jail's lock, the
    /// cleanup of leftovers, its mode, its JID and addresses. A concurrent start does this for
    /// the jails of a wave one after the other, so JIDs follow the start order.
    pub(super) fn begin_start(&mut self, spec: &JailSpec) -> Result<BegunStart, Failure> {
        let lock = self.run.lock_jail(&spec.name).map_err(io("lock"))?;
        self.clean_leftovers(&spec.name)?;
        let mode = self.mode_for(spec)?;
        let addresses: Vec<IpAddr> = conflicts::static_addresses(&spec.network)
            .into_iter()
            .map(|(ip, _)| ip)
            .collect();
        let ports = crate::runtime::HostPort::of_network(&spec.network);
        let jid = self
            .run
            .allocate_with_ports(&spec.name, &addresses, &ports)
            .map_err(|e| match e.kind() {
                std::io::ErrorKind::AddrInUse => Failure::AddressClaimed(e),
                _ => io("allocate a JID")(e),
            })?;
        let journal = match Journal::create(&self.run.journal_path(&spec.name)) {
            Ok(j) => j,
            Err(e) => {
                let _ = self.release(&spec.name);
                return Err(io("create journal")(e));
            }
        };
        let mut s = Session::new(
            spec.jail(jid, self.platform()),
            spec.params_with_jid(jid),
            journal,
            self.faults.for_jail(&spec.name),
        );
        let begun = s
            .journal
            .append(Record::Begin(Box::new(snapshot_of(spec, &mode.name, &s))));
        if let Err(e) = begun {
            return Err(self.roll_back(&spec.name, s, io("write journal")(e)).into());
        }
        Ok(BegunStart {
            _lock: lock,
            mode: mode.name.clone(),
            s,
        })
    }

    /// The rest of a start begun by [`Lifecycle::begin_start`] (perhaps on another thread, with
    /// a lifecycle of its own): the start itself, and its rollback when it fails.
    pub(super) fn finish_start(
        &mut self,
        spec: &JailSpec,
        begun: BegunStart,
    ) -> Result<u32, Failure> {
        let BegunStart { _lock, mode, mut s } = begun;
        let jid = s.params.jid;
        // A signal during the last change still fails the start: it rolls back as a whole.
        let result = self
            .mode_plugin(&mode)
            .and_then(|mode| self.run_start(spec, &mode, &mut s))
            .and_then(|()| interrupt::check().map_err(Failure::from));
        match result {
            Ok(()) => {
                s.journal
                    .append(Record::Started)
                    .map_err(io("write journal"))?;
                Ok(jid)
            }
            Err(e) => Err(self.roll_back(&spec.name, s, e).into()),
        }
    }

    /// Undoes a failed start; the error holds what failed and whether cleanup did too.
    pub(super) fn roll_back(&mut self, name: &str, mut s: Session, cause: Failure) -> StartError {
        let rollback = unwind(self.backend, self.plugins, &mut s, true, &mut |_, _| {
            Vec::new()
        });
        let cleanup = if rollback.is_empty() {
            let removed = s.journal.remove();
            removed.and(self.release(name)).err()
        } else {
            None
        };
        StartError {
            jail: name.to_string(),
            cause: Box::new(cause),
            rollback,
            cleanup,
        }
    }

    pub(super) fn release(&mut self, name: &str) -> std::io::Result<()> {
        self.run.release(name)?;
        self.backend.jail_released(&self.run)
    }

    /// A journal left by a crashed ioc (or a failed stop) is undone before a new start.
    pub(super) fn clean_leftovers(&mut self, name: &str) -> Result<(), Failure> {
        match self.run.state(name) {
            JailState::Stopped => Ok(()),
            JailState::Running { jid } => Err(Failure::AlreadyRunning { jid }),
            state @ (JailState::Incomplete { .. } | JailState::Vanished { .. }) => {
                let what = if matches!(state, JailState::Vanished { .. }) {
                    "after the jail vanished (its namespaces are gone)"
                } else {
                    "after an interrupted start or stop"
                };
                tracing::info!(jail = name, "cleaning up {what}");
                self.stop_locked(name, true)
                    .map(drop)
                    .map_err(|e| Failure::Leftovers(Box::new(e)))
            }
        }
    }

    /// The start itself, with `mode` as the jail's network mode.
    pub(super) fn run_start(
        &mut self,
        spec: &JailSpec,
        mode: &LoadedPlugin,
        s: &mut Session,
    ) -> Result<(), Failure> {
        self.run_hook(
            spec.hook(HookPoint::ExecPrestart),
            HookPoint::ExecPrestart,
            &spec.hook_env,
            s,
        )?;
        self.call_mode(mode, Hook::PreStart, s)?;
        let params = s.params.clone();
        s.record(
            Step::CreateJail(params.clone()),
            Some(Undo::RemoveJail(params.clone())),
        )
        .and_then(|_| self.backend.create_jail(&params))
        .map_err(|source| Failure::Host {
            action: "create the jail",
            source,
        })?;
        self.run_hook(
            spec.hook(HookPoint::ExecCreated),
            HookPoint::ExecCreated,
            &spec.hook_env,
            s,
        )?;
        self.call_mode(mode, Hook::Setup, s)?;
        self.backend
            .settle_addresses(&s.params)
            .map_err(Failure::HostPlain)?;
        for point in [HookPoint::ExecStart, HookPoint::ExecPoststart] {
            self.run_hook(spec.hook(point), point, &spec.hook_env, s)?;
        }
        self.call_mode(mode, Hook::PostStart, s)
    }
}

/// What the journal keeps of a start for its stop: `mode` is the mode's name (never `auto`,
/// so the stop uses the mode the start used).
pub(super) fn snapshot_of(spec: &JailSpec, mode: &str, s: &Session) -> Snapshot {
    Snapshot {
        jail: s.jail.clone(),
        params: s.params.clone(),
        mode: mode.to_string(),
        stop_hooks: spec
            .hooks
            .iter()
            .filter(|(p, _)| {
                matches!(
                    p,
                    HookPoint::ExecPrestop | HookPoint::ExecStop | HookPoint::ExecPoststop
                )
            })
            .cloned()
            .collect(),
        hook_env: spec.hook_env.clone(),
    }
}
