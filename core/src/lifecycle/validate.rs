//! Validation: everything checked for every selected jail before anything changes.

use ioc_sdk::{Hook, HostError, HostErrorKind, HostOp, HostReply, Jail, PluginKind};

use super::*;
use crate::step::JailParams;

impl Lifecycle<'_> {
    /// Runs a plugin hook that may only ask questions (validation).
    pub(super) fn call_read_only(
        &mut self,
        plugin: &LoadedPlugin,
        hook: Hook,
        jail: &Jail,
        params: &JailParams,
    ) -> Result<(), String> {
        let backend = &mut *self.backend;
        plugin.call(
            hook,
            jail,
            &mut |op: &HostOp| -> Result<HostReply, HostError> {
                if op.is_query() {
                    backend.perform(params, op)
                } else {
                    Err(HostError::new(
                        HostErrorKind::Unsupported,
                        format!("{} is not allowed while validating", op.name()),
                    ))
                }
            },
        )
    }

    /// Everything that can be checked before any change: plugins present, enabled and
    /// willing, addresses free, firewall ready. Returns every problem, not just the first.
    pub fn validate(&mut self, specs: &[JailSpec]) -> Vec<JailError> {
        let mut errors = Vec::new();
        let run = self.run.clone();
        let mut book = AddressBook::new(&run);
        for spec in specs {
            if let Some(conflict) = book.conflict(&spec.name, &spec.network) {
                errors.push(JailError::new(&spec.name, conflict));
            }
            book.add(&spec.name, &spec.network);
            let jail = spec.jail(0, self.platform());
            let params = spec.params_with_jid(0);
            let mode = match self.mode_plugin(&spec.mode) {
                Ok(m) => m,
                Err(e) => {
                    errors.push(JailError::new(&spec.name, e));
                    continue;
                }
            };
            if let Err(e) = self.call_read_only(&mode, Hook::Validate, &jail, &params) {
                errors.push(JailError::new(
                    &spec.name,
                    format!("network plugin {}: {e}", spec.mode),
                ));
            }
            if spec.needs_firewall() {
                if let Err(e) = self.check_firewall(&jail, &params) {
                    errors.push(JailError::new(&spec.name, e));
                }
            }
        }
        errors
    }

    pub(super) fn check_firewall(
        &mut self,
        jail: &Jail,
        params: &JailParams,
    ) -> Result<(), String> {
        let name = jail.firewall().to_string();
        let fw = self
            .plugins
            .get(&name, PluginKind::Firewall)
            .map_err(|e| format!("property 'firewall': {e}"))?;
        if !fw.supports(self.platform()) {
            return Err(format!(
                "property 'firewall': backend '{name}' does not support {}; choose another with `ioc set firewall=NAME defaults`",
                self.platform()
            ));
        }
        self.call_read_only(&fw, Hook::FirewallReady, jail, params)
            .map_err(|e| format!("firewall {name} is not ready: {e}"))
    }
}
