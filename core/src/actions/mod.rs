//! What the CLI's runtime commands do, end to end: select jails, build their start
//! descriptions, drive the lifecycle on the right host, and report per jail.
//!
//! The CLI stays thin: it parses arguments, calls one function here and prints the result.

mod exec;
mod inspect;
mod plan;
mod plugins;
mod rc;
mod run;

pub use exec::exec;
pub use inspect::{check, gc, CheckReport};
pub use plan::{plan, PlanKind, RenderedPlan};
pub use plugins::{check_plugin, list_plugins, set_plugin_enabled, PluginRow};
pub use rc::{start_rc, stop_rc};
pub use run::{restart, start, start_jobs, stop, JailReport};

use crate::config::ResolvedJail;
use crate::error::{Error, Result};
use crate::filter::Filter;
use crate::filter::Subject;
use crate::lifecycle::{spec_for, JailSpec, StopTarget};
use crate::plugins::{Registry, SearchPath};
use crate::runtime::RunDir;
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

/// A jail known only from the run dir (running, but its configuration is gone): filters can
/// select it by name.
struct RuntimeJail(String);

impl Subject for RuntimeJail {
    fn name(&self) -> &str {
        &self.0
    }
    fn items(&self, _key: &str) -> Option<Vec<String>> {
        None
    }
}

/// What a stop works on: the selected configured jails, and the selected jails that still have
/// runtime state although their configuration was destroyed or renamed behind ioc's back (a
/// running jail must always be stoppable).
pub fn select_stop_targets(
    store: &Store,
    run: &RunDir,
    filter: &Filter,
) -> Result<Vec<StopTarget>> {
    let configured = match store.select(filter) {
        Ok(jails) => jails,
        Err(Error::NoMatch) => Vec::new(),
        Err(e) => return Err(e),
    };
    let mut targets: Vec<StopTarget> = configured
        .iter()
        .map(|j| {
            let spec = spec_for(j, &configured);
            StopTarget {
                name: spec.name,
                depends: spec.depends,
                priority: spec.priority,
            }
        })
        .collect();
    let orphans: Vec<RuntimeJail> = run
        .active_jails()
        .into_iter()
        .filter(|name| !configured.iter().any(|j| j.name().as_str() == name))
        .map(RuntimeJail)
        .collect();
    targets.extend(filter.select(&orphans).into_iter().map(|j| StopTarget {
        name: j.0.clone(),
        depends: Vec::new(),
        priority: crate::config::syntax::Priority::default().0,
    }));
    if targets.is_empty() {
        return Err(Error::NoMatch);
    }
    Ok(targets)
}

/// The selected jails only (for stop and its plan).
pub fn select_specs(store: &Store, filter: &Filter) -> Result<Vec<JailSpec>> {
    let selected = store.select(filter)?;
    Ok(selected.iter().map(|j| spec_for(j, &selected)).collect())
}
