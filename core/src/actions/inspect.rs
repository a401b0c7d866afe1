//! `ioc check` and `ioc gc` on the real host: look at running jails' networks through their
//! modes, and let each mode release what no jail of the host uses any more.

use super::run::require_root;
use crate::error::{Error, Result};
use crate::filter::Filter;
use crate::host;
use crate::lifecycle::{spec_for, JailError, Lifecycle};
use crate::runtime::RunDir;
use crate::store::Store;

/// The jails whose network passed the check, or why one did not.
pub type CheckReport = Vec<std::result::Result<String, JailError>>;

/// Checks the selected jails' networks (each must be running).
pub fn check(store: &Store, run: &RunDir, filter: &Filter) -> Result<CheckReport> {
    require_root("ioc check")?;
    let targets = super::select_stop_targets(store, run, filter)?;
    let mut registry = super::registry(store)?;
    let mut backend = host::native(run);
    let mut lifecycle = Lifecycle::new(backend.as_mut(), &mut registry, run.clone());
    Ok(targets
        .into_iter()
        .map(|t| {
            lifecycle
                .check(&t.name)
                .map(|()| t.name.clone())
                .map_err(|e| JailError::new(&t.name, e))
        })
        .collect())
}

/// Runs every mode's `gc` with all configured jails of that mode; fails with every error.
pub fn gc(store: &Store, run: &RunDir) -> Result<()> {
    require_root("ioc gc")?;
    let all = store.resolve_all()?;
    let specs: Vec<_> = all.iter().map(|j| spec_for(j, &all)).collect();
    let mut registry = super::registry(store)?;
    let mut backend = host::native(run);
    let mut lifecycle = Lifecycle::new(backend.as_mut(), &mut registry, run.clone());
    let errors = lifecycle.gc(&specs);
    Error::collect(errors.into_iter().map(Error::from).collect())
}
