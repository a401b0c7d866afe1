//! Values chosen from a set: `ip4`/`ip6` modes and plugin names.

use ioc_sdk::IpMode;

use super::{Reason, Syntax};
use crate::config::names::check_plugin_name;

/// The `ip4` / `ip6` jail params: the sdk's [`IpMode`] (which carries the kernel numbering),
/// wrapped so the property language can give it a default (`new`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct JailIpMode(pub IpMode);

impl Default for JailIpMode {
    fn default() -> Self {
        JailIpMode(IpMode::New)
    }
}

impl Syntax for JailIpMode {
    fn parse(text: &str) -> Result<Self, Reason> {
        match text.trim().to_ascii_lowercase().as_str() {
            "new" => Ok(JailIpMode(IpMode::New)),
            "inherit" => Ok(JailIpMode(IpMode::Inherit)),
            "disable" => Ok(JailIpMode(IpMode::Disable)),
            _ => Err(format!(
                "expected new, inherit or disable but got \"{text}\""
            )),
        }
    }

    fn print(&self) -> String {
        match self.0 {
            IpMode::New => "new",
            IpMode::Inherit => "inherit",
            IpMode::Disable => "disable",
        }
        .to_string()
    }
}

/// A plugin's name (`firewall=nftables`); a library file name is derived from it.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PluginName(String);

impl PluginName {
    pub fn new(name: &str) -> Result<PluginName, Reason> {
        check_plugin_name(name)?;
        Ok(PluginName(name.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Syntax for PluginName {
    fn parse(text: &str) -> Result<Self, Reason> {
        PluginName::new(text.trim())
    }

    fn print(&self) -> String {
        self.0.clone()
    }
}

/// `network_plugin`: `auto` (chosen from `vnet` and `interfaces`) or a plugin's name.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum NetworkPlugin {
    #[default]
    Auto,
    Named(PluginName),
}

impl Syntax for NetworkPlugin {
    fn parse(text: &str) -> Result<Self, Reason> {
        match text.trim() {
            "auto" => Ok(NetworkPlugin::Auto),
            name => PluginName::new(name)
                .map(NetworkPlugin::Named)
                .map_err(|_| {
                    format!(
                        "expected auto or a plugin name (lowercase letters, digits, '_' or '-', \
                         starting with a letter or digit) but got \"{text}\""
                    )
                }),
        }
    }

    fn print(&self) -> String {
        match self {
            NetworkPlugin::Auto => "auto".to_string(),
            NetworkPlugin::Named(name) => name.print(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{refused, refused_with, round_trip};
    use super::*;

    #[test]
    fn ip_modes() {
        round_trip::<JailIpMode>("new", "new");
        round_trip::<JailIpMode>("INHERIT", "inherit");
        round_trip::<JailIpMode>("disable", "disable");
        refused::<JailIpMode>("1", "expected new, inherit or disable but got \"1\"");
        assert_eq!(JailIpMode::parse("new").unwrap().0.kernel_value(), 1);
    }

    #[test]
    fn plugins() {
        round_trip::<PluginName>("nftables", "nftables");
        round_trip::<PluginName>("secure-vnet", "secure-vnet");
        refused_with::<PluginName>("NFT", "expected a plugin name");
        refused_with::<PluginName>("", "expected a plugin name");
        refused_with::<PluginName>("../x", "expected a plugin name");
        round_trip::<NetworkPlugin>("auto", "auto");
        round_trip::<NetworkPlugin>("example", "example");
        refused_with::<NetworkPlugin>("Auto!", "expected auto or a plugin name");
    }
}
