//! `ioc start --rc` and `ioc stop --rc`: the jails a host starts at boot and stops at shutdown
//! (issue 15), iocage's `boot` and `priority`.

use super::run::{start_jobs, stop, JailReport};
use crate::error::{Error, Result};
use crate::filter::Filter;
use crate::lifecycle::Progress;
use crate::runtime::RunDir;
use crate::store::Store;

/// Starts every jail with `boot=on` (and the jails they depend on), in priority order, at
/// most `jobs` at a time (`AUTO_JOBS`: the CPU count). A host without such jails has nothing to start, which is not an
/// error. `progress` is told each jail's result as soon as it is known.
pub fn start_rc(
    store: &Store,
    run: &RunDir,
    jobs: usize,
    progress: &Progress<'_>,
) -> Result<JailReport> {
    let filter = Filter::from_args(&["boot=on"])?;
    match start_jobs(store, run, &filter, jobs, progress) {
        Err(Error::NoMatch) => Ok(Vec::new()),
        other => other,
    }
}

/// Stops every jail with runtime state (running, or left half-done by a crash), whatever its
/// `boot`, in reverse priority order. Nothing running is not an error. `progress` is told each
/// jail's result as soon as it is known.
pub fn stop_rc(
    store: &Store,
    run: &RunDir,
    force: bool,
    progress: &Progress<'_>,
) -> Result<JailReport> {
    let active = run.active_jails();
    if active.is_empty() {
        return Ok(Vec::new());
    }
    let filter = Filter::from_args(&[active.join(",")])?;
    match stop(store, run, &filter, force, progress) {
        Err(Error::NoMatch) => Ok(Vec::new()),
        other => other,
    }
}
