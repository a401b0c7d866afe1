//! Starting many jails at once (issue 15): the jails of one start wave (same priority, none
//! needing another) start concurrently on a bounded pool of worker threads.
//!
//! Each worker has a backend and a plugin registry of its own (its own netlink sockets, its own
//! handles on the plugin libraries, which the dynamic loader maps once for the process), and
//! each jail keeps its own lock, journal and rollback: one jail's failure never touches
//! another's, and a SIGKILL leaves every jail either started or journaled for the next
//! command to clean up, exactly as one jail at a time does. Results come back in the order of
//! the wave, so the output does not depend on which worker was faster.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use super::start::BegunStart;
use super::waves::{start_waves, Ranked};
use super::{interrupt, Failure, JailError, JailSpec, Lifecycle, Outcome, Progress, Reported};
use crate::host::Backend;
use crate::plugins::Registry;

/// Makes what a worker thread needs: a backend and a plugin registry of its own.
pub type MakeWorker<'k> = dyn Fn() -> (Box<dyn Backend>, Registry) + Sync + 'k;

/// The worker pool of a multi-jail start.
#[derive(Clone, Copy)]
pub struct Workers<'k> {
    /// At most this many jails start at the same time; [`AUTO_JOBS`] for [`default_jobs`].
    pub jobs: usize,
    pub make: &'k MakeWorker<'k>,
}

impl Workers<'_> {
    /// How many jails start at the same time, `jobs` with [`AUTO_JOBS`] looked up.
    fn count(&self) -> usize {
        match self.jobs {
            AUTO_JOBS => default_jobs(),
            jobs => jobs,
        }
    }
}

/// [`Workers::jobs`] (and the `jobs` of `actions::start_jobs`) for "the CPU count"
/// ([`default_jobs`]), looked up only for a wave of more than one jail: the lookup reads the
/// process's cgroup files, which a start of one jail need not pay for.
pub const AUTO_JOBS: usize = 0;

/// The default number of concurrent starts: the CPU count (namespace creation is CPU work in
/// the kernel).
pub fn default_jobs() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

/// At most this many jails of a wave are begun at once: each holds its lock and journal open
/// until it is finished, and a service's default open-file limit is 1,024.
pub(super) const BATCH: usize = 128;

impl Lifecycle<'_> {
    /// Starts `specs` (validated, in start order) wave by wave; within a wave, concurrently
    /// when a worker pool is set.
    pub(super) fn start_in_waves(&mut self, specs: &[JailSpec]) -> Vec<Reported> {
        let ranked: Vec<Ranked> = specs.iter().map(Ranked::from).collect();
        // The specs come ordered, so this cannot find a cycle; one wave a jail if it did.
        let waves = start_waves(&ranked)
            .unwrap_or_else(|_| ranked.iter().map(|r| vec![r.name.clone()]).collect());
        let mut results = Vec::with_capacity(specs.len());
        for wave in waves {
            let wave: Vec<&JailSpec> = wave
                .iter()
                .filter_map(|name| specs.iter().find(|s| &s.name == name))
                .collect();
            // The worker count only for a wave that could use it (see `AUTO_JOBS`).
            let workers = self.workers.filter(|_| wave.len() > 1).map(|w| Workers {
                jobs: w.count(),
                ..w
            });
            match workers {
                Some(workers) if workers.jobs > 1 => {
                    for batch in wave.chunks(BATCH) {
                        results.extend(self.start_concurrently(batch, workers))
                    }
                }
                _ => results.extend(wave.iter().map(|spec| {
                    let result = self.start_reported(spec);
                    self.reported(result)
                })),
            }
        }
        results
    }

    /// Starts the jails of one wave: each begun here, in wave order (lock, leftovers, JID,
    /// journal), so JIDs do not depend on timing; then finished on `workers.jobs` threads.
    /// Results in wave order.
    fn start_concurrently(&mut self, wave: &[&JailSpec], workers: Workers<'_>) -> Vec<Reported> {
        let slots: Vec<Mutex<Slot>> = wave
            .iter()
            .map(|spec| {
                let begun = interrupt::check()
                    .map_err(Failure::NotStarted)
                    .and_then(|()| self.begin_start(spec));
                Mutex::new(match begun {
                    Ok(begun) => Slot::Begun(Box::new(begun)),
                    Err(e) => Slot::Done(Err(JailError::new(&spec.name, e))),
                })
            })
            .collect();
        let pending: Vec<usize> = slots
            .iter()
            .enumerate()
            .filter(|(_, slot)| matches!(*lock(slot), Slot::Begun(_)))
            .map(|(i, _)| i)
            .collect();
        let next = AtomicUsize::new(0);
        let run = self.run.clone();
        let faults = self.faults.clone();
        let progress = InOrder::new(self.progress);
        progress.tell(&slots);
        std::thread::scope(|scope| {
            for _ in 0..workers.jobs.min(pending.len()) {
                scope.spawn(|| {
                    let (mut backend, mut registry) = (workers.make)();
                    let mut lifecycle =
                        Lifecycle::new(backend.as_mut(), &mut registry, run.clone())
                            .with_faults(faults.clone());
                    while let Some(&i) = pending.get(next.fetch_add(1, Ordering::SeqCst)) {
                        let spec = wave[i];
                        let taken = std::mem::replace(&mut *lock(&slots[i]), Slot::Taken);
                        let Slot::Begun(begun) = taken else { continue };
                        let result = lifecycle
                            .finish_start(spec, *begun)
                            .map(|jid| (spec.name.clone(), Outcome::Started { jid }))
                            .map_err(|e| JailError::new(&spec.name, e));
                        *lock(&slots[i]) = Slot::Done(result);
                        progress.tell(&slots);
                    }
                });
            }
        });
        slots
            .into_iter()
            .zip(wave)
            .map(
                |(slot, spec)| match slot.into_inner().unwrap_or_else(|e| e.into_inner()) {
                    Slot::Done(result) => result,
                    // Unreachable: every begun start was finished (a panicking worker ends the
                    // scope with its panic).
                    Slot::Begun(_) | Slot::Taken => {
                        unreachable!("the start of {} was not finished", spec.name)
                    }
                },
            )
            .collect()
    }
}

