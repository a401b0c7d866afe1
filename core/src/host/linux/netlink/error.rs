//! What can go wrong in a netlink request, whatever the protocol.

use std::fmt;
use std::io;

/// What went wrong in a netlink request.
#[derive(Debug)]
pub enum NlError {
    /// The kernel refused the request. `context` says what was asked, and ends with the kernel's
    /// own explanation in parentheses when it gave one (extended ACK).
    Kernel { errno: i32, context: String },
    /// The socket failed, or the request was invalid before it was sent.
    Io(io::Error),
    /// The kernel's reply could not be understood.
    Protocol(String),
}

impl NlError {
    /// The object is not there: the usual answer when deleting something already gone, which
    /// teardown treats as done. Meant for deletes and lookups only: a create answers
    /// `EADDRNOTAVAIL` for an invalid MAC, which is no "not found".
    pub fn is_not_found(&self) -> bool {
        matches!(
            self,
            NlError::Kernel { errno, .. }
                if [libc::ENODEV, libc::ENOENT, libc::ESRCH, libc::EADDRNOTAVAIL].contains(errno)
        )
    }

    /// The object is already there (a link name taken, an address or route present).
    pub fn is_exists(&self) -> bool {
        matches!(self, NlError::Kernel { errno, .. } if *errno == libc::EEXIST)
    }

    pub(super) fn invalid(message: String) -> NlError {
        NlError::Io(io::Error::new(io::ErrorKind::InvalidInput, message))
    }

    pub(super) fn protocol(context: &dyn Fn() -> String, e: impl fmt::Display) -> NlError {
        NlError::Protocol(format!("{}: {e}", context()))
    }
}

impl fmt::Display for NlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NlError::Kernel { errno, context } => {
                write!(f, "{context}: {}", io::Error::from_raw_os_error(*errno))
            }
            NlError::Io(e) => write!(f, "netlink: {e}"),
            NlError::Protocol(message) => write!(f, "netlink protocol: {message}"),
        }
    }
}

impl std::error::Error for NlError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            NlError::Io(e) => Some(e),
            _ => None,
        }
    }
}

impl From<io::Error> for NlError {
    fn from(e: io::Error) -> NlError {
        NlError::Io(e)
    }
}
