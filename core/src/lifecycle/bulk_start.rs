//! Starting many jails at once (issue 15): the jails of one start wave (same priority, none
//! needing another) start concurrently on a bounded pool of worker threads.
//!
//! Each worker has a backend and a plugin registry of its own (its own netlink sockets, its own
//! handles on the plugin libraries, which the dynamic loader maps once for the process), and
//! each jail keeps its own lock, journal and rollback: one jail's failure never touches
//! another's, and a SIGKILL leaves every jail either started or journaled for the next
//! command to clean up, exactly as one jail at a time does. Results come back in the order of
//! the wave, so the output does not depend on which worker was faster.

use std::collections::VecDeque;
use std::sync::{Condvar, Mutex};

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

/// At most this many jails of a wave are begun and not finished at once: each holds its lock
/// and journal open until it is finished, and a service's default open-file limit is 1,024.
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
                    results.extend(self.start_concurrently(&wave, workers))
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
    /// journal), so JIDs do not depend on timing, and finished on `workers.jobs` threads as soon
    /// as it is begun. Beginning goes on while the workers finish the jails begun before (with
    /// at most [`BATCH`] begun and not finished), so the workers never wait for a whole batch
    /// to be begun. Results in wave order.
    fn start_concurrently(&mut self, wave: &[&JailSpec], workers: Workers<'_>) -> Vec<Reported> {
        let slots: Vec<Mutex<Slot>> = wave.iter().map(|_| Mutex::new(Slot::Taken)).collect();
        let queue = Queue::default();
        let jobs = workers.jobs.min(wave.len());
        queue.state().workers = jobs;
        let run = self.run.clone();
        let faults = self.faults.clone();
        let progress = InOrder::new(self.progress);
        std::thread::scope(|scope| {
            for _ in 0..jobs {
                scope.spawn(|| {
                    let _gone = WorkerGone(&queue);
                    let (mut backend, mut registry) = (workers.make)();
                    let mut lifecycle =
                        Lifecycle::new(backend.as_mut(), &mut registry, run.clone())
                            .with_faults(faults.clone());
                    while let Some(i) = queue.next() {
                        let spec = wave[i];
                        let taken = std::mem::replace(&mut *lock(&slots[i]), Slot::Taken);
                        if let Slot::Begun(begun) = taken {
                            let result = lifecycle
                                .finish_start(spec, *begun)
                                .map(|jid| (spec.name.clone(), Outcome::Started { jid }))
                                .map_err(|e| JailError::new(&spec.name, e));
                            *lock(&slots[i]) = Slot::Done(result);
                        }
                        queue.finished();
                        progress.tell(&slots);
                    }
                });
            }
            // Closes the queue however this ends, so that no worker waits for ever.
            let _close = CloseOnDrop(&queue);
            for (i, spec) in wave.iter().enumerate() {
                if !queue.wait_for_room() {
                    break;
                }
                let begun = interrupt::check()
                    .map_err(Failure::NotStarted)
                    .and_then(|()| self.begin_start(spec));
                match begun {
                    Ok(begun) => {
                        *lock(&slots[i]) = Slot::Begun(Box::new(begun));
                        queue.push(i);
                    }
                    Err(e) => {
                        *lock(&slots[i]) = Slot::Done(Err(JailError::new(&spec.name, e)));
                        progress.tell(&slots);
                    }
                }
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

/// The begun starts of a concurrent wave waiting for a worker, in wave order, and how many are
/// begun and not finished yet.
#[derive(Default)]
struct Queue {
    state: Mutex<QueueState>,
    changed: Condvar,
}

#[derive(Default)]
struct QueueState {
    waiting: VecDeque<usize>,
    /// Begun and not finished.
    open: usize,
    /// No more will come.
    closed: bool,
    /// Workers still running.
    workers: usize,
}

impl Queue {
    fn state(&self) -> std::sync::MutexGuard<'_, QueueState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn wait<'s>(
        &'s self,
        state: std::sync::MutexGuard<'s, QueueState>,
    ) -> std::sync::MutexGuard<'s, QueueState> {
        self.changed.wait(state).unwrap_or_else(|e| e.into_inner())
    }

    /// Waits until fewer than [`BATCH`] starts are begun and not finished; `false` when no
    /// worker is left to finish them (they panicked, and the scope will say so).
    fn wait_for_room(&self) -> bool {
        let mut state = self.state();
        while state.open >= BATCH && state.workers > 0 {
            state = self.wait(state);
        }
        state.workers > 0
    }

    /// A worker has ended (normally or by a panic).
    fn worker_gone(&self) {
        let mut state = self.state();
        state.workers -= 1;
        self.changed.notify_all();
    }

    /// A begun start, for the next free worker.
    fn push(&self, slot: usize) {
        let mut state = self.state();
        state.waiting.push_back(slot);
        state.open += 1;
        self.changed.notify_all();
    }

    /// The next begun start to finish; `None` once the queue is closed and empty.
    fn next(&self) -> Option<usize> {
        let mut state = self.state();
        loop {
            if let Some(slot) = state.waiting.pop_front() {
                return Some(slot);
            }
            if state.closed {
                return None;
            }
            state = self.wait(state);
        }
    }

    /// A start taken from the queue is finished (its lock and journal closed).
    fn finished(&self) {
        let mut state = self.state();
        state.open -= 1;
        self.changed.notify_all();
    }
}

/// Tells a [`Queue`] that a worker ended when dropped, also by a panic.
struct WorkerGone<'q>(&'q Queue);

impl Drop for WorkerGone<'_> {
    fn drop(&mut self) {
        self.0.worker_gone();
    }
}

/// Closes a [`Queue`] when dropped: the workers finish what is queued, then end.
struct CloseOnDrop<'q>(&'q Queue);

impl Drop for CloseOnDrop<'_> {
    fn drop(&mut self) {
        self.0.state().closed = true;
        self.0.changed.notify_all();
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
    fn beginning_waits_for_room_and_stops_when_no_worker_is_left() {
        let queue = Queue::default();
        queue.state().workers = 1;
        for slot in 0..BATCH {
            assert!(queue.wait_for_room());
            queue.push(slot);
        }
        std::thread::scope(|scope| {
            let room = scope.spawn(|| queue.wait_for_room());
            std::thread::sleep(std::time::Duration::from_millis(50));
            assert!(!room.is_finished(), "{BATCH} begun and none finished");
            assert_eq!(queue.next(), Some(0));
            queue.finished();
            assert!(room.join().unwrap());
        });
        queue.push(BATCH);
        queue.worker_gone();
        assert!(!queue.wait_for_room(), "nobody would finish another start");
        CloseOnDrop(&queue);
        let rest: Vec<usize> = std::iter::from_fn(|| queue.next()).collect();
        assert_eq!(
            rest.len(),
            BATCH,
            "what was queued is still handed out, then None"
        );
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