/// The progress of a concurrent wave in wave order: a jail's result is told once it and every
/// jail before it are done, so the lines a command prints as it goes come in the same order as
/// the final report.
struct InOrder<'p> {
    progress: &'p Progress<'p>,
    /// The slots told so far.
    told: Mutex<usize>,
}

impl<'p> InOrder<'p> {
    fn new(progress: &'p Progress<'p>) -> InOrder<'p> {
        InOrder {
            progress,
            told: Mutex::new(0),
        }
    }

    /// Tells every finished result after the last one told, up to the first unfinished slot.
    /// The cursor's lock is taken before a slot's, never while a slot's is held.
    fn tell(&self, slots: &[Mutex<Slot>]) {
        let mut told = self.told.lock().unwrap_or_else(|e| e.into_inner());
        while let Some(slot) = slots.get(*told) {
            let Slot::Done(result) = &*lock(slot) else {
                break;
            };
            (self.progress)(result);
            *told += 1;
        }
    }
}

/// One jail of a concurrent wave: begun and waiting for a worker, being finished, or done.
enum Slot {
    Begun(Box<BegunStart>),
    Taken,
    Done(Reported),
}

fn lock(slot: &Mutex<Slot>) -> std::sync::MutexGuard<'_, Slot> {
    slot.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn done(name: &str) -> Mutex<Slot> {
        Mutex::new(Slot::Done(Ok((
            name.to_string(),
            Outcome::Started { jid: 1 },
        ))))
    }

    #[test]
    fn progress_comes_in_wave_order_as_soon_as_the_jails_before_are_done() {
        let told = Mutex::new(Vec::new());
        let record = |r: &Reported| {
            let name = r.as_ref().map(|(n, _)| n.clone()).unwrap_or_default();
            told.lock().unwrap().push(name);
        };
        let progress = InOrder::new(&record);
        // a is done, b still runs, c is done: only a can be told.
        let slots = vec![done("a"), Mutex::new(Slot::Taken), done("c")];
        progress.tell(&slots);
        assert_eq!(*told.lock().unwrap(), ["a"]);
        progress.tell(&slots);
        assert_eq!(*told.lock().unwrap(), ["a"], "each result is told once");
        *lock(&slots[1]) = Slot::Done(Ok(("b".into(), Outcome::Started { jid: 2 })));
        progress.tell(&slots);
        assert_eq!(*told.lock().unwrap(), ["a", "b", "c"]);
    }
}
