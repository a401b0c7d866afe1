//! Starting and stopping jails: validate everything first, journal every change, roll back on
//! failure, undo in a deliberate order on stop.
//!
//! start, per jail (dependencies first): exec_prestart, mode `pre_start`, create the jail,
//! exec_created, mode `setup` (which may hand ports to the firewall backend), exec_start (in the
//! jail), exec_poststart, mode `post_start`.
//! stop: mode `pre_stop`, exec_prestop, exec_stop (in the jail), mode `teardown`, remove the jail
//! (its processes end and its own network stack goes with it), exec_poststop, then the remaining
//! host-side pieces in reverse order of creation, then mode `post_stop`.

mod conflicts;
mod faults;
pub mod interrupt;
mod order;
mod prepare;
mod session;
mod spec;

use std::collections::BTreeMap;
use std::fmt;
use std::net::IpAddr;
use std::rc::Rc;

use ioc_sdk::{Hook, HostError, HostErrorKind, HostOp, HostReply, Jail, Platform, PluginKind};

pub use conflicts::AddressBook;
pub use faults::Faults;
pub use order::dependency_order;
pub use prepare::spec_for;
pub use session::Session;
pub use spec::{auto_mode, JailSpec};

use crate::host::Backend;
use crate::journal::{Journal, Record};
use crate::plugins::{LoadedPlugin, Registry};
use crate::runtime::{JailState, RunDir};
use crate::snapshot::Snapshot;
use crate::step::{HookPoint, JailParams, Step, Undo};
use session::{perform, perform_undo, unwind, Origin};

/// A failure of one jail's operation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JailError {
    pub jail: String,
    pub message: String,
}

impl JailError {
    fn new(jail: &str, message: impl Into<String>) -> JailError {
        JailError {
            jail: jail.to_string(),
            message: message.into(),
        }
    }
}

impl fmt::Display for JailError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "jail '{}': {}", self.jail, self.message)
    }
}

impl std::error::Error for JailError {}

/// A jail to stop, with the jails it depends on (which stop after it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StopTarget {
    pub name: String,
    pub depends: Vec<String>,
}

/// What happened to one jail.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Started { jid: u32 },
    AlreadyRunning { jid: u32 },
    Stopped,
    NotRunning,
}

/// The plan of one jail: the steps it would take, on which platform, with which JID.
#[derive(Clone, Debug)]
pub struct JailPlan {
    pub jail: String,
    pub jid: u32,
    pub params: JailParams,
    pub steps: Vec<Step>,
}

/// The engine, bound to a backend, the plugins and the run dir.
pub struct Lifecycle<'a> {
    backend: &'a mut dyn Backend,
    plugins: &'a mut Registry,
    run: RunDir,
    faults: Faults,
}

fn hook_error(point: HookPoint, e: HostError) -> String {
    format!("{} failed: {e}", point.property())
}

