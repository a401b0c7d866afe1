//! `ioc check` and `ioc gc`: a mode looks at what it built (`NetworkMode::check`) or releases
//! what no jail uses any more (`NetworkMode::gc`). Neither changes a jail, so nothing is
//! journaled: `check` gets the host's queries only, `gc` those and `CniGc`, which has nothing
//! to undo.

use std::collections::BTreeMap;

use abi_stable::std_types::RVec;
use ioc_sdk::{Hook, HostError, HostErrorKind, HostOp, Jail};

use super::firewall::read_only;
use super::stop::running_snapshot;
use super::{Failure, JailError, JailSpec, Lifecycle};
use crate::journal::Journal;
use crate::step::JailParams;

impl Lifecycle<'_> {
    /// Runs the mode's `check` hook for the running jail `name`, with the jail as it started.
    /// Its host answers queries, and `CniCheck` from the jail's journal (the recorded result).
    pub fn check(&mut self, name: &str) -> Result<(), Failure> {
        let journal = Journal::read(&self.run.journal_path(name))?
            .filter(|j| j.started() && !j.stopping())
            .ok_or(Failure::NotRunningForCheck)?;
        let snapshot = journal
            .snapshot()
            .cloned()
            .ok_or(Failure::NotRunningForCheck)?;
        let mode = self.mode_plugin(&snapshot.mode)?;
        let backend = &mut *self.backend;
        let params = &snapshot.params;
        mode.call(Hook::Check, &snapshot.jail, &mut |op: &HostOp| match op {
            HostOp::CniCheck { attachment } => {
                crate::cni::journaled::check(backend, &journal, params, attachment)
            }
            _ => read_only(backend, params, op),
        })
        .map_err(Failure::ModeHook)
    }

    /// Runs each mode's `gc` hook once with every jail whose mode it is: running jails as they
    /// started (their JID set), stopped ones from their configuration (JID 0). A stopped jail
    /// whose mode cannot be chosen is left out (with a warning); a mode whose `gc` fails is
    /// reported, and the other modes still run.
    pub fn gc(&mut self, specs: &[JailSpec]) -> Vec<JailError> {
        let mut errors = Vec::new();
        let mut by_mode: BTreeMap<String, Vec<Jail>> = BTreeMap::new();
        for spec in specs {
            let (mode, jail) = match running_snapshot(&self.run, &spec.name) {
                Some(snapshot) => (snapshot.mode, snapshot.jail),
                None => match self.mode_for(spec) {
                    Ok(mode) => (mode.name.clone(), spec.jail(0, self.platform())),
                    // A stopped jail whose mode cannot be chosen holds nothing a mode could
                    // release; it must not keep the others' modes from collecting.
                    Err(e) => {
                        tracing::warn!(jail = spec.name.as_str(), "gc leaves the jail out: {e}");
                        continue;
                    }
                },
            };
            by_mode.entry(mode).or_default().push(jail);
        }
        for (mode, jails) in by_mode {
            let first = jails[0].name().to_string();
            if let Err(e) = self.gc_mode(&mode, jails) {
                errors.push(JailError::new(&first, e));
            }
        }
        errors
    }

    fn gc_mode(&mut self, mode: &str, jails: Vec<Jail>) -> Result<(), Failure> {
        let plugin = self.mode_plugin(mode)?;
        let params = JailParams::unknown(jails[0].name());
        let hook_jail = jails[0].clone();
        let backend = &mut *self.backend;
        plugin
            .call(
                Hook::Gc(jails.into_iter().collect::<RVec<Jail>>()),
                &hook_jail,
                &mut |op: &HostOp| match op {
                    HostOp::CniGc { .. } => backend.perform(&params, op),
                    _ if op.is_query() => backend.perform(&params, op),
                    _ => Err(HostError::new(
                        HostErrorKind::Unsupported,
                        format!("{} is not allowed in gc", op.name()),
                    )),
                },
            )
            .map_err(Failure::ModeHook)
    }
}
