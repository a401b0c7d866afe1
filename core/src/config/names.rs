//! Names: jails, network interfaces and plugins.
//!
//! Jail names become directory names and kernel jail names (`ioc-<name>`), interface names go to
//! the kernel (15 characters at most on both platforms, and `:` is the FreeBSD separator ioc
//! uses for host-side link names), and plugin names become library file names. Each is checked
//! here once, before it can reach a path, a kernel call or a file name.

use std::fmt;
use std::str::FromStr;

use crate::error::{Error, Result};

/// Longest jail name (the reference's limit).
pub const MAX_JAIL_NAME: usize = 31;

/// Longest interface name both kernels accept (IFNAMSIZ - 1).
pub const MAX_NIC_NAME: usize = 15;

/// Longest plugin name; plugin names end up in library file names.
pub const MAX_PLUGIN_NAME: usize = 64;

/// The reserved target of `ioc set ... defaults`, which no jail may be called.
pub const DEFAULTS: &str = "defaults";

/// A valid jail name: at most 31 letters, digits, `-`, `_` or `.`, not starting with `.` or `-`
/// (hidden files and command-line options), and not `defaults`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct JailName(String);

impl JailName {
    pub fn new(name: &str) -> Result<JailName> {
        let invalid = |reason: &str| Error::InvalidJailName {
            name: name.to_string(),
            reason: reason.to_string(),
        };
        const FORM: &str =
            "expected at most 31 letters, digits, '-', '_' or '.', not starting with '.' or '-'";
        if name.is_empty() || name.chars().count() > MAX_JAIL_NAME {
            return Err(invalid(FORM));
        }
        if !name.chars().all(is_name_char) || name.starts_with(['.', '-']) {
            return Err(invalid(FORM));
        }
        if name == DEFAULTS {
            return Err(invalid(
                "'defaults' names the user defaults (ioc set KEY=VALUE defaults)",
            ));
        }
        Ok(JailName(name.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Characters allowed in jail names (and in name filters, besides the globs).
pub fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')
}

impl fmt::Display for JailName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for JailName {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl FromStr for JailName {
    type Err = Error;
    fn from_str(s: &str) -> Result<JailName> {
        JailName::new(s)
    }
}

/// A name that is not a valid interface or plugin name; says what was expected.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error("invalid interface name \"{0}\": expected a letter followed by letters, digits, '_', '.' or '-', at most {MAX_NIC_NAME} characters")]
    Nic(String),
    #[error("expected a plugin name (lowercase letters, digits, '_' or '-', starting with a letter or digit, at most {MAX_PLUGIN_NAME} characters) but got \"{0}\"")]
    Plugin(String),
}

impl From<NameError> for String {
    /// For the config syntax, whose reasons are text.
    fn from(e: NameError) -> String {
        e.to_string()
    }
}

/// Checks a network interface name (a jail NIC or a host interface or bridge): a letter, then
/// letters, digits, `_`, `.` or `-`, at most 15 characters.
pub fn check_nic_name(name: &str) -> std::result::Result<(), NameError> {
    let mut chars = name.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphabetic());
    let rest_ok = chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
    if first_ok && rest_ok && name.len() <= MAX_NIC_NAME {
        Ok(())
    } else {
        Err(NameError::Nic(name.to_string()))
    }
}

/// Checks a plugin name: `[a-z0-9][a-z0-9_-]*`, at most 64 characters.
pub fn check_plugin_name(name: &str) -> std::result::Result<(), NameError> {
    let mut chars = name.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    let rest_ok =
        chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-');
    if first_ok && rest_ok && name.len() <= MAX_PLUGIN_NAME {
        Ok(())
    } else {
        Err(NameError::Plugin(name.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jail_names() {
        for ok in ["jail-a", "a", "A.b_c-9", "x".repeat(31).as_str(), "9lives"] {
            assert_eq!(JailName::new(ok).unwrap().as_str(), ok);
        }
        for bad in [
            "",
            "defaults",
            ".hidden",
            "-opt",
            "with space",
            "slash/x",
            "colon:x",
            "ünïcode",
            "x".repeat(32).as_str(),
            "..",
        ] {
            let err = JailName::new(bad).unwrap_err().to_string();
            assert!(
                err.starts_with(&format!("Invalid jail name '{bad}': ")),
                "{err}"
            );
        }
    }

    #[test]
    fn nic_names() {
        for ok in [
            "vnet0",
            "em0",
            "bridge0",
            "br-lan",
            "eth0.100",
            "a23456789012345",
        ] {
            check_nic_name(ok).unwrap();
        }
        for bad in [
            "",
            "0vnet",
            "vnet0:5",
            "a234567890123456",
            "v net",
            "-x",
            "vnet/0",
        ] {
            let err = check_nic_name(bad).unwrap_err().to_string();
            assert!(err.contains(&format!("\"{bad}\"")), "{err}");
        }
    }

    #[test]
    fn plugin_names() {
        for ok in ["vnet", "secure-vnet", "firewall_pf", "0x"] {
            check_plugin_name(ok).unwrap();
        }
        for bad in ["", "Vnet", "-x", "_x", "a b", "a/b", "a.so"] {
            assert!(check_plugin_name(bad).is_err(), "{bad}");
        }
    }
}