impl<'a> Lifecycle<'a> {
    pub fn new(
        backend: &'a mut dyn Backend,
        plugins: &'a mut Registry,
        run: RunDir,
    ) -> Lifecycle<'a> {
        Lifecycle {
            backend,
            plugins,
            run,
            faults: Faults::none(),
        }
    }

    /// Enables the test switches of [`Faults`].
    pub fn with_faults(mut self, faults: Faults) -> Lifecycle<'a> {
        self.faults = faults;
        self
    }

    fn platform(&self) -> Platform {
        self.backend.platform()
    }

    fn mode_plugin(&mut self, spec_mode: &str) -> Result<Rc<LoadedPlugin>, String> {
        let plugin = self.plugins.get(spec_mode, PluginKind::Network)?;
        if !plugin.supports(self.platform()) {
            return Err(format!(
                "network plugin '{spec_mode}' does not support {}",
                self.platform()
            ));
        }
        Ok(plugin)
    }

    /// Runs a plugin hook that may only ask questions (validation).
    fn call_read_only(
        &mut self,
        plugin: &LoadedPlugin,
        hook: Hook,
        jail: &Jail,
        params: &JailParams,
    ) -> Result<(), String> {
        let backend = &mut *self.backend;
        plugin.call(
            hook,
            jail,
            &mut |op: &HostOp| -> Result<HostReply, HostError> {
                if op.is_query() {
                    backend.perform(params, op)
                } else {
                    Err(HostError::new(
                        HostErrorKind::Unsupported,
                        format!("{} is not allowed while validating", op.name()),
                    ))
                }
            },
        )
    }

    /// Everything that can be checked before any change: plugins present, enabled and
    /// willing, addresses free, firewall ready. Returns every problem, not just the first.
    pub fn validate(&mut self, specs: &[JailSpec]) -> Vec<JailError> {
        let mut errors = Vec::new();
        let run = self.run.clone();
        let mut book = AddressBook::new(&run);
        for spec in specs {
            if let Some(conflict) = book.conflict(&spec.name, &spec.network) {
                errors.push(JailError::new(&spec.name, conflict));
            }
            book.add(&spec.name, &spec.network);
            let jail = spec.jail(0, self.platform());
            let params = spec.params_with_jid(0);
            let mode = match self.mode_plugin(&spec.mode) {
                Ok(m) => m,
                Err(e) => {
                    errors.push(JailError::new(&spec.name, e));
                    continue;
                }
            };
            if let Err(e) = self.call_read_only(&mode, Hook::Validate, &jail, &params) {
                errors.push(JailError::new(
                    &spec.name,
                    format!("network plugin {}: {e}", spec.mode),
                ));
            }
            if spec.needs_firewall() {
                if let Err(e) = self.check_firewall(&jail, &params) {
                    errors.push(JailError::new(&spec.name, e));
                }
            }
        }
        errors
    }

    fn check_firewall(&mut self, jail: &Jail, params: &JailParams) -> Result<(), String> {
        let name = jail.firewall().to_string();
        let fw = self
            .plugins
            .get(&name, PluginKind::Firewall)
            .map_err(|e| format!("property 'firewall': {e}"))?;
        if !fw.supports(self.platform()) {
            return Err(format!(
                "property 'firewall': backend '{name}' does not support {}; choose another with `ioc set firewall=NAME defaults`",
                self.platform()
            ));
        }
        self.call_read_only(&fw, Hook::FirewallReady, jail, params)
            .map_err(|e| format!("firewall {name} is not ready: {e}"))
    }

    /// Starts jails in dependency order after validating all of them. Nothing changes when
    /// validation fails. A jail whose start fails is rolled back completely; the others go on.
    pub fn start(&mut self, specs: Vec<JailSpec>) -> Vec<Result<(String, Outcome), JailError>> {
        let specs = match self.order(specs) {
            Ok(s) => s,
            Err(e) => return vec![Err(e)],
        };
        let mut results = Vec::new();
        let mut to_start = Vec::new();
        for spec in specs {
            match self.run.state(&spec.name) {
                JailState::Running { jid } => {
                    results.push(Ok((spec.name.clone(), Outcome::AlreadyRunning { jid })))
                }
                _ => to_start.push(spec),
            }
        }
        let errors = self.validate(&to_start);
        if !errors.is_empty() {
            results.extend(errors.into_iter().map(Err));
            return results;
        }
        for spec in &to_start {
            if let Err(e) = interrupt::check() {
                results.push(Err(JailError::new(&spec.name, format!("not started: {e}"))));
                continue;
            }
            results.push(
                self.start_one(spec)
                    .map(|jid| (spec.name.clone(), Outcome::Started { jid }))
                    .map_err(|e| JailError::new(&spec.name, e)),
            );
        }
        results
    }

    fn order(&self, specs: Vec<JailSpec>) -> Result<Vec<JailSpec>, JailError> {
        let names: Vec<String> = specs.iter().map(|s| s.name.clone()).collect();
        let depends: BTreeMap<String, Vec<String>> = specs
            .iter()
            .map(|s| (s.name.clone(), s.depends.clone()))
            .collect();
        let order =
            dependency_order(&names, &depends).map_err(|e| JailError::new(&names.join(","), e))?;
        let mut by_name: BTreeMap<String, JailSpec> =
            specs.into_iter().map(|s| (s.name.clone(), s)).collect();
        Ok(order.iter().filter_map(|n| by_name.remove(n)).collect())
    }

    fn start_one(&mut self, spec: &JailSpec) -> Result<u32, String> {
        let io = |what: &str, e: std::io::Error| format!("{what}: {e}");
        let _lock = self.run.lock_jail(&spec.name).map_err(|e| io("lock", e))?;
        self.clean_leftovers(&spec.name)?;
        let addresses: Vec<IpAddr> = conflicts::static_addresses(&spec.network)
            .into_iter()
            .map(|(ip, _)| ip)
            .collect();
        let jid = self
            .run
            .allocate(&spec.name, &addresses)
            .map_err(|e| match e.kind() {
                std::io::ErrorKind::AddrInUse => e.to_string(),
                _ => io("allocate a JID", e),
            })?;
        let journal = match Journal::create(&self.run.journal_path(&spec.name)) {
            Ok(j) => j,
            Err(e) => {
                let _ = self.release(&spec.name);
                return Err(io("create journal", e));
            }
        };
        let mut s = Session::new(
            spec.jail(jid, self.platform()),
            spec.params_with_jid(jid),
            journal,
            self.faults,
        );
        let begun = s
            .journal
            .append(Record::Begin(Box::new(snapshot_of(spec, &s))));
        // A signal during the last change still fails the start: it rolls back as a whole.
        let result = begun
            .map_err(|e| io("write journal", e))
            .and_then(|_| self.run_start(spec, &mut s))
            .and_then(|()| interrupt::check());
        match result {
            Ok(()) => {
                s.journal
                    .append(Record::Started)
                    .map_err(|e| io("write journal", e))?;
                Ok(jid)
            }
            Err(e) => Err(self.roll_back(&spec.name, s, e)),
        }
    }

    /// Undoes a failed start; the message says what failed and whether cleanup did too.
    fn roll_back(&mut self, name: &str, mut s: Session, cause: String) -> String {
        let errors = unwind(self.backend, self.plugins, &mut s, true, &mut |_, _| {
            Vec::new()
        });
        if errors.is_empty() {
            let removed = s.journal.remove();
            let released = self.release(name);
            if let Err(e) = removed.and(released) {
                return format!("{cause} (rolled back, but the runtime dir was not removed: {e})");
            }
            return cause;
        }
        format!(
            "{cause}; rollback failed, run `ioc stop {name}` to retry: {}",
            errors.join("; ")
        )
    }

    fn release(&mut self, name: &str) -> std::io::Result<()> {
        self.run.release(name)?;
        self.backend.jail_released(&self.run)
    }

    /// A journal left by a crashed ioc (or a failed stop) is undone before a new start.
    fn clean_leftovers(&mut self, name: &str) -> Result<(), String> {
        match self.run.state(name) {
            JailState::Stopped => Ok(()),
            JailState::Running { jid } => Err(format!("is already running (JID {jid})")),
            state @ (JailState::Incomplete { .. } | JailState::Vanished { .. }) => {
                let what = if matches!(state, JailState::Vanished { .. }) {
                    "after the jail vanished (its namespaces are gone)"
                } else {
                    "after an interrupted start or stop"
                };
                tracing::info!(jail = name, "cleaning up {what}");
                self.stop_locked(name, true)
                    .map(drop)
                    .map_err(|e| format!("could not clean up what an interrupted run left: {e}"))
            }
        }
    }

    fn run_start(&mut self, spec: &JailSpec, s: &mut Session) -> Result<(), String> {
        let mode = self.mode_plugin(&spec.mode)?;
        self.run_hook(
            spec.hook(HookPoint::ExecPrestart),
            HookPoint::ExecPrestart,
            &spec.hook_env,
            s,
        )?;
        self.call_mode(&mode, Hook::PreStart, s)?;
        let params = s.params.clone();
        s.record(
            Step::CreateJail(params.clone()),
            Some(Undo::RemoveJail(params.clone())),
        )
        .and_then(|_| self.backend.create_jail(&params))
        .map_err(|e| format!("create the jail: {e}"))?;
        self.run_hook(
            spec.hook(HookPoint::ExecCreated),
            HookPoint::ExecCreated,
            &spec.hook_env,
            s,
        )?;
        self.call_mode(&mode, Hook::Setup, s)?;
        self.backend
            .settle_addresses(&s.params)
            .map_err(|e| e.to_string())?;
        for point in [HookPoint::ExecStart, HookPoint::ExecPoststart] {
            self.run_hook(spec.hook(point), point, &spec.hook_env, s)?;
        }
        self.call_mode(&mode, Hook::PostStart, s)
    }

    /// Runs a mode hook. Start-side hooks journal what they create, with its undo;
    /// stop-side hooks only remove, so their requests are carried out as removals.
    fn call_mode(
        &mut self,
        mode: &LoadedPlugin,
        hook: Hook,
        s: &mut Session,
    ) -> Result<(), String> {
        let hook_name = hook.name();
        let removing = matches!(hook, Hook::Teardown | Hook::PostStop);
        let jail = s.jail.clone();
        let (backend, registry) = (&mut *self.backend, &mut *self.plugins);
        mode.call(hook, &jail, &mut |op: &HostOp| {
            if removing {
                perform_undo(backend, s, op)
            } else {
                perform(backend, registry, s, op, Origin::Mode)
            }
        })
        .map_err(|e| format!("network plugin {}: {hook_name}: {e}", mode.name))
    }

    fn run_hook(
        &mut self,
        command: Option<&str>,
        point: HookPoint,
        env: &[(String, String)],
        s: &mut Session,
    ) -> Result<(), String> {
        let Some(command) = command else {
            return Ok(());
        };
        let mut env = env.to_vec();
        env.push(("IOC_JID".into(), s.params.jid.to_string()));
        env.push(("IOC_JAIL_PATH".into(), "/".into()));
        s.record(
            Step::Hook {
                point,
                command: command.to_string(),
            },
            None,
        )
        .and_then(|_| self.backend.run_hook(&s.params, point, command, &env))
        .map_err(|e| hook_error(point, e))
    }

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
                    .map_err(|e| format!("lock: {e}"))
                    .and_then(|_lock| self.stop_locked(name, force));
                result
                    .map(|o| (name.clone(), o))
                    .map_err(|e| JailError::new(name, e))
            })
            .collect()
    }

    fn stop_locked(&mut self, name: &str, force: bool) -> Result<Outcome, String> {
        let path = self.run.journal_path(name);
        let journal =
            Journal::open(&path).map_err(|e| format!("read journal {}: {e}", path.display()))?;
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
            journal
                .remove()
                .map_err(|e| format!("remove journal: {e}"))?;
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
            return Err(format!(
                "stopped with errors (run `ioc stop {name}` again to retry): {}",
                errors.join("; ")
            ));
        }
        s.journal
            .remove()
            .map_err(|e| format!("remove journal: {e}"))?;
        self.release(name)
            .map_err(|e| format!("remove runtime dir: {e}"))?;
        if !errors.is_empty() {
            return Err(format!("stopped, but: {}", errors.join("; ")));
        }
        Ok(if was_running {
            Outcome::Stopped
        } else {
            Outcome::NotRunning
        })
    }

    /// Removes a jail that its journal does not describe (none there is fine), then its
    /// runtime dir.
    fn remove_unrecorded(&mut self, name: &str) -> Result<(), String> {
        self.backend
            .remove_jail(&JailParams::unknown(name), true)
            .map_err(|e| format!("remove jail: {e}"))?;
        self.release(name)
            .map_err(|e| format!("remove runtime dir: {e}"))
    }

    /// The stop itself. Errors before anything changed abort it (unless forced); errors after
    /// that are collected and returned.
    fn stop_session(
        &mut self,
        snapshot: &Snapshot,
        s: &mut Session,
        force: bool,
        was_running: bool,
    ) -> Result<Vec<String>, String> {
        let mut errors = Vec::new();
        let mode = self.mode_plugin(&snapshot.mode);
        if was_running {
            let prestop = |this: &mut Self, s: &mut Session| -> Result<(), String> {
                if let Ok(mode) = &mode {
                    this.call_mode(mode, Hook::PreStop, s)?;
                }
                for point in [HookPoint::ExecPrestop, HookPoint::ExecStop] {
                    this.run_hook(snapshot.stop_hook(point), point, &snapshot.hook_env, s)?;
                }
                Ok(())
            };
            if let Err(e) = prestop(self, s) {
                if !force {
                    return Err(format!("{e} (nothing was stopped; use -f to stop anyway)"));
                }
                errors.push(e);
            }
        }
        s.journal
            .append(Record::Stopping)
            .map_err(|e| format!("write journal: {e}"))?;
        match &mode {
            Ok(mode) if was_running => {
                if let Err(e) = self.call_mode(mode, Hook::Teardown, s) {
                    errors.push(e);
                }
            }
            Ok(_) => {}
            Err(e) => errors.push(e.clone()),
        }
        let poststop = snapshot
            .stop_hook(HookPoint::ExecPoststop)
            .filter(|_| was_running);
        let mut env = snapshot.hook_env.clone();
        env.push(("IOC_JID".into(), s.params.jid.to_string()));
        env.push(("IOC_JAIL_PATH".into(), "/".into()));
        let mut after_jail = |backend: &mut dyn Backend, s: &mut Session| -> Vec<String> {
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
                .map(|e| hook_error(HookPoint::ExecPoststop, e))
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
            if let Ok(mode) = &mode {
                if let Err(e) = self.call_mode(mode, Hook::PostStop, s) {
                    errors.push(e);
                }
            }
        }
        Ok(errors)
    }

    /// What starting these jails would do, without doing it (use with a plan backend). The
    /// JIDs are those the jails would get now.
    pub fn plan_start(&mut self, specs: Vec<JailSpec>) -> Result<Vec<JailPlan>, Vec<JailError>> {
        let specs = self.order(specs).map_err(|e| vec![e])?;
        // As `start` does: a jail already running here is left alone (its plan is empty, with
        // the JID it runs with), and only the others are validated.
        let to_start: Vec<JailSpec> = specs
            .iter()
            .filter(|s| self.running_here(&s.name).is_none())
            .cloned()
            .collect();
        let errors = self.validate(&to_start);
        if !errors.is_empty() {
            return Err(errors);
        }
        let mut jids = JidSimulator::new(&self.run);
        let mut plans = Vec::new();
        for spec in &specs {
            if let Some(jid) = self.running_here(&spec.name) {
                plans.push(JailPlan {
                    jail: spec.name.clone(),
                    jid,
                    params: spec.params_with_jid(jid),
                    steps: Vec::new(),
                });
                continue;
            }
            let jid = jids.next();
            let mut s = self
                .simulated_start(spec, jid)
                .map_err(|e| vec![JailError::new(&spec.name, e)])?;
            let steps = s.journal.start_steps().cloned().collect();
            s.journal = Journal::in_memory();
            plans.push(JailPlan {
                jail: spec.name.clone(),
                jid,
                params: s.params,
                steps,
            });
        }
        Ok(plans)
    }

    fn simulated_start(&mut self, spec: &JailSpec, jid: u32) -> Result<Session, String> {
        let mut s = Session::new(
            spec.jail(jid, self.platform()),
            spec.params_with_jid(jid),
            Journal::in_memory(),
            Faults::none(),
        );
        s.journal
            .append(Record::Begin(Box::new(snapshot_of(spec, &s))))
            .map_err(|e| e.to_string())?;
        self.run_start(spec, &mut s)?;
        s.journal
            .append(Record::Started)
            .map_err(|e| e.to_string())?;
        Ok(s)
    }

    /// What stopping these jails would do. A running jail's own journal is used when it can be
    /// read; otherwise the stop of a freshly planned start is shown.
    pub fn plan_stop(&mut self, specs: Vec<JailSpec>) -> Result<Vec<JailPlan>, Vec<JailError>> {
        let live_journal = |run: &RunDir, platform: Platform, name: &str| {
            Journal::read(&run.journal_path(name))
                .ok()
                .flatten()
                .filter(|j| j.started() && platform == Platform::current())
        };
        // A jail that is not running is shown stopping after a start planned now, with the JID
        // that start would give it: handed out in start order (the stops go in reverse), so
        // the stop plan and the start plan of the same jails agree.
        let mut jids = JidSimulator::new(&self.run);
        let start_order = self.order(specs.clone()).unwrap_or_else(|_| specs.clone());
        let planned_jids: BTreeMap<String, u32> = start_order
            .iter()
            .filter(|s| live_journal(&self.run, self.platform(), &s.name).is_none())
            .map(|s| (s.name.clone(), jids.next()))
            .collect();
        let mut plans = Vec::new();
        for spec in start_order.iter().rev() {
            let fail = |e: String| vec![JailError::new(&spec.name, e)];
            let live = live_journal(&self.run, self.platform(), &spec.name);
            let (snapshot, journal) = match live {
                Some(j) => (
                    j.snapshot()
                        .cloned()
                        .ok_or_else(|| fail("journal without a start record".into()))?,
                    j,
                ),
                None => {
                    let jid = match planned_jids.get(&spec.name) {
                        Some(jid) => *jid,
                        None => jids.next(),
                    };
                    let s = self.simulated_start(spec, jid).map_err(fail)?;
                    (
                        s.journal
                            .snapshot()
                            .cloned()
                            .ok_or_else(|| fail("no snapshot".into()))?,
                        s.journal,
                    )
                }
            };
            let mut memory = Journal::in_memory();
            for record in journal.records() {
                memory
                    .append(record.clone())
                    .map_err(|e| fail(e.to_string()))?;
            }
            let mut s = Session::new(
                snapshot.jail.clone(),
                snapshot.params.clone(),
                memory,
                Faults::none(),
            );
            let errors = self
                .stop_session(&snapshot, &mut s, false, true)
                .map_err(fail)?;
            if !errors.is_empty() {
                return Err(fail(errors.join("; ")));
            }
            plans.push(JailPlan {
                jail: spec.name.clone(),
                jid: snapshot.params.jid,
                params: snapshot.params.clone(),
                steps: s.journal.stop_steps().cloned().collect(),
            });
        }
        Ok(plans)
    }
}

