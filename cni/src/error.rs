//! The CNI error object (`{"cniVersion", "code", "msg", "details"}`), which a plugin prints on
//! stdout when it exits non-zero, and the well-known codes of the specification.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The error codes the specification reserves (0-99); 100 and up are the plugin's own.
pub mod codes {
    /// Incompatible CNI version.
    pub const INCOMPATIBLE_VERSION: u32 = 1;
    /// Unsupported field in the network configuration; `msg` names the key and value.
    pub const UNSUPPORTED_FIELD: u32 = 2;
    /// The container is unknown or does not exist (a plugin may use it when the netns is gone).
    pub const UNKNOWN_CONTAINER: u32 = 3;
    /// Invalid necessary environment variables, like `CNI_COMMAND` or `CNI_CONTAINERID`.
    pub const INVALID_ENVIRONMENT: u32 = 4;
    /// An I/O failure, e.g. reading the configuration from stdin.
    pub const IO_FAILURE: u32 = 5;
    /// Failed to decode content, e.g. the JSON on stdin.
    pub const DECODE_FAILURE: u32 = 6;
    /// Invalid network configuration: a value that does not validate.
    pub const INVALID_CONFIG: u32 = 7;
    /// Try again later: a transient condition (a lock held, a resource busy).
    pub const TRY_AGAIN_LATER: u32 = 11;
    /// `STATUS`: the plugin cannot serve `ADD` now.
    pub const NOT_AVAILABLE: u32 = 50;
    /// `STATUS`: the plugin cannot serve `ADD`, and running containers may be cut off.
    pub const NOT_AVAILABLE_LIMITED: u32 = 51;

    /// The specification's name for a well-known code, `None` for a plugin's own.
    pub fn name(code: u32) -> Option<&'static str> {
        Some(match code {
            INCOMPATIBLE_VERSION => "incompatible CNI version",
            UNSUPPORTED_FIELD => "unsupported field in the network configuration",
            UNKNOWN_CONTAINER => "container unknown or does not exist",
            INVALID_ENVIRONMENT => "invalid environment variables",
            IO_FAILURE => "I/O failure",
            DECODE_FAILURE => "failed to decode content",
            INVALID_CONFIG => "invalid network configuration",
            TRY_AGAIN_LATER => "try again later",
            NOT_AVAILABLE => "plugin not available",
            NOT_AVAILABLE_LIMITED => "plugin not available, existing containers may be cut off",
            _ => return None,
        })
    }
}

/// A CNI error object, as a plugin prints it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CniError {
    /// The version of the error object (the request's version).
    #[serde(rename = "cniVersion", default)]
    pub cni_version: String,
    /// The error code; see [`codes`].
    pub code: u32,
    /// A short message for the user.
    #[serde(default)]
    pub msg: String,
    /// More detail, e.g. a log of what was tried.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub details: String,
}

impl CniError {
    /// An error with `code` and `msg`, in version `cni_version`.
    pub fn new(cni_version: &str, code: u32, msg: impl Into<String>) -> CniError {
        CniError {
            cni_version: cni_version.to_string(),
            code,
            msg: msg.into(),
            details: String::new(),
        }
    }

    /// The same error with `details`.
    pub fn with_details(mut self, details: impl Into<String>) -> CniError {
        self.details = details.into();
        self
    }

    /// The error as one JSON line, for a plugin's stdout.
    pub fn to_json(&self) -> String {
        // A struct of strings and a number always serializes.
        serde_json::to_string(self).unwrap_or_else(|_| format!("{{\"code\":{}}}", self.code))
    }
}

impl fmt::Display for CniError {
    /// `CNI error 7 (invalid network configuration): msg: details`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CNI error {}", self.code)?;
        if let Some(name) = codes::name(self.code) {
            write!(f, " ({name})")?;
        }
        if !self.msg.is_empty() {
            write!(f, ": {}", self.msg)?;
        }
        if !self.details.is_empty() {
            write!(f, ": {}", self.details)?;
        }
        Ok(())
    }
}

impl std::error::Error for CniError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_objects_parse_and_display_with_the_code_name() {
        let e: CniError = serde_json::from_str(
            r#"{"cniVersion":"1.0.0","code":7,"msg":"bad subnet","details":"10.0.0.0/33"}"#,
        )
        .unwrap();
        assert_eq!(
            e.to_string(),
            "CNI error 7 (invalid network configuration): bad subnet: 10.0.0.0/33"
        );
        let own = CniError::new("1.1.0", 100, "port vnet0 is not a bridge port");
        assert_eq!(
            own.to_string(),
            "CNI error 100: port vnet0 is not a bridge port"
        );
        let back: CniError = serde_json::from_str(&own.to_json()).unwrap();
        assert_eq!(back, own);
    }
}
