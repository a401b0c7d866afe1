//! ioc's CNI runtime (issue 13): runs a network list's plugins for a jail.
//!
//! A mode asks for an attachment ([`ioc_sdk::HostOp::CniAdd`]); the host loads the list
//! ([`load`]), asks each plugin which versions it speaks (`VERSION`, cached per binary in
//! [`versions`]), runs `ADD` through the chain with `prevResult` ([`chain`]) and answers with
//! the final result. Every plugin runs as [`exec`] describes: environment cleared except the
//! `CNI_*` variables and a fixed `PATH`, its configuration on stdin, stdout read up to a limit,
//! stderr kept for messages, and killed with its whole process group after a timeout.
//!
//! The lifecycle journals a [`CniRun`] (the attachment, the list as loaded, the namespace, and
//! after `ADD` the result) before the plugins run, so a stop, a rollback or the next command
//! after a crash runs `DEL` through the same chain in reverse ([`journaled`]).
//!
//! The timeout is 30 s, or what the environment variable `IOC_CNI_TIMEOUT` says in seconds
//! (fractions allowed, e.g. `0.5`; tests use it for hanging plugins).

pub mod call;
pub mod chain;
pub mod dns;
pub mod exec;
pub mod journaled;
pub mod plan;
pub mod reported;
pub mod versions;
mod watch;

use std::path::Path;
use std::time::Duration;

use ioc_cni::config::ConfigError;
use ioc_cni::{CniError, NetworkList, SUPPORTED_VERSIONS};
use ioc_sdk::{CniAttachment, HostError, HostErrorKind};
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use call::PluginCall;
pub use chain::Engine;
pub use exec::{ProcessRunner, RawOutput, Runner};

/// The timeout of one plugin run when `IOC_CNI_TIMEOUT` does not say otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// The environment variable that sets the timeout of one plugin run, in seconds.
pub const TIMEOUT_VAR: &str = "IOC_CNI_TIMEOUT";

/// The timeout of one plugin run: [`TIMEOUT_VAR`] if it holds a positive number of seconds,
/// else [`DEFAULT_TIMEOUT`].
pub fn timeout_from_env() -> Duration {
    std::env::var(TIMEOUT_VAR)
        .ok()
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s > 0.0)
        .map(Duration::from_secs_f64)
        .unwrap_or(DEFAULT_TIMEOUT)
}

/// One attachment as the journal keeps it: what `DEL` needs, whatever happened to the files
/// since. `result` is set once `ADD` finished.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CniRun {
    /// What the mode asked for.
    pub attachment: CniAttachment,
    /// The network list as loaded ([`NetworkList::to_value`]).
    pub list: Value,
    /// `CNI_NETNS` of the `ADD`.
    pub netns: String,
    /// The final result of `ADD`, `None` while it runs or if it never finished.
    pub result: Option<Value>,
}

impl CniRun {
    /// A run about to start.
    pub fn new(attachment: &CniAttachment, list: &NetworkList, netns: &str) -> CniRun {
        CniRun {
            attachment: attachment.clone(),
            list: list.to_value(),
            netns: netns.to_string(),
            result: None,
        }
    }

    /// The recorded list, read back.
    pub fn network_list(&self) -> Result<NetworkList, CniFailure> {
        NetworkList::parse(&self.list.to_string(), "the journal").map_err(CniFailure::Config)
    }

    /// Is this the run of `attachment` (same container id and interface)?
    pub fn is_for(&self, attachment: &CniAttachment) -> bool {
        self.attachment.container_id == attachment.container_id
            && self.attachment.ifname == attachment.ifname
    }
}

