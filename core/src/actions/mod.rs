//! What the CLI's runtime commands do, end to end: select jails, build their start
//! descriptions, drive the lifecycle on the right host, and report per jail.
//!
//! The CLI stays thin: it parses arguments, calls one function here and prints the result.

mod exec;
mod plan;
mod plugins;
mod run;

pub use exec::exec;
pub use plan::{plan, PlanKind, RenderedPlan};
pub use plugins::{check_plugin, list_plugins, set_plugin_enabled, PluginRow};
pub use run::{restart, start, stop, JailReport};

use crate::config::ResolvedJail;
use crate::error::{Error, Result};
use crate::filter::Filter;
use crate::lifecycle::{spec_for, JailSpec};
use crate::plugins::{Registry, SearchPath};
use crate::store::Store;

/// The registry of the plugins this host allows, as the host settings say.
pub fn registry(store: &Store) -> Result<Registry> {
    let settings = store.host_settings()?;
    Ok(Registry::new(
        SearchPath::from_env(),
        &settings.enabled,
        &settings.disabled,
    ))
}

/// The selected jails and, before them, the jails they depend on (transitively), each once.
/// Every selected jail's configuration is validated first. Only the selected jails are read
/// unless one of them has `depends`, so starting one jail costs the same with 1 or 1000
/// configured.
pub fn select_with_dependencies(store: &Store, filter: &Filter) -> Result<Vec<JailSpec>> {
    let selected = store.select(filter)?;
    Error::collect(selected.iter().filter_map(|j| j.validate().err()).collect())?;
    if selected.iter().all(|j| j.depends().is_empty()) {
        return Ok(selected.iter().map(|j| spec_for(j, &selected)).collect());
    }
    let all = store.resolve_all()?;
    let mut wanted: Vec<&ResolvedJail> = Vec::new();
    let mut queue: Vec<&ResolvedJail> = all
        .iter()
        .filter(|j| selected.iter().any(|s| s.name() == j.name()))
        .collect();
    while let Some(jail) = queue.pop() {
        if wanted.iter().any(|w| w.name() == jail.name()) {
            continue;
        }
        wanted.push(jail);
        let deps = jail.depends();
        if !deps.is_empty() {
            queue.extend(
                deps.select(&all)
                    .into_iter()
                    .filter(|d| d.name() != jail.name()),
            );
        }
    }
    // Keep the configured order; the lifecycle orders by dependency.
    Ok(all
        .iter()
        .filter(|j| wanted.iter().any(|w| w.name() == j.name()))
        .map(|j| spec_for(j, &all))
        .collect())
}

/// The selected jails only (for stop and its plan).
pub fn select_specs(store: &Store, filter: &Filter) -> Result<Vec<JailSpec>> {
    let selected = store.select(filter)?;
    Ok(selected.iter().map(|j| spec_for(j, &selected)).collect())
}
