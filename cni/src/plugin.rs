//! The plugin side of one invocation: read the environment and the configuration on stdin,
//! and answer on stdout with a result or a CNI error object and the matching exit status.
//!
//! Every CNI plugin does the same framing; a plugin built on this module only decides what
//! each command does.

use std::io::{Read, Write};

use serde_json::{Map, Value};

use crate::config::{Attachment, MAX_CONFIG_BYTES, VALID_ATTACHMENTS};
use crate::env::{Command, Invocation};
use crate::error::{codes, CniError};
use crate::result::CniResult;
use crate::version::{Version, VersionInfo, LATEST};

/// One invocation as a plugin sees it: its environment, the configuration's version and
/// the configuration object itself.
#[derive(Clone, Debug, PartialEq)]
pub struct PluginRequest {
    /// The `CNI_*` environment.
    pub invocation: Invocation,
    /// The configuration's `cniVersion`, checked to be one ioc speaks (for `VERSION`, any
    /// version, or the newest when absent: the runtime asks precisely to find out).
    pub version: Version,
    /// The configuration object (`name`, `type`, the plugin's own keys, `prevResult`...).
    pub config: Map<String, Value>,
}

impl PluginRequest {
    /// Reads the environment (through `lookup`, `std::env::var` in a plugin) and the
    /// configuration from `stdin`, at most [`MAX_CONFIG_BYTES`]. Errors are CNI error objects:
    /// code 4 for the environment, 5 for reading, 6 for JSON that is no object, 1 for a
    /// version ioc does not speak, 7 for a missing `cniVersion` or `name`.
    pub fn read(
        lookup: impl Fn(&str) -> Option<String>,
        stdin: impl Read,
    ) -> Result<PluginRequest, CniError> {
        let invocation = Invocation::from_env(lookup)?;
        let mut text = String::new();
        stdin
            .take(MAX_CONFIG_BYTES + 1)
            .read_to_string(&mut text)
            .map_err(|e| error(LATEST, codes::IO_FAILURE, format!("read stdin: {e}")))?;
        if text.len() as u64 > MAX_CONFIG_BYTES {
            return Err(error(
                LATEST,
                codes::IO_FAILURE,
                format!("the configuration on stdin is larger than {MAX_CONFIG_BYTES} bytes"),
            ));
        }
        let version_only = invocation.command == Command::Version;
        if version_only && text.trim().is_empty() {
            return Ok(PluginRequest {
                invocation,
                version: Version::V1_1_0,
                config: Map::new(),
            });
        }
        let config = match serde_json::from_str(&text) {
            Ok(Value::Object(config)) => config,
            Ok(_) => {
                let msg = "the configuration on stdin is not a JSON object";
                return Err(error(LATEST, codes::DECODE_FAILURE, msg));
            }
            Err(e) => {
                let msg = format!("the configuration on stdin is not JSON: {e}");
                return Err(error(LATEST, codes::DECODE_FAILURE, msg));
            }
        };
        let version = match config.get("cniVersion").and_then(Value::as_str) {
            Some(text) => match text.parse::<Version>() {
                Ok(v) if v.is_supported() || version_only => v,
                _ => {
                    return Err(error(
                        LATEST,
                        codes::INCOMPATIBLE_VERSION,
                        format!(
                            "cniVersion {text:?}: this plugin speaks CNI {}",
                            crate::SUPPORTED_VERSIONS.join(", ")
                        ),
                    ))
                }
            },
            None if version_only => Version::V1_1_0,
            None => {
                let msg = "cniVersion: missing (expected a string such as \"1.1.0\")";
                return Err(error(LATEST, codes::INVALID_CONFIG, msg));
            }
        };
        let request = PluginRequest {
            invocation,
            version,
            config,
        };
        if !version_only && request.network_name().is_empty() {
            return Err(request.error(
                codes::INVALID_CONFIG,
                "name: missing (expected the network's name)",
            ));
        }
        Ok(request)
    }

    /// The network's `name` (empty when absent, which [`PluginRequest::read`] refuses except
    /// for `VERSION`).
    pub fn network_name(&self) -> &str {
        self.config
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or_default()
    }

    /// An error object in the request's version.
    pub fn error(&self, code: u32, msg: impl Into<String>) -> CniError {
        error(&self.version.to_string(), code, msg)
    }

    /// `prevResult`, parsed and checked, as raw JSON and typed; `None` when absent. A
    /// `prevResult` that is no valid result is code 7.
    pub fn prev_result(&self) -> Result<Option<(Value, CniResult)>, CniError> {
        match self.config.get("prevResult") {
            None | Some(Value::Null) => Ok(None),
            Some(raw) => CniResult::from_value(raw)
                .map(|result| Some((raw.clone(), result)))
                .map_err(|e| self.error(codes::INVALID_CONFIG, format!("prevResult: {e}"))),
        }
    }

