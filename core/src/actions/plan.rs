//! Dry runs: what a start or stop would do, as command lines for either platform.

use ioc_sdk::Platform;
use serde::Serialize;

use crate::error::{Error, Result};
use crate::filter::Filter;
use crate::host::PlanHost;
use crate::lifecycle::{JailError, JailPlan, JailSpec, Lifecycle};
use crate::render::{Command, RenderContext};
use crate::runtime::RunDir;
use crate::store::Store;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PlanKind {
    Start,
    Stop,
}

/// One jail's plan, rendered for a platform.
#[derive(Clone, Debug, Serialize)]
pub struct RenderedPlan {
    pub jail: String,
    pub jid: u32,
    pub platform: Platform,
    pub commands: Vec<Command>,
}

fn jail_errors(errors: Vec<JailError>) -> Error {
    Error::Several(errors.into_iter().map(Error::from).collect())
}

/// The plan of starting or stopping the selected jails on `platform`. Changes nothing and
/// needs no root. Rendering for the platform ioc runs on reads the live system to answer
/// questions such as a bridge's MTU; for the other platform, neutral answers are assumed.
pub fn plan(
    store: &Store,
    run: &RunDir,
    filter: &Filter,
    kind: PlanKind,
    platform: Platform,
) -> Result<Vec<RenderedPlan>> {
    let mut specs = match kind {
        PlanKind::Start => super::select_with_dependencies(store, filter)?,
        PlanKind::Stop => super::select_specs(store, filter)?,
    };
    retarget_firewall(store, &mut specs, platform)?;
    let mut registry = super::registry(store)?;
    registry.remember_auto_picks(run.path(), false);
    let mut backend = PlanHost::new(platform);
    if platform == Platform::current() {
        backend = with_live_probe(backend);
    }
    let mut lifecycle = Lifecycle::new(&mut backend, &mut registry, run.clone());
    let plans = match kind {
        PlanKind::Start => lifecycle.plan_start(specs),
        PlanKind::Stop => lifecycle.plan_stop(specs),
    }
    .map_err(jail_errors)?;
    Ok(render(plans, platform, run))
}

/// A plan for the other platform uses that platform's default firewall backend (ipfw on
/// FreeBSD, nftables on Linux) unless the admin chose one in the defaults.
fn retarget_firewall(store: &Store, specs: &mut [JailSpec], platform: Platform) -> Result<()> {
    const FIREWALL: &str = "firewall";
    if platform == Platform::current() || store.defaults()?.get(FIREWALL).is_some() {
        return Ok(());
    }
    let Some(property) = crate::config::registry::find(FIREWALL) else {
        return Ok(());
    };
    let backend = property.builtin.text(platform);
    for spec in specs {
        spec.firewall = backend.to_string();
        for (key, value) in &mut spec.properties {
            if key == FIREWALL {
                *value = backend.to_string();
            }
        }
    }
    Ok(())
}

/// Renders plans with one context, so FreeBSD epair units count up across jails.
pub fn render(plans: Vec<JailPlan>, platform: Platform, run: &RunDir) -> Vec<RenderedPlan> {
    let mut ctx = RenderContext::new(platform, run.path());
    plans
        .into_iter()
        .map(|p| RenderedPlan {
            commands: p
                .steps
                .iter()
                .flat_map(|s| ctx.render(&p.params, s))
                .collect(),
            jail: p.jail,
            jid: p.jid,
            platform,
        })
        .collect()
}

#[cfg(target_os = "linux")]
fn with_live_probe(backend: PlanHost) -> PlanHost {
    backend.with_probe(Box::new(crate::host::linux::LinuxProbe::default()))
}

#[cfg(not(target_os = "linux"))]
fn with_live_probe(backend: PlanHost) -> PlanHost {
    backend
}