impl Lifecycle<'_> {
    /// The JID of a jail running on this host, when planning for this host's platform.
    fn running_here(&self, name: &str) -> Option<u32> {
        if self.platform() != Platform::current() {
            return None;
        }
        match self.run.state(name) {
            JailState::Running { jid } => Some(jid),
            _ => None,
        }
    }
}

/// Hands out the JIDs a sequence of starts would get.
struct JidSimulator {
    used: Vec<u32>,
}

impl JidSimulator {
    fn new(run: &RunDir) -> JidSimulator {
        JidSimulator {
            used: run.used_jids(),
        }
    }

    fn next(&mut self) -> u32 {
        let jid = (1..).find(|j| !self.used.contains(j)).unwrap_or(1);
        self.used.push(jid);
        jid
    }
}

fn snapshot_of(spec: &JailSpec, s: &Session) -> Snapshot {
    Snapshot {
        jail: s.jail.clone(),
        params: s.params.clone(),
        mode: spec.mode.clone(),
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

/// The snapshot of a jail that is running now.
pub fn running_snapshot(run: &RunDir, name: &str) -> Option<Snapshot> {
    let journal = Journal::read(&run.journal_path(name)).ok().flatten()?;
    (journal.started() && !journal.stopping())
        .then(|| journal.snapshot().cloned())
        .flatten()
}
