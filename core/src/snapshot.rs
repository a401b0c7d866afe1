//! What a running jail was started with.
//!
//! Stop and crash cleanup work from this record, not from the current configuration, which the
//! admin may have changed since the start (a different bridge, fewer addresses, another mode).

use serde::{Deserialize, Serialize};

use crate::step::{HookPoint, JailParams};

/// The jail as started: its plugin-facing view, kernel params, mode and stop hooks.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    pub jail: ioc_sdk::Jail,
    pub params: JailParams,
    /// The network plugin that set the jail up.
    pub mode: String,
    /// Hooks that run on stop, with their commands.
    pub stop_hooks: Vec<(HookPoint, String)>,
    /// The `IOC_*` environment for hooks.
    pub hook_env: Vec<(String, String)>,
}

impl Snapshot {
    pub fn stop_hook(&self, point: HookPoint) -> Option<&str> {
        self.stop_hooks
            .iter()
            .find(|(p, _)| *p == point)
            .map(|(_, c)| c.as_str())
    }
}
