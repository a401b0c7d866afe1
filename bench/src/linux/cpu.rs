//! The CPU time of each timed command next to its wall-clock time: user plus system time of
//! the child and of the children it waited for (`getrusage(RUSAGE_CHILDREN)` before and after),
//! and the benchmark's own (`RUSAGE_SELF`): the kernel charges starting a child and reaping it
//! to the parent, and reaping a CNI plugin costs a DEL a millisecond or more here (flushing the
//! plugin's /proc entries), so the bare chain, whose plugins the benchmark itself runs, would
//! look cheaper than an `ioc stop` that runs and reaps them. On a machine other work loads,
//! wall time also counts the waits for a CPU, which hit one mode more than the other by
//! chance; CPU time compares modes more steadily. Neither counts kernel work done in workers
//! after the command (RCU callbacks, namespace teardown).

use std::time::Duration;

use super::{median, ms};

/// The CPU times of one mode's starts and stops.
pub(crate) struct Cpu {
    pub(crate) label: String,
    pub(crate) start: Vec<Duration>,
    pub(crate) stop: Vec<Duration>,
}

/// User plus system time of this (single-threaded) process and of every child it has waited
/// for so far.
pub(crate) fn spent() -> Duration {
    usage(libc::RUSAGE_SELF) + usage(libc::RUSAGE_CHILDREN)
}

/// User plus system time of `who`.
fn usage(who: libc::c_int) -> Duration {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: getrusage writes a whole `rusage` into the pointer it is given, which points to
    // memory of that type; `who` is RUSAGE_SELF or RUSAGE_CHILDREN. On failure the zeroed value
    // stays.
    let usage = unsafe {
        libc::getrusage(who, usage.as_mut_ptr());
        usage.assume_init()
    };
    let time = |t: libc::timeval| {
        Duration::from_secs(u64::try_from(t.tv_sec).unwrap_or(0))
            + Duration::from_micros(u64::try_from(t.tv_usec).unwrap_or(0))
    };
    time(usage.ru_utime) + time(usage.ru_stime)
}

/// Prints each mode's median CPU time per start and stop, and NAT's against plain VNET's.
pub(crate) fn report(cpu: &[Cpu]) {
    let med = |v: &[Duration]| median(&mut v.to_vec());
    // Flatness in CPU time, which the machine's load disturbs less than wall time.
    let tenths = |v: &[Duration]| {
        let tenth = (v.len() / 10).max(1);
        med(&v[v.len() - tenth..]).as_secs_f64() / med(&v[..tenth]).as_secs_f64().max(1e-9)
    };
    for c in cpu {
        println!(
            "{:<18} cpu: start {} stop {} (median user + system time of the timed processes), last/1st tenth: start {:.2} stop {:.2}",
            c.label,
            ms(med(&c.start)),
            ms(med(&c.stop)),
            tenths(&c.start),
            tenths(&c.stop)
        );
    }
    let find = |label: &str| cpu.iter().find(|c| c.label == label);
    if let (Some(plain), Some(nat)) = (find("ioc vnet"), find("ioc nat")) {
        let ratio =
            |a: &[Duration], b: &[Duration]| med(a).as_secs_f64() / med(b).as_secs_f64().max(1e-9);
        println!(
            "nat cpu is {:.2}x plain vnet at start, {:.2}x at stop",
            ratio(&nat.start, &plain.start),
            ratio(&nat.stop, &plain.stop)
        );
    }
}
