//! The plugin's own keys in its network configuration object.
//!
//! ```json
//! {"type": "ioc-secure", "allowedAddresses": ["10.22.0.100"], "dhcpServer": false,
//!  "logDropped": "cni-drop: ", "stateDir": "/run/ioc-secure"}
//! ```
//!
//! Keys it does not know belong to the runtime or the list (`name`, `cniVersion`,
//! `capabilities`, `args`...) and are left alone; a key it knows with a value of the wrong
//! type or shape is CNI error 7 naming the key and the value, and nothing is installed.

use std::net::IpAddr;
use std::path::PathBuf;

use ioc_cni::{codes, CniError, PluginRequest};
use serde_json::Value;

/// Where attachments are recorded unless `stateDir` says otherwise: tmpfs, so the records go
/// with a reboot, as the filters do.
pub const DEFAULT_STATE_DIR: &str = "/run/ioc-secure";

/// The kernel log prefix of dropped frames with `"logDropped": true`.
pub const DEFAULT_LOG_PREFIX: &str = "ioc-secure drop: ";

/// nftables accepts log prefixes of up to 127 bytes.
const MAX_LOG_PREFIX: usize = 127;

/// What the configuration asks of `ioc-secure`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SecureConfig {
    /// The network's name: attachments are recorded per network.
    pub network: String,
    /// `allowedAddresses`: addresses the container may use beyond its result's, such as a
    /// virtual IP it takes over from a peer.
    pub allowed: Vec<IpAddr>,
    /// `dhcpServer`: the container may send DHCP (and DHCPv6) server replies.
    pub dhcp_server: bool,
    /// `logDropped`: the prefix of the kernel log line of each dropped frame, when logged.
    pub log_prefix: Option<String>,
    /// `stateDir`: where attachments are recorded (tests point it at a directory of theirs).
    pub state_dir: PathBuf,
}

impl SecureConfig {
    /// Reads the plugin's keys from a request's configuration.
    pub fn from_request(request: &PluginRequest) -> Result<SecureConfig, CniError> {
        let bad = |key: &str, value: &Value, expected: &str| {
            request.error(
                codes::INVALID_CONFIG,
                format!("{key}: {value} is not valid (expected {expected})"),
            )
        };
        let config = &request.config;
        let allowed = match config.get("allowedAddresses") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(list)) => list
                .iter()
                .map(|v| {
                    v.as_str().and_then(host_address).ok_or_else(|| {
                        bad(
                            "allowedAddresses",
                            v,
                            "IP addresses such as \"10.22.0.100\" or \"2001:db8::100\"",
                        )
                    })
                })
                .collect::<Result<_, _>>()?,
            Some(v) => return Err(bad("allowedAddresses", v, "a list of IP addresses")),
        };
        let dhcp_server = match config.get("dhcpServer") {
            None | Some(Value::Null) => false,
            Some(Value::Bool(b)) => *b,
            Some(v) => return Err(bad("dhcpServer", v, "true or false")),
        };
        let log_prefix = match config.get("logDropped") {
            None | Some(Value::Null) | Some(Value::Bool(false)) => None,
            Some(Value::Bool(true)) => Some(DEFAULT_LOG_PREFIX.to_string()),
            Some(v @ Value::String(prefix)) => {
                // `nft list` shows the prefix in double quotes: no quote or backslash in it.
                let printable = prefix
                    .chars()
                    .all(|c| (c.is_ascii_graphic() || c == ' ') && c != '"' && c != '\\');
                if prefix.is_empty() || prefix.len() > MAX_LOG_PREFIX || !printable {
                    return Err(bad(
                        "logDropped",
                        v,
                        "true, false, or a log prefix of 1 to 127 printable ASCII characters without quotes or backslashes",
                    ));
                }
                Some(prefix.clone())
            }
            Some(v) => return Err(bad("logDropped", v, "true, false or a log prefix")),
        };
        let state_dir = match config.get("stateDir") {
            None | Some(Value::Null) => PathBuf::from(DEFAULT_STATE_DIR),
            Some(v @ Value::String(dir)) => {
                if !dir.starts_with('/') {
                    return Err(bad("stateDir", v, "an absolute directory path"));
                }
                PathBuf::from(dir)
            }
            Some(v) => return Err(bad("stateDir", v, "an absolute directory path")),
        };
        Ok(SecureConfig {
            network: request.network_name().to_string(),
            allowed,
            dhcp_server,
            log_prefix,
            state_dir,
        })
    }

    /// The directory of this network's attachment records.
    pub fn network_dir(&self) -> PathBuf {
        self.state_dir.join(&self.network)
    }
}

/// An address, written plain or with its full host prefix (`/32`, `/128`).
fn host_address(text: &str) -> Option<IpAddr> {
    match text.split_once('/') {
        None => text.parse().ok(),
        Some((address, len)) => {
            let address: IpAddr = address.parse().ok()?;
            let host = if address.is_ipv4() { "32" } else { "128" };
            (len == host).then_some(address)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn request(keys: &str) -> PluginRequest {
        let env: HashMap<&str, &str> = [
            ("CNI_COMMAND", "ADD"),
            ("CNI_CONTAINERID", "c1"),
            ("CNI_IFNAME", "eth0"),
            ("CNI_NETNS", "/run/netns/c1"),
        ]
        .into_iter()
        .collect();
        let stdin = format!(r#"{{"cniVersion":"1.0.0","name":"jails","type":"ioc-secure"{keys}}}"#);
        PluginRequest::read(|k| env.get(k).map(|v| v.to_string()), stdin.as_bytes()).unwrap()
    }

    #[test]
    fn defaults_and_every_key() {
        let plain = SecureConfig::from_request(&request("")).unwrap();
        assert_eq!(plain.allowed, Vec::<IpAddr>::new());
        assert!(!plain.dhcp_server && plain.log_prefix.is_none());
        assert_eq!(plain.network_dir(), PathBuf::from("/run/ioc-secure/jails"));
        let full = SecureConfig::from_request(&request(
            r#","allowedAddresses":["10.0.0.9","2001:db8::9/128"],"dhcpServer":true,
               "logDropped":true,"stateDir":"/tmp/s","capabilities":{"x":true}"#,
        ))
        .unwrap();
        assert_eq!(full.allowed.len(), 2);
        assert!(full.dhcp_server);
        assert_eq!(full.log_prefix.as_deref(), Some(DEFAULT_LOG_PREFIX));
        assert_eq!(full.network_dir(), PathBuf::from("/tmp/s/jails"));
    }

    #[test]
    fn wrong_types_are_error_7_naming_key_and_value() {
        let cases = [
            (r#","allowedAddresses":"10.0.0.9""#, "allowedAddresses"),
            (r#","allowedAddresses":["10.0.0.0/24"]"#, "10.0.0.0/24"),
            (r#","dhcpServer":"yes""#, "dhcpServer: \"yes\""),
            (r#","logDropped":3"#, "logDropped: 3"),
            (r#","logDropped":"a\"b""#, "logDropped"),
            (r#","stateDir":"run""#, "stateDir"),
        ];
        for (keys, expected) in cases {
            let e = SecureConfig::from_request(&request(keys)).unwrap_err();
            assert_eq!(e.code, codes::INVALID_CONFIG);
            assert!(e.msg.contains(expected), "{keys}: {e}");
        }
    }
}
