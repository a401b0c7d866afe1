//! The one error type of ioc-core.
//!
//! Every message names what failed (the jail, the property or the file) and what was expected,
//! because the CLI prints it as is. Variants carry data rather than pre-formatted strings where a
//! caller might want to react to them (a missing jail, a running jail), so the CLI and the
//! lifecycle can match on them.

use std::fmt;
use std::io;
use std::path::PathBuf;

/// Result with [`Error`] as the default error.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong. Extend freely: [`Error::exit_code`] gives 1 to every variant but usage errors.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A property value that does not parse; `reason` says what was expected.
    #[error("Invalid value for property '{property}' of jail {jail}: {reason}")]
    InvalidValue {
        jail: String,
        property: String,
        reason: String,
    },

    /// A key that is neither a known property, `<nic>_mac` nor `user.*`.
    #[error(
        "The config property '{property}' of jail '{jail}' is unknown{}",
        crate::config::suggest::property_hint(property)
    )]
    UnknownProperty { jail: String, property: String },

    /// A property key that is not allowed where it was used: a host-wide property on a jail,
    /// `<nic>_mac` on the defaults or for a NIC the jail does not have, a malformed `user.` key.
    #[error("The config property '{property}' of jail '{jail}' {reason}")]
    PropertyNotAllowed {
        jail: String,
        property: String,
        reason: String,
    },

    /// A `user.*` property that is not set on the jail nor in the defaults.
    #[error("The config property '{property}' of jail '{jail}' is not set")]
    NotSet { jail: String, property: String },

    #[error("Invalid jail name '{name}': {reason}")]
    InvalidJailName { name: String, reason: String },

    #[error("Invalid filter \"{filter}\": {reason}")]
    InvalidFilter { filter: String, reason: String },

    #[error("No jails matched your input")]
    NoMatch,

    /// A command that needs exactly one jail got a filter matching several.
    #[error("{filter:?} matched {} jails ({}), but exactly one is needed", names.len(), names.join(", "))]
    Ambiguous { filter: String, names: Vec<String> },

    #[error("Jail '{0}' does not exist")]
    NoSuchJail(String),

    #[error("Jail '{0}' already exists")]
    JailExists(String),

    /// The operation needs a stopped jail; `hint` says what to do.
    #[error("Jail '{name}' is running (JID {jid}): {hint}")]
    JailRunning {
        name: String,
        jid: u32,
        hint: String,
    },

    /// A state file that cannot be used: not RON, unknown keys, invalid values, too large.
    #[error("Cannot use {}: {reason}", path.display())]
    CorruptFile { path: PathBuf, reason: String },

    /// A failed system call on a path; `action` reads like "cannot write".
    #[error("{action} {}: {source}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },

    /// The command line is wrong in a way clap cannot see (exit code 2).
    #[error("{0}")]
    Usage(String),

    /// A feature that is not available yet or not on this platform.
    #[error("{0}")]
    Unsupported(String),

    /// A jail's start, stop, plan or exec failed; the error names the step and what was
    /// expected.
    #[error(transparent)]
    Jail(Box<crate::lifecycle::JailError>),

    /// An address pool could not give a jail a block (NAT, issue 12).
    #[error(transparent)]
    Pool(Box<crate::pool::PoolError>),

    /// `ioc exec` on a jail that is not running.
    #[error("jail '{0}': is not running; start it with `ioc start`")]
    JailNotRunning(String),

    /// `ioc exec` on a jail whose namespaces disappeared.
    #[error("jail '{0}': is not running: its namespaces are gone (killed outside ioc, or started from a mount namespace that has ended); `ioc stop` cleans up, `ioc start` starts it again")]
    JailVanished(String),

    /// `ioc exec` could not enter the jail; `action` reads like "cannot open its namespaces".
    #[error("jail '{jail}': {action}: {source}")]
    EnterJail {
        jail: String,
        action: &'static str,
        #[source]
        source: io::Error,
    },

    /// `ioc exec` could not run the program in the jail.
    #[error("jail '{jail}': cannot run {program}: {source}")]
    ExecInJail {
        jail: String,
        program: String,
        #[source]
        source: nix::Error,
    },

    /// Disabling a plugin that a running jail still needs (its stop calls the plugin).
    #[error(
        "jail '{jail}': is running with plugin '{plugin}'; stop it before disabling the plugin"
    )]
    PluginInUse { jail: String, plugin: String },

    /// Several independent failures, all reported at once (validation collects them).
    #[error("{}", Several(.0))]
    Several(Vec<Error>),

    /// `ioc import`: a configuration of iocage or libioc that could not be imported.
    #[error(transparent)]
    Import(Box<crate::import::ImportError>),
}

impl Error {
    /// The process exit code for this error: 2 for usage errors, 1 for everything else.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Usage(_) => 2,
            Error::Several(all) if !all.is_empty() && all.iter().all(|e| e.exit_code() == 2) => 2,
            _ => 1,
        }
    }

    /// Builds an [`Error::Io`] from a failed call on `path`.
    pub fn io(action: &'static str, path: impl Into<PathBuf>, source: io::Error) -> Error {
        Error::Io {
            action,
            path: path.into(),
            source,
        }
    }

    /// Turns a list of errors into one: `Ok` when empty, the error itself when alone.
    pub fn collect(mut errors: Vec<Error>) -> Result<()> {
        match errors.len() {
            0 => Ok(()),
            1 => Err(errors.remove(0)),
            _ => Err(Error::Several(errors)),
        }
    }
}

impl From<crate::lifecycle::JailError> for Error {
    fn from(e: crate::lifecycle::JailError) -> Error {
        Error::Jail(Box::new(e))
    }
}

/// Displays several errors one per line.
struct Several<'a>(&'a [Error]);

impl fmt::Display for Several<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes() {
        assert_eq!(Error::NoMatch.exit_code(), 1);
        assert_eq!(Error::Usage("x".into()).exit_code(), 2);
        let mixed = Error::Several(vec![Error::Usage("a".into()), Error::NoMatch]);
        assert_eq!(mixed.exit_code(), 1);
        let usage = Error::Several(vec![Error::Usage("a".into()), Error::Usage("b".into())]);
        assert_eq!(usage.exit_code(), 2);
    }

    #[test]
    fn collect_keeps_single_errors_plain() {
        assert!(Error::collect(vec![]).is_ok());
        let one = Error::collect(vec![Error::NoMatch]).unwrap_err();
        assert_eq!(one.to_string(), "No jails matched your input");
        let two = Error::collect(vec![Error::NoMatch, Error::JailExists("a".into())]).unwrap_err();
        assert_eq!(
            two.to_string(),
            "No jails matched your input\nJail 'a' already exists"
        );
    }
}