    /// `cni.dev/valid-attachments` of a `GC` (empty when absent: nothing is valid).
    pub fn valid_attachments(&self) -> Result<Vec<Attachment>, CniError> {
        match self.config.get(VALID_ATTACHMENTS) {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(list) => serde_json::from_value(list.clone()).map_err(|e| {
                self.error(
                    codes::INVALID_CONFIG,
                    format!("{VALID_ATTACHMENTS}: expected a list of {{containerID, ifname}}: {e}"),
                )
            }),
        }
    }

    /// The answer to `VERSION`: every version ioc speaks, in the request's version.
    pub fn version_info(&self) -> Value {
        let mut info = VersionInfo::ioc();
        info.cni_version = self.version.to_string();
        serde_json::to_value(info).unwrap_or(Value::Null)
    }
}

fn error(version: &str, code: u32, msg: impl Into<String>) -> CniError {
    CniError::new(version, code, msg)
}

/// Prints the outcome of a command on `out` and returns the plugin's exit status: a result
/// (or nothing, for `DEL`, `CHECK`, `GC` and `STATUS`) with 0, an error object with 1.
pub fn respond(out: &mut impl Write, outcome: Result<Option<Value>, CniError>) -> i32 {
    let (text, status) = match outcome {
        Ok(None) => return 0,
        Ok(Some(value)) => (value.to_string(), 0),
        Err(e) => (e.to_json(), 1),
    };
    // A runtime that closed our stdout learns the outcome from the status alone.
    let _ = writeln!(out, "{text}").and_then(|_| out.flush());
    status
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(command: &str) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<&str, String> = [
            ("CNI_COMMAND", command),
            ("CNI_CONTAINERID", "c1"),
            ("CNI_IFNAME", "eth0"),
            ("CNI_NETNS", "/run/netns/c1"),
        ]
        .into_iter()
        .map(|(k, v)| (k, v.to_string()))
        .collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn a_request_reads_version_name_and_prev_result() {
        let stdin = r#"{"cniVersion":"0.4.0","name":"net","type":"ioc-secure",
            "prevResult":{"cniVersion":"0.4.0","ips":[{"version":"4","address":"10.0.0.2/24"}]}}"#;
        let request = PluginRequest::read(env("ADD"), stdin.as_bytes()).unwrap();
        assert_eq!(request.version, Version::V0_4_0);
        assert_eq!(request.network_name(), "net");
        let (_, prev) = request.prev_result().unwrap().unwrap();
        assert_eq!(prev.ips[0].address, "10.0.0.2/24");
        assert!(request.valid_attachments().unwrap().is_empty());
    }

    #[test]
    fn bad_requests_are_error_objects_with_the_specification_codes() {
        let cases = [
            ("ADD", "{", codes::DECODE_FAILURE),
            ("ADD", "[]", codes::DECODE_FAILURE),
            ("ADD", r#"{"name":"n"}"#, codes::INVALID_CONFIG),
            (
                "ADD",
                r#"{"cniVersion":"0.3.1","name":"n"}"#,
                codes::INCOMPATIBLE_VERSION,
            ),
            ("DEL", r#"{"cniVersion":"1.0.0"}"#, codes::INVALID_CONFIG),
        ];
        for (command, stdin, code) in cases {
            let e = PluginRequest::read(env(command), stdin.as_bytes()).unwrap_err();
            assert_eq!(e.code, code, "{stdin}: {e}");
        }
        let request = PluginRequest::read(
            env("CHECK"),
            r#"{"cniVersion":"1.0.0","name":"n","prevResult":{"ips":[]}}"#.as_bytes(),
        )
        .unwrap();
        let e = request.prev_result().unwrap_err();
        assert_eq!((e.code, e.cni_version.as_str()), (7, "1.0.0"));
    }

    #[test]
    fn version_answers_in_the_asked_version_even_one_it_does_not_speak() {
        for (stdin, version) in [("", "1.1.0"), (r#"{"cniVersion":"0.3.1"}"#, "0.3.1")] {
            let request = PluginRequest::read(env("VERSION"), stdin.as_bytes()).unwrap();
            let info = request.version_info();
            assert_eq!(info["cniVersion"], version);
            assert_eq!(info["supportedVersions"][2], "1.1.0");
        }
    }

    #[test]
    fn respond_prints_results_and_errors_with_their_status() {
        let mut out = Vec::new();
        assert_eq!(respond(&mut out, Ok(None)), 0);
        assert!(out.is_empty());
        assert_eq!(respond(&mut out, Err(CniError::new("1.0.0", 7, "bad"))), 1);
        let e: CniError = serde_json::from_slice(&out).unwrap();
        assert_eq!(e.msg, "bad");
    }
}
