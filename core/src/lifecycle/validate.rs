//! Validation: everything checked for every selected jail before anything changes.

use ioc_sdk::{Hook, HostError, HostOp, HostReply, PluginKind};

use super::firewall::{firewall_ready, read_only};
use super::{AddressBook, Failure, JailError, JailSpec, Lifecycle};

impl Lifecycle<'_> {
    /// Everything that can be checked before any change: plugins present, enabled and
    /// willing (a mode asks for its firewall here), addresses free. Returns every problem,
    /// not just the first.
    pub fn validate(&mut self, specs: &[JailSpec]) -> Vec<JailError> {
        let mut errors = Vec::new();
        let run = self.run.clone();
        let mut book = AddressBook::new(&run);
        for spec in specs {
            if let Some(conflict) = book.conflict(&spec.name, &spec.network) {
                errors.push(JailError::new(&spec.name, conflict));
            }
            book.add(&spec.name, &spec.network);
            if let Err(e) = self.validate_mode(spec) {
                errors.push(JailError::new(&spec.name, e));
            }
        }
        errors
    }

    /// Runs the mode's `validate` with query-only host access. A firewall that is not ready
    /// is reported as such (as core did before modes asked for it), unless the mode turned
    /// the answer into a message of its own.
    fn validate_mode(&mut self, spec: &JailSpec) -> Result<(), Failure> {
        let mode = self.mode_for(spec)?;
        if let Some(nat) = spec.network.nat() {
            // The NAT backend is present, enabled and runs here, before anything changes.
            let backend = self.plugins.get(nat.backend(), PluginKind::Firewall)?;
            if !backend.supports(self.platform()) {
                return Err(Failure::NatBackendUnsupported {
                    plugin: nat.backend().to_string(),
                    platform: self.platform(),
                });
            }
        }
        let jail = spec.jail(0, self.platform());
        let params = spec.params_with_jid(0);
        let (backend, registry) = (&mut *self.backend, &mut *self.plugins);
        let ready = &mut self.ready_firewalls;
        let mut firewall = None;
        let result = mode.call(Hook::Validate, &jail, &mut |op: &HostOp| match op {
            HostOp::CheckFirewall if ready.contains(jail.firewall()) => Ok(HostReply::Done),
            HostOp::CheckFirewall => firewall_ready(backend, registry, &jail, &params)
                .map(|()| {
                    ready.insert(jail.firewall().to_string());
                    HostReply::Done
                })
                .map_err(|e| {
                    let reply = HostError::from(&e);
                    firewall = Some(e);
                    reply
                }),
            _ => read_only(backend, &params, op),
        });
        match (result, firewall) {
            (Ok(()), _) => Ok(()),
            (Err(e), Some(fw)) if e.message == fw.to_string() => Err(Failure::Firewall(fw)),
            (Err(e), _) => Err(Failure::ModeRefused(e)),
        }
    }
}
