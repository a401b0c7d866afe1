//! Running a network mode's hooks and the exec_* commands, journaled.

use ioc_sdk::{Hook, HostOp};

use super::session::{perform, perform_undo, Origin};
use super::{Failure, Lifecycle, Session};
use crate::plugins::LoadedPlugin;
use crate::step::{HookPoint, Step};

impl Lifecycle<'_> {
    /// Runs a mode hook. Start-side hooks journal what they create, with its undo;
    /// stop-side hooks only remove, so their requests are carried out as removals.
    pub(super) fn call_mode(
        &mut self,
        mode: &LoadedPlugin,
        hook: Hook,
        s: &mut Session,
    ) -> Result<(), Failure> {
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
        .map_err(Failure::ModeHook)
    }

    /// Runs one exec_* command (if the jail has it), journaled first.
    pub(super) fn run_hook(
        &mut self,
        command: Option<&str>,
        point: HookPoint,
        env: &[(String, String)],
        s: &mut Session,
    ) -> Result<(), Failure> {
        let Some(command) = command else {
            return Ok(());
        };
        let env = hook_env(env, s);
        s.record(
            Step::Hook {
                point,
                command: command.to_string(),
            },
            None,
        )
        .and_then(|_| self.backend.run_hook(&s.params, point, command, &env))
        .map_err(|source| Failure::Hook { point, source })
    }
}

/// The environment of an exec_* command: the jail's `IOC_*` variables, its JID and path.
pub(super) fn hook_env(env: &[(String, String)], s: &Session) -> Vec<(String, String)> {
    let mut env = env.to_vec();
    env.push(("IOC_JID".into(), s.params.jid.to_string()));
    env.push(("IOC_JAIL_PATH".into(), "/".into()));
    env
}
