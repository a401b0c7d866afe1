//! The traits a plugin author implements.

use std::fmt;

use crate::host::Host;
use crate::ops::HostError;
use crate::types::{Jail, NatRequest, PortPolicy};

/// A plugin's error: a message for the user. It should say what failed and what was expected;
/// ioc adds the jail and plugin names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    message: String,
}

impl Error {
    /// An error with a message for the user: what failed and what was expected.
    pub fn new(message: impl Into<String>) -> Error {
        Error {
            message: message.into(),
        }
    }
    /// The message, as ioc reports it (after the jail and plugin names).
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

impl From<HostError> for Error {
    fn from(e: HostError) -> Error {
        Error::new(e.message.into_string())
    }
}

impl From<String> for Error {
    fn from(message: String) -> Error {
        Error::new(message)
    }
}

impl From<&str> for Error {
    fn from(message: &str) -> Error {
        Error::new(message)
    }
}

/// The result of a hook; `?` turns a [`HostError`] or a message into an [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A network mode: builds a jail's network on start.
///
/// Everything created through [`Host`] is journaled and undone automatically, in reverse order,
/// when the jail stops, when its start fails, or by the next ioc command after a crash. So
/// `setup` only builds; `teardown` is for extra work beyond that.
///
/// Order on start: `validate` (for every selected jail, before anything changes), exec_prestart,
/// `pre_start`, jail creation, exec_created, `setup`, exec_start, exec_poststart, `post_start`.
/// On stop: `pre_stop`, exec_prestop, exec_stop, `teardown`, jail removal, exec_poststop,
/// undo of the journal, `post_stop`.
pub trait NetworkMode: Send + Sync + 'static {
    /// Checks the jail's properties and the host's preconditions. The host only answers
    /// queries here; any change is refused. A mode that hands ports to the firewall backend
    /// calls [`Host::check_firewall`] here, so a firewall that cannot protect them stops the
    /// start before anything changes.
    fn validate(&self, _jail: &Jail, _host: &mut Host<'_>) -> Result<()> {
        Ok(())
    }
    /// Builds the jail's network. The jail exists and `jail.jid()` is set.
    fn setup(&self, jail: &Jail, host: &mut Host<'_>) -> Result<()>;
    /// Extra work on stop, before the jail is removed. Should go on past pieces already gone.
    fn teardown(&self, _jail: &Jail, _host: &mut Host<'_>) -> Result<()> {
        Ok(())
    }
    /// Runs before the jail exists (after exec_prestart); for host preparation that must be
    /// in place before the jail is created.
    fn pre_start(&self, _jail: &Jail, _host: &mut Host<'_>) -> Result<()> {
        Ok(())
    }
    /// Runs last on start, after exec_poststart; the jail and its network are up.
    fn post_start(&self, _jail: &Jail, _host: &mut Host<'_>) -> Result<()> {
        Ok(())
    }
    /// Runs first on stop, before exec_prestop, while the jail and its network still work.
    fn pre_stop(&self, _jail: &Jail, _host: &mut Host<'_>) -> Result<()> {
        Ok(())
    }
    /// Runs last on stop, after the journal was undone and the jail is gone.
    fn post_stop(&self, _jail: &Jail, _host: &mut Host<'_>) -> Result<()> {
        Ok(())
    }
    /// `ioc check JAIL` for a running jail: finds out whether its network is still as the
    /// mode built it. The host answers queries only (plus [`Host::cni_check`]).
    fn check(&self, _jail: &Jail, _host: &mut Host<'_>) -> Result<()> {
        Ok(())
    }
    /// `ioc gc`: called once per mode plugin with every jail of the host whose mode it is
    /// (running ones have `jid() != 0`), to release what no jail uses any more.
    fn gc(&self, _jails: &[Jail], _host: &mut Host<'_>) -> Result<()> {
        Ok(())
    }
}

/// A firewall backend: enforces a [`PortPolicy`] on a jail's port.
pub trait Firewall: Send + Sync + 'static {
    /// Fails, with a message saying what to fix, when the host cannot enforce policies.
    fn check_ready(&self, jail: &Jail, host: &mut Host<'_>) -> Result<()>;
    /// Filters `policy.port()` and attaches it to `policy.bridge()`.
    ///
    /// An install that registers undo actions ([`Host::register_undo`]) declares them its
    /// whole removal: once it succeeds, ioc takes the policy back by running those actions
    /// from its journal, and does not call [`Firewall::remove`] (nor load the backend) when the
    /// jail stops. Register them before making what they remove. A failed install is still
    /// rolled back with `remove` as well.
    fn install(&self, jail: &Jail, policy: &PortPolicy, host: &mut Host<'_>) -> Result<()>;
    /// Removes exactly what `install` made for this policy; goes on past pieces already gone.
    fn remove(&self, jail: &Jail, policy: &PortPolicy, host: &mut Host<'_>) -> Result<()>;
    /// NATs the jail's block out of the uplink and forwards its ports (the optional NAT
    /// capability, issue 12). A backend without it keeps this default, which refuses.
    fn install_nat(&self, _jail: &Jail, request: &NatRequest, _host: &mut Host<'_>) -> Result<()> {
        Err(Error::new(format!(
            "NAT is not supported by the firewall backend {}; set nat_backend to one that has \
             it (nftables on Linux, pf or ipfw on FreeBSD)",
            request.nat.backend()
        )))
    }
    /// Removes exactly what `install_nat` made for this jail; goes on past pieces already gone.
    fn remove_nat(&self, _jail: &Jail, _request: &NatRequest, _host: &mut Host<'_>) -> Result<()> {
        Ok(())
    }
}
