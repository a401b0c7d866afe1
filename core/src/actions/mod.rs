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
/// Every selected jail's configuration is validated first.
pub fn select_with_dependencies(store: &Store, filter: &Filter) -> Result<Vec<JailSpec>> {
    let all = store.resolve_all()?;
    let selected = filter.select_some(&all)?;
    Error::collect(selected.iter().filter_map(|j| j.validate().err()).collect())?;
    let mut wanted: Vec<&ResolvedJail> = Vec::new();
    let mut queue: Vec<&ResolvedJail> = selected;
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

/// The selected jails only, in configured order (for stop).
pub fn select_specs(store: &Store, filter: &Filter) -> Result<Vec<JailSpec>> {
    let all = store.resolve_all()?;
    let selected = filter.select_some(&all)?;
    Ok(selected.into_iter().map(|j| spec_for(j, &all)).collect())
}