/// Why a CNI operation failed.
#[derive(Debug, thiserror::Error)]
pub enum CniFailure {
    /// The network list could not be found or read.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The attachment's parameters break the specification's rules.
    #[error("CNI attachment ({what}): {message}")]
    Attachment { what: String, message: String },
    /// No directory of `CNI_PATH` holds the plugin.
    #[error("CNI plugin {plugin} (network {network}): not found in {path}")]
    NotFound {
        plugin: String,
        network: String,
        path: String,
    },
    /// The plugin answered with a CNI error object.
    #[error("CNI plugin {plugin} (network {network}): {error}")]
    Plugin {
        plugin: String,
        network: String,
        error: Box<CniError>,
    },
    /// The plugin failed without a CNI error object, or could not be run at all.
    #[error("CNI plugin {plugin} (network {network}): {message}")]
    Run {
        plugin: String,
        network: String,
        message: String,
    },
    /// A plugin does not speak the list's version.
    #[error(
        "CNI plugin {plugin} (network {network}) does not support the list's version {version}: \
         it supports {supported}; ioc supports {}", SUPPORTED_VERSIONS.join(", ")
    )]
    Version {
        plugin: String,
        network: String,
        version: String,
        supported: String,
    },
    /// A failed `ADD`, and what its rollback (`DEL` of the plugins that ran) left behind.
    #[error("{error}{}", rollback_text(.rollback))]
    AddFailed {
        error: Box<CniFailure>,
        /// The `DEL` failures of the rollback; empty when it removed everything.
        rollback: Vec<CniFailure>,
    },
    /// `DEL` or `GC` failed for some plugins (the others still ran).
    #[error("{}", join(.0))]
    Several(Vec<CniFailure>),
}

fn join(errors: &[CniFailure]) -> String {
    errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

fn rollback_text(rollback: &[CniFailure]) -> String {
    if rollback.is_empty() {
        String::new()
    } else {
        format!(" (rolling back: {})", join(rollback))
    }
}

/// `Ok` when nothing failed, the one failure, or all of them.
fn collect(mut errors: Vec<CniFailure>) -> Result<(), CniFailure> {
    match errors.len() {
        0 => Ok(()),
        1 => Err(errors.remove(0)),
        _ => Err(CniFailure::Several(errors)),
    }
}

impl CniFailure {
    /// The failure as the sdk's error, naming the jail's attachment.
    pub fn host_error(&self) -> HostError {
        HostError::new(self.kind(), self.to_string())
    }

    fn kind(&self) -> HostErrorKind {
        match self {
            CniFailure::Config(ConfigError::NotFound { .. }) | CniFailure::NotFound { .. } => {
                HostErrorKind::NotFound
            }
            CniFailure::AddFailed { error, .. } => error.kind(),
            _ => HostErrorKind::Other,
        }
    }

    /// Was everything the failed `ADD` made removed again?
    pub fn rolled_back(&self) -> bool {
        match self {
            CniFailure::AddFailed { rollback, .. } => rollback.is_empty(),
            _ => false,
        }
    }
}

impl From<CniFailure> for HostError {
    fn from(f: CniFailure) -> HostError {
        f.host_error()
    }
}

/// Loads the attachment's network list from its configuration directory, after checking
/// the attachment's container id and interface name.
pub fn load(attachment: &CniAttachment) -> Result<NetworkList, CniFailure> {
    check_attachment(attachment)?;
    Ok(NetworkList::find(
        Path::new(attachment.conf_dir.as_str()),
        &attachment.network,
    )?)
}

/// Checks the attachment's container id, interface name and `CNI_ARGS`.
fn check_attachment(attachment: &CniAttachment) -> Result<(), CniFailure> {
    let bad = |message: String| CniFailure::Attachment {
        what: attachment.describe(),
        message,
    };
    ioc_cni::env::check_container_id(&attachment.container_id).map_err(bad)?;
    ioc_cni::env::check_ifname(&attachment.ifname).map_err(bad)?;
    // CNI_ARGS is `K=V;K=V`: a separator inside a pair would change what plugins read.
    if let Some(pair) = attachment
        .args
        .iter()
        .find(|v| v.key.is_empty() || v.key.contains(['=', ';']) || v.value.contains(';'))
    {
        return Err(bad(format!(
            "CNI_ARGS pair {:?}={:?}: expected a non-empty key without '=' or ';' and a value \
             without ';'",
            pair.key.as_str(),
            pair.value.as_str()
        )));
    }
    Ok(())
}
