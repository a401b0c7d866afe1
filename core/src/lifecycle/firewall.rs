//! Firewall readiness, asked for by a network mode ([`HostOp::CheckFirewall`]).
//!
//! Core does not decide which jails need a firewall: a mode that will hand ports to the
//! backend asks from its `validate`, and the answer comes from the backend's own
//! `check_ready`, run with query-only host access (so it works the same in a dry run).

use ioc_sdk::{Hook, HostError, HostErrorKind, HostOp, HostReply, Jail, Platform, PluginKind};

use crate::host::Backend;
use crate::plugins::{HookError, PluginError, Registry};
use crate::step::JailParams;

/// Why the jail's firewall backend cannot protect its ports. Each names property 'firewall'
/// or the backend, and what to do.
#[derive(Debug, thiserror::Error)]
pub enum FirewallError {
    #[error("property 'firewall': {0}")]
    Plugin(#[from] PluginError),
    #[error("property 'firewall': backend '{backend}' does not support {platform}; choose another with `ioc set firewall=NAME defaults`")]
    Unsupported { backend: String, platform: Platform },
    #[error("firewall {} is not ready: {}", .0.plugin, .0.message)]
    NotReady(HookError),
}

impl From<&FirewallError> for HostError {
    /// The answer a plugin gets: the same message.
    fn from(e: &FirewallError) -> HostError {
        HostError::new(HostErrorKind::Other, e.to_string())
    }
}

/// Answers a query for a plugin: [`HostOp::CheckFirewall`] here, every other one by the host.
pub fn answer_query(
    backend: &mut dyn Backend,
    registry: &mut Registry,
    jail: &Jail,
    params: &JailParams,
    op: &HostOp,
) -> Result<HostReply, HostError> {
    match op {
        HostOp::CheckFirewall => firewall_ready(backend, registry, jail, params)
            .map(|()| HostReply::Done)
            .map_err(|e| HostError::from(&e)),
        _ => backend.perform(params, op),
    }
}

/// Runs the jail's firewall backend's `check_ready`, which may only ask the host questions.
pub fn firewall_ready(
    backend: &mut dyn Backend,
    registry: &mut Registry,
    jail: &Jail,
    params: &JailParams,
) -> Result<(), FirewallError> {
    let name = jail.firewall().to_string();
    let firewall = registry.get(&name, PluginKind::Firewall)?;
    let platform = backend.platform();
    if !firewall.supports(platform) {
        return Err(FirewallError::Unsupported {
            backend: name,
            platform,
        });
    }
    firewall
        .call(Hook::FirewallReady, jail, &mut |op: &HostOp| {
            read_only(backend, params, op)
        })
        .map_err(FirewallError::NotReady)
}

/// Performs `op` when it only reads; refuses any change (validation, readiness checks).
pub fn read_only(
    backend: &mut dyn Backend,
    params: &JailParams,
    op: &HostOp,
) -> Result<HostReply, HostError> {
    if op.is_query() {
        backend.perform(params, op)
    } else {
        Err(HostError::new(
            HostErrorKind::Unsupported,
            format!("{} is not allowed while validating", op.name()),
        ))
    }
}
