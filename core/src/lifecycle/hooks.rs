//! Running a network mode's hooks and the exec_* commands, journaled.

use ioc_sdk::{Hook, HostError, HostOp};

use super::session::{perform, perform_undo, Origin};
use super::*;
use crate::step::{HookPoint, Step};

pub(super) fn hook_error(point: HookPoint, e: HostError) -> String {
    format!("{} failed: {e}", point.property())
}

impl Lifecycle<'_> {
    /// Runs a mode hook. Start-side hooks journal what they create, with its undo;
    /// stop-side hooks only remove, so their requests are carried out as removals.
    pub(super) fn call_mode(
        &mut self,
        mode: &LoadedPlugin,
        hook: Hook,
        s: &mut Session,
    ) -> Result<(), String> {
        let hook_name = hook.name();
        let removing = matches!(hook, Hook::Teardown | Hook::PostStop);
        let jail = s.jail.clone();
        let (backend, registry) = (&mut *self.backend, &mut *self.plugins);
        mode.call(hook, &jail, &mut |op: &HostOp| {
            if removing {
                perform_undo(backend, s, op)
            } else {
                perform(backend, registry, s, op, Origin::Mode)
            }
        })
        .map_err(|e| format!("network plugin {}: {hook_name}: {e}", mode.name))
    }

    pub(super) fn run_hook(
        &mut self,
        command: Option<&str>,
        point: HookPoint,
        env: &[(String, String)],
        s: &mut Session,
    ) -> Result<(), String> {
        let Some(command) = command else {
            return Ok(());
        };
        let mut env = env.to_vec();
        env.push(("IOC_JID".into(), s.params.jid.to_string()));
        env.push(("IOC_JAIL_PATH".into(), "/".into()));
        s.record(
            Step::Hook {
                point,
                command: command.to_string(),
            },
            None,
        )
        .and_then(|_| self.backend.run_hook(&s.params, point, command, &env))
        .map_err(|e| hook_error(point, e))
    }
}
