//! The MAC formula of the reference (libioc's), so jails keep their MACs across restarts and
//! hosts without storing them:
//!
//! `host_mac = mac_prefix + first (12 - len(prefix)) hex digits of sha224(jail_name + nic)`,
//! `jail_mac = host_mac + 1` (as a 48-bit number).

use ioc_sdk::Mac;
use sha2::{Digest, Sha224};

use super::syntax::{MacPair, MacPrefix};

/// The generated MAC pair of one NIC of one jail.
pub fn generated_macs(prefix: &MacPrefix, jail: &str, nic: &str) -> MacPair {
    let digest = Sha224::digest(format!("{jail}{nic}").as_bytes());
    // The prefix is always 6 hex digits (3 bytes), so the hash supplies the other 3 bytes.
    let mut bytes = [0u8; 6];
    bytes[..3].copy_from_slice(&prefix.0);
    bytes[3..].copy_from_slice(&digest[..3]);
    let host = Mac(bytes);
    let jail = Mac::from_u64(host.to_u64().wrapping_add(1));
    MacPair { host, jail }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_vectors() {
        for (jail, host, jail_mac) in [
            ("jail-a", "02:ff:60:e7:93:9d", "02:ff:60:e7:93:9e"),
            ("jail-b", "02:ff:60:24:c4:b0", "02:ff:60:24:c4:b1"),
            ("myjail", "02:ff:60:cb:49:48", "02:ff:60:cb:49:49"),
        ] {
            let pair = generated_macs(&MacPrefix::default(), jail, "vnet0");
            assert_eq!(pair.host.to_string(), host, "{jail}");
            assert_eq!(pair.jail.to_string(), jail_mac, "{jail}");
        }
    }

    #[test]
    fn carry_crosses_into_the_prefix() {
        // Whatever the hash, +1 is 48-bit arithmetic: check it with a prefix and a forced value.
        let host = Mac([0x02, 0xff, 0x60, 0xff, 0xff, 0xff]);
        assert_eq!(
            Mac::from_u64(host.to_u64() + 1).to_string(),
            "02:ff:61:00:00:00"
        );
        let other = generated_macs(&MacPrefix([0x0a, 0, 0]), "jail-a", "vnet0");
        assert_eq!(other.host.to_string(), "0a:00:00:e7:93:9d");
    }
}
