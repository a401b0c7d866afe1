//! Starting and stopping jails: validate everything first, journal every change, roll back on
//! failure, undo in a deliberate order on stop.
//!
//! start, per jail (dependencies first): exec_prestart, mode `pre_start`, create the jail,
//! exec_created, mode `setup` (which may hand ports to the firewall backend), exec_start (in the
//! jail), exec_poststart, mode `post_start`.
//! stop: mode `pre_stop`, exec_prestop, exec_stop (in the jail), mode `teardown`, remove the jail
//! (its processes end and its own network stack goes with it), exec_poststop, then the remaining
//! host-side pieces in reverse order of creation, then mode `post_stop`.
//!
//! Where each part lives:
//! - `error`: what can fail, as data;
//! - `validate`: what is checked before anything changes;
//! - `firewall`: the firewall readiness a mode asks for (`HostOp::CheckFirewall`);
//! - `start`: a start, its journal and the rollback of a failed one;
//! - `stop`: what a stop undoes and in which order;
//! - `plan`: dry runs, through the same code with an in-memory journal;
//! - `hooks`: calling a mode's hooks and the exec_* commands;
//! - `session`: journaling each change before it is made, and unwinding the journal;
//! - `spec`, `prepare`: a jail's start description, built from its configuration.

mod bulk_start;
mod bulk_stop;
mod conflicts;
mod error;
mod faults;
mod firewall;
mod hooks;
mod inspect;
pub mod interrupt;
mod order;
mod plan;
mod prepare;
mod root_check;
pub(crate) mod session;
mod spec;
mod start;
mod stop;
mod validate;
mod waves;

use std::rc::Rc;

use ioc_sdk::{NetworkShape, Platform, PluginKind};

pub use bulk_start::{default_jobs, MakeWorker, Workers, AUTO_JOBS};
pub use conflicts::AddressBook;
pub use error::{Failure, Holder, JailError, StartError, UndoError};
pub use faults::Faults;
pub use firewall::FirewallError;
pub use interrupt::Interrupted;
pub use order::{dependency_order, CycleError};
pub use prepare::spec_for;
pub use session::Session;
pub use spec::{JailSpec, ModeChoice};
pub use stop::running_snapshot;
pub use waves::{start_waves, Ranked};

use crate::host::Backend;
use crate::plugins::{LoadedPlugin, Registry};
use crate::runtime::RunDir;
use crate::step::{JailParams, Step};

/// A jail to stop, with the jails it depends on (which stop after it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StopTarget {
    pub name: String,
    pub depends: Vec<String>,
    /// `priority`: lower stops last.
    pub priority: u8,
}

/// What happened to one jail.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Started { jid: u32 },
    AlreadyRunning { jid: u32 },
    Stopped,
    NotRunning,
}

/// One jail's entry in the report of a multi-jail start or stop.
pub type Reported = Result<(String, Outcome), JailError>;

/// Told each jail's result the moment it is known, so a command over many jails can show one
/// line per jail as it goes rather than all at the end. Called exactly once per entry of the
/// final report and in the same order (a concurrent wave reports a jail once it and the jails
/// before it in the wave are done), from whichever thread finished it.
pub type Progress<'p> = dyn Fn(&Reported) + Sync + 'p;

/// The progress of a caller that only wants the final report.
pub fn silent(_: &Reported) {}

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
    /// The worker pool of a multi-jail start; one jail at a time without.
    workers: Option<Workers<'a>>,
    /// Told each jail's result as soon as it is known.
    progress: &'a Progress<'a>,
    /// The firewall backends found ready in this command: readiness is the host's, not a
    /// jail's, so validating 1,000 jails asks each backend once (a failure is asked again, so
    /// every jail reports it).
    ready_firewalls: std::collections::BTreeSet<String>,
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
            workers: None,
            progress: &silent,
            ready_firewalls: Default::default(),
        }
    }

    /// Tells `progress` each jail's result of a start or stop as soon as it is known.
    pub fn with_progress(mut self, progress: &'a Progress<'a>) -> Lifecycle<'a> {
        self.progress = progress;
        self
    }

    /// Passes one jail's result to the progress callback on its way into the report.
    pub(super) fn reported(&self, result: Reported) -> Reported {
        (self.progress)(&result);
        result
    }

    /// Starts the jails of one start wave concurrently on `workers` (see `bulk_start`).
    pub fn with_workers(mut self, workers: Workers<'a>) -> Lifecycle<'a> {
        self.workers = Some(workers);
        self
    }

    /// Enables the test switches of [`Faults`].
    pub fn with_faults(mut self, faults: Faults) -> Lifecycle<'a> {
        self.faults = faults;
        self
    }

    pub(super) fn platform(&self) -> Platform {
        self.backend.platform()
    }

    /// The mode a jail starts with: the one it names, or the one `auto` picks for its network.
    pub(super) fn mode_for(&mut self, spec: &JailSpec) -> Result<Rc<LoadedPlugin>, Failure> {
        match &spec.mode {
            ModeChoice::Named(name) => self.mode_plugin(name),
            ModeChoice::Auto => {
                let shape = NetworkShape::of(&spec.network);
                Ok(self.plugins.auto_mode(shape, self.platform())?)
            }
        }
    }

    /// The mode called `spec_mode`, which must support this platform.
    pub(super) fn mode_plugin(&mut self, spec_mode: &str) -> Result<Rc<LoadedPlugin>, Failure> {
        let plugin = self.plugins.get(spec_mode, PluginKind::Network)?;
        if !plugin.supports(self.platform()) {
            return Err(Failure::ModeUnsupported {
                plugin: spec_mode.to_string(),
                platform: self.platform(),
            });
        }
        Ok(plugin)
    }
}
