//! What can go wrong in a start, stop or plan, as data.
//!
//! Every message names the jail (through [`JailError`]), the step or property, and what was
//! expected; the CLI prints them as they are. A failed start is a [`StartError`]: the cause and
//! every error of its rollback, so a caller sees both and the user is told whether the host
//! was left clean.

use std::fmt;
use std::io;
use std::net::IpAddr;

use ioc_sdk::{HostError, Platform, UndoAction};

use super::firewall::FirewallError;
use super::interrupt::Interrupted;
use super::order::CycleError;
use crate::plugins::{HookError, PluginError};
use crate::step::HookPoint;

/// A failure of one jail's operation.
#[derive(Debug, thiserror::Error)]
#[error("jail '{jail}': {error}")]
pub struct JailError {
    pub jail: String,
    pub error: Failure,
}

impl JailError {
    pub fn new(jail: &str, error: impl Into<Failure>) -> JailError {
        JailError {
            jail: jail.to_string(),
            error: error.into(),
        }
    }
}

/// Who holds an address a starting jail wants.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Holder {
    Running(String),
    Starting(String),
}

impl fmt::Display for Holder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Holder::Running(jail) => write!(f, "running jail '{jail}'"),
            Holder::Starting(jail) => write!(f, "jail '{jail}', which is starting too"),
        }
    }
}

/// What failed in one jail's start, stop or plan.
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    /// A static address another jail holds.
    #[error("property '{property}': address {address} is already used by {holder}")]
    AddressInUse {
        property: &'static str,
        address: IpAddr,
        holder: Holder,
    },
    /// A plugin that is disabled, missing, refused or of the wrong kind.
    #[error(transparent)]
    Plugin(#[from] PluginError),
    #[error("network plugin '{plugin}' does not support {platform}")]
    ModeUnsupported { plugin: String, platform: Platform },
    /// The NAT backend (`nat_backend`) does not run on this platform (issue 12).
    #[error(
        "property 'nat_backend': firewall plugin '{plugin}' does not support {platform}; \
         expected nftables on Linux, pf or ipfw on FreeBSD"
    )]
    NatBackendUnsupported { plugin: String, platform: Platform },
    /// `path` or `mounts` (issue 16) refused at start, before anything changes.
    #[error("property '{property}': expected {expected}, but {found}")]
    RootRefused {
        property: &'static str,
        expected: &'static str,
        found: String,
    },
    /// The jail's firewall backend, asked for by its mode, cannot protect its ports.
    #[error(transparent)]
    Firewall(FirewallError),
    /// The mode's `validate` refused the jail.
    #[error("network plugin {}: {}", .0.plugin, .0.message)]
    ModeRefused(HookError),
    /// Another hook of the mode failed.
    #[error("network plugin {}: {}: {}", .0.plugin, .0.hook, .0.message)]
    ModeHook(HookError),
    #[error(transparent)]
    Cycle(#[from] CycleError),
    #[error("is already running (JID {jid})")]
    AlreadyRunning { jid: u32 },
    /// A run-dir or journal operation; `action` reads like "write journal".
    #[error("{action}: {source}")]
    Io {
        action: &'static str,
        #[source]
        source: io::Error,
    },
    /// A jail's static address is claimed in the run dir (the message names it).
    #[error(transparent)]
    AddressClaimed(io::Error),
    /// The journal cannot be read or trusted (the error names the file and what to do).
    #[error(transparent)]
    Journal(#[from] crate::journal::JournalError),
    /// A host step of the lifecycle itself; `action` reads like "create the jail".
    #[error("{action}: {source}")]
    Host {
        action: &'static str,
        #[source]
        source: HostError,
    },
    /// A host error that already says what failed (waiting for addresses).
    #[error(transparent)]
    HostPlain(HostError),
    /// An exec_* command failed.
    #[error("{} failed: {source}", point.property())]
    Hook {
        point: HookPoint,
        #[source]
        source: HostError,
    },
    #[error(transparent)]
    Interrupted(#[from] Interrupted),
    /// A jail not begun because a signal came first.
    #[error("not started: {0}")]
    NotStarted(Interrupted),
    /// Cleaning up after a crashed or interrupted run failed, so no new start was tried.
    #[error("could not clean up what an interrupted run left: {0}")]
    Leftovers(Box<Failure>),
    /// A start failed and was rolled back (or not completely).
    #[error(transparent)]
    Start(#[from] Box<StartError>),
    #[error(transparent)]
    Undo(Box<UndoError>),
    /// A stop step before anything changed failed, so nothing was stopped.
    #[error("{0} (nothing was stopped; use -f to stop anyway)")]
    StopRefused(Box<Failure>),
    /// A stop left pieces that a second stop can still remove.
    #[error(
        "stopped with errors (run `ioc stop {jail}` again to retry): {}",
        Joined(errors)
    )]
    StopIncomplete { jail: String, errors: Vec<Failure> },
    /// A stop went through, but some steps failed.
    #[error("stopped, but: {}", Joined(.0))]
    StoppedWithErrors(Vec<Failure>),
    /// A dry run of a stop hit errors (all of them).
    #[error("{}", Joined(.0))]
    PlanFailed(Vec<Failure>),
    /// A running jail's journal has no start record to plan its stop from.
    #[error("journal without a start record")]
    NoStartRecord,
    /// `ioc check` of a jail that is not running.
    #[error("is not running; ioc check looks at a running jail's network (start it first)")]
    NotRunningForCheck,
}

impl From<UndoError> for Failure {
    fn from(e: UndoError) -> Failure {
        Failure::Undo(Box::new(e))
    }
}

impl From<StartError> for Failure {
    fn from(e: StartError) -> Failure {
        Failure::Start(Box::new(e))
    }
}

/// A failed start: what failed, and what its rollback could not undo.
#[derive(Debug)]
pub struct StartError {
    pub jail: String,
    pub cause: Box<Failure>,
    /// Every error of the rollback; empty when it undid everything.
    pub rollback: Vec<Failure>,
    /// Removing the journal and runtime dir after a complete rollback failed.
    pub cleanup: Option<io::Error>,
}

impl fmt::Display for StartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.cause)?;
        if !self.rollback.is_empty() {
            write!(
                f,
                "; rollback failed, run `ioc stop {}` to retry: {}",
                self.jail,
                Joined(&self.rollback)
            )
        } else if let Some(e) = &self.cleanup {
            write!(
                f,
                " (rolled back, but the runtime dir was not removed: {e})"
            )
        } else {
            Ok(())
        }
    }
}

