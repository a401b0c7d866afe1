//! The properties of a jail's own root (issue 16), declared apart from the main table so the
//! root's configuration reads in one place.

use super::registry::properties;
use super::registry::Builtin::Fixed;
use super::syntax::{JailPath, Mounts};

properties! {
    PATH: JailPath = "path", Fixed("none"), Jail,
        "Directory holding the jail's root file system (owned by root, not writable by others), or none for the host's root";
    MOUNTS: Mounts = "mounts", Fixed("none"), Jail,
        "Host paths bind-mounted into a jail with a path: SOURCE:TARGET[:ro] comma-separated, TARGET inside the jail's root";
}

/// `mounts` mean something only inside a jail's own root: refused without a `path`.
pub fn check(jail: &super::ResolvedJail) -> Vec<crate::error::Error> {
    if jail.get(PATH).0.is_some() || jail.get(MOUNTS).0.is_empty() {
        return Vec::new();
    }
    vec![crate::error::Error::PropertyNotAllowed {
        jail: jail.name().to_string(),
        property: MOUNTS.name().to_string(),
        reason: format!(
            "needs a path (the jail's own root) to mount into; set one, or remove the key \
             with: ioc set mounts {}",
            jail.name()
        ),
    }]
}
