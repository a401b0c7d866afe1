//! Dry runs: the steps a start or stop would take, simulated through the real lifecycle.

use std::collections::BTreeMap;

use ioc_sdk::Platform;

use super::start::{io, snapshot_of};
use super::{Failure, Faults, JailError, JailPlan, JailSpec, Lifecycle, Session};
use crate::journal::{Journal, Record};
use crate::runtime::{JailState, RunDir};

impl Lifecycle<'_> {
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

    pub(super) fn simulated_start(
        &mut self,
        spec: &JailSpec,
        jid: u32,
    ) -> Result<Session, Failure> {
        let mode = self.mode_for(spec)?;
        let mut s = Session::new(
            spec.jail(jid, self.platform()),
            spec.params_with_jid(jid),
            Journal::in_memory(),
            Faults::none(),
        );
        s.journal
            .append(Record::Begin(Box::new(snapshot_of(spec, &mode.name, &s))))
            .map_err(io("write journal"))?;
        self.run_start(spec, &mode, &mut s)?;
        s.journal
            .append(Record::Started)
            .map_err(io("write journal"))?;
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
            let fail = |e: Failure| vec![JailError::new(&spec.name, e)];
            let live = live_journal(&self.run, self.platform(), &spec.name);
            let (snapshot, journal) = match live {
                Some(j) => (
                    j.snapshot()
                        .cloned()
                        .ok_or_else(|| fail(Failure::NoStartRecord))?,
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
                            .ok_or_else(|| fail(Failure::NoStartRecord))?,
                        s.journal,
                    )
                }
            };
            let mut memory = Journal::in_memory();
            for record in journal.records() {
                memory
                    .append(record.clone())
                    .map_err(|e| fail(io("write journal")(e)))?;
            }
            let mut s = Session::new(
                snapshot.jail.clone(),
                snapshot.params.clone(),
                memory,
                Faults::none(),
            );
            let errors = self
                .stop_session_whole(&snapshot, &mut s, false, true)
                .map_err(fail)?;
            if !errors.is_empty() {
                return Err(fail(Failure::PlanFailed(errors)));
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
    /// The JID of a jail running on this host, when planning for this host's platform.
    pub(super) fn running_here(&self, name: &str) -> Option<u32> {
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
    pub(super) fn new(run: &RunDir) -> JidSimulator {
        JidSimulator {
            used: run.used_jids(),
        }
    }

    pub(super) fn next(&mut self) -> u32 {
        let jid = (1..).find(|j| !self.used.contains(j)).unwrap_or(1);
        self.used.push(jid);
        jid
    }
}
