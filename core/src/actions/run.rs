//! start, stop and restart on the real host.

use crate::error::{Error, Result};
use crate::filter::Filter;
use crate::host;
use crate::lifecycle::{
    interrupt, Faults, JailError, Lifecycle, Outcome, Progress, Workers, AUTO_JOBS,
};
use crate::plugins::{Registry, SearchPath};
use crate::runtime::RunDir;
use crate::store::Store;

/// What happened to each jail; the command fails when any entry is an error.
pub type JailReport = Vec<std::result::Result<(String, Outcome), JailError>>;

pub(super) fn require_root(action: &str) -> Result<()> {
    if nix::unistd::geteuid().is_root() {
        return Ok(());
    }
    Err(Error::Unsupported(format!(
        "{action} needs root (it creates namespaces, interfaces and firewall rules); --dry-run shows what it would do without root"
    )))
}

/// Starts the selected jails (and the jails they depend on, first), as many at a time as the
/// machine has CPUs; `progress` is told each jail's result as soon as it is known.
pub fn start(
    store: &Store,
    run: &RunDir,
    filter: &Filter,
    progress: &Progress<'_>,
) -> Result<JailReport> {
    start_jobs(store, run, filter, AUTO_JOBS, progress)
}

/// Starts the selected jails (and the jails they depend on, first), at most `jobs` at a time
/// (jails of the same priority that do not depend on each other; `AUTO_JOBS` for as many as
/// the machine has CPUs); `progress` is told each jail's result as soon as it is known.
pub fn start_jobs(
    store: &Store,
    run: &RunDir,
    filter: &Filter,
    jobs: usize,
    progress: &Progress<'_>,
) -> Result<JailReport> {
    require_root("ioc start")?;
    let mut specs = super::select_with_dependencies(store, filter)?;
    // NAT jails get their pool addresses first: a full pool fails before anything changes.
    let names: Vec<String> = specs
        .iter()
        .filter(|s| s.properties.iter().any(|(k, v)| k == "nat" && v == "on"))
        .map(|s| s.name.clone())
        .collect();
    if !names.is_empty() && !crate::pool::allocate_nat(store, run, &names)?.is_empty() {
        specs = super::select_with_dependencies(store, filter)?;
    }
    let mut registry = super::registry(store)?;
    registry.remember_auto_picks(run.path(), true);
    registry.remember_checked_layouts(run.path());
    let settings = store.host_settings()?;
    // Each worker of a concurrent start gets a backend and registry of its own; the picks of
    // network_plugin=auto are made (and written) by the validation before any worker runs.
    let make = || {
        let mut registry = Registry::new(
            SearchPath::from_env(),
            &settings.enabled,
            &settings.disabled,
        );
        registry.remember_auto_picks(run.path(), false);
        registry.remember_checked_layouts(run.path());
        (host::native(run), registry)
    };
    let mut backend = host::native(run);
    let mut lifecycle = Lifecycle::new(backend.as_mut(), &mut registry, run.clone())
        .with_faults(Faults::from_env())
        .with_workers(Workers { jobs, make: &make })
        .with_progress(progress);
    // Ctrl-C now rolls back the start in progress (see `interrupt`).
    let _caught = interrupt::catch()
        .map_err(|e| Error::Unsupported(format!("cannot catch interrupt signals: {e}")))?;
    Ok(lifecycle.start(specs))
}

/// Stops the selected jails (in reverse order). `force` kills processes at once and goes on
/// when exec_prestop or exec_stop fail; `progress` is told each jail's result as soon as it is
/// known.
pub fn stop(
    store: &Store,
    run: &RunDir,
    filter: &Filter,
    force: bool,
    progress: &Progress<'_>,
) -> Result<JailReport> {
    require_root("ioc stop")?;
    let targets = super::select_stop_targets(store, run, filter)?;
    let mut registry = super::registry(store)?;
    registry.remember_checked_layouts(run.path());
    let mut backend = host::native(run);
    let mut lifecycle =
        Lifecycle::new(backend.as_mut(), &mut registry, run.clone()).with_progress(progress);
    Ok(lifecycle.stop(targets, force))
}

/// Stops, then starts again, the selected jails; `progress` is told each result (the stops',
/// then the starts') as soon as it is known.
pub fn restart(
    store: &Store,
    run: &RunDir,
    filter: &Filter,
    progress: &Progress<'_>,
) -> Result<JailReport> {
    let mut report = stop(store, run, filter, false, progress)?;
    if report.iter().any(|r| r.is_err()) {
        return Ok(report);
    }
    report.extend(start(store, run, filter, progress)?);
    Ok(report)
}
