//! A jail ready to start: everything the lifecycle needs, resolved from its configuration.

use ioc_sdk::{Jail, Network, Platform};

use crate::step::{HookPoint, JailParams};

/// Everything about one jail that a start needs, with the JID still open.
#[derive(Clone, Debug)]
pub struct JailSpec {
    pub name: String,
    pub network: Network,
    /// The host-wide firewall backend at the time of the start.
    pub firewall: String,
    /// Every resolved property as `ioc get` prints it (passed on to plugins).
    pub properties: Vec<(String, String)>,
    /// Kernel params; `jid` is filled in when the JID is allocated.
    pub params: JailParams,
    /// The network plugin to use, or `auto` (resolved when the jail starts).
    pub mode: ModeChoice,
    pub hooks: Vec<(HookPoint, String)>,
    /// The `IOC_<PROPERTY>` hook environment (without `IOC_JID`, added at start).
    pub hook_env: Vec<(String, String)>,
    /// Names of the jails that must run before this one.
    pub depends: Vec<String>,
    /// `priority`: lower starts first in a multi-jail start.
    pub priority: u8,
}

impl JailSpec {
    /// The plugin-facing view of the jail with its JID.
    pub fn jail(&self, jid: u32, platform: Platform) -> Jail {
        Jail::new(
            &self.name,
            jid,
            platform,
            self.network.clone(),
            &self.firewall,
            self.properties.iter().cloned(),
        )
    }

    pub fn params_with_jid(&self, jid: u32) -> JailParams {
        JailParams {
            jid,
            ..self.params.clone()
        }
    }

    pub fn hook(&self, point: HookPoint) -> Option<&str> {
        self.hooks
            .iter()
            .find(|(p, _)| *p == point)
            .map(|(_, c)| c.as_str())
    }
}

/// A jail's `network_plugin`: a mode by name, or `auto`, which picks the one enabled mode that
/// declares it serves the jail's network shape (see `Registry::auto_mode`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ModeChoice {
    Auto,
    Named(String),
}