impl std::error::Error for StartError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&*self.cause)
    }
}

/// A piece of a jail that could not be undone.
#[derive(Debug, thiserror::Error)]
pub enum UndoError {
    #[error("destroy interface {name}{}: {source}", if *in_jail { " in the jail" } else { "" })]
    DestroyLink {
        name: String,
        in_jail: bool,
        source: HostError,
    },
    #[error("remove {address} from {iface}: {source}")]
    RemoveHostAlias {
        iface: String,
        address: ioc_sdk::Cidr,
        source: HostError,
    },
    #[error("remove {backend} firewall rules: {source}")]
    RemovePolicy { backend: String, source: HostError },
    #[error("undo {action:?}: {source}")]
    Plugin {
        action: UndoAction,
        source: HostError,
    },
    #[error("remove jail: {0}")]
    RemoveJail(HostError),
    #[error("stop the address learner of {port}: {source}")]
    StopLearner { port: String, source: HostError },
    #[error("CNI DEL of {what}: {source}")]
    CniDel { what: String, source: HostError },
}

/// Displays errors joined by "; ".
struct Joined<'a>(&'a [Failure]);

impl fmt::Display for Joined<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use ioc_sdk::HostErrorKind;

    use super::*;

    fn host(message: &str) -> HostError {
        HostError::new(HostErrorKind::Other, message)
    }

    fn cause() -> Box<Failure> {
        Box::new(Failure::Host {
            action: "create the jail",
            source: host("no memory"),
        })
    }

    #[test]
    fn a_failed_start_says_what_failed_and_what_its_rollback_left() {
        let clean = StartError {
            jail: "web".into(),
            cause: cause(),
            rollback: Vec::new(),
            cleanup: None,
        };
        assert_eq!(clean.to_string(), "create the jail: no memory");
        let dirty = StartError {
            jail: "web".into(),
            cause: cause(),
            rollback: vec![
                UndoError::DestroyLink {
                    name: "vnet0".into(),
                    in_jail: true,
                    source: host("busy"),
                }
                .into(),
                UndoError::RemoveJail(host("gone")).into(),
            ],
            cleanup: None,
        };
        assert_eq!(
            dirty.to_string(),
            "create the jail: no memory; rollback failed, run `ioc stop web` to retry: \
             destroy interface vnet0 in the jail: busy; remove jail: gone"
        );
        let leftover = StartError {
            jail: "web".into(),
            cause: cause(),
            rollback: Vec::new(),
            cleanup: Some(io::Error::other("read-only")),
        };
        assert_eq!(
            leftover.to_string(),
            "create the jail: no memory (rolled back, but the runtime dir was not removed: read-only)"
        );
        let err = JailError::new("web", dirty);
        assert!(err.to_string().starts_with("jail 'web': create the jail"));
        let Failure::Start(start) = &err.error else {
            panic!("a start error: {err:?}");
        };
        assert_eq!(start.rollback.len(), 2, "every rollback error is kept");
    }

    #[test]
    fn address_conflicts_name_the_property_and_the_holder() {
        let e = Failure::AddressInUse {
            property: "ip4_addr",
            address: "10.0.0.2".parse().unwrap(),
            holder: Holder::Starting("db".into()),
        };
        assert_eq!(
            e.to_string(),
            "property 'ip4_addr': address 10.0.0.2 is already used by jail 'db', which is starting too"
        );
    }
}
