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
    let refuse = |property: &str, reason: String| jail.refuse(property, reason);
    if jail.get(PATH).0.is_none() {
        if jail.get(MOUNTS).0.is_empty() {
            return Vec::new();
        }
        return vec![refuse(
            MOUNTS.name(),
            format!(
                "needs a path (the jail's own root) to mount into; set one, or remove the key \
                 with: ioc set mounts {}",
                jail.name()
            ),
        )];
    }
    // ioc runs the host's dhclient inside the jail, and a jail with its own root cannot see
    // it: refuse before anything starts rather than half-way through a start.
    let dhcp = jail
        .ip4_addr()
        .iter()
        .find(|a| a.kind() == ioc_sdk::AddressKind::Dhcp)
        .map(|a| a.nic().to_string());
    dhcp.map(|nic| {
        refuse(
            super::properties::IP4_ADDR.name(),
            format!(
                "{nic}|dhcp is not supported on a jail with its own root (path) yet: ioc runs \
                 the host's dhclient, which the jail's root does not hold; give {nic} a static \
                 address, or set path=none"
            ),
        )
    })
    .into_iter()
    .collect()
}
