//! Interface names for a jail's host-side links.
//!
//! FreeBSD names follow libioc: `<nic>:<jid>` for the host end, `<nic>:<jid>:j` for the jail end
//! before it moves, and further suffixes (`:a`, `:b`, `:net`) for Secure VNET. Linux does not
//! allow `:` in names, so it uses `.` instead. Both kernels allow at most 15 characters; a name
//! that would be longer keeps its `<jid>` and suffix (which make it unique among running jails)
//! and shortens the NIC part to its start plus a hash of the whole NIC name, so two long NIC names
//! of one jail never collapse into the same truncated name.

use crate::types::Platform;

/// Longest interface name both kernels accept (IFNAMSIZ - 1).
pub const MAX_LINK_NAME: usize = 15;

/// The separator between name parts on a platform.
pub fn separator(platform: Platform) -> char {
    match platform {
        Platform::FreeBsd => ':',
        Platform::Linux => '.',
    }
}

/// The name of a jail's host-side link: `link_name(p, "vnet0", 5, &[])` is `vnet0:5` on
/// FreeBSD, `link_name(p, "vnet0", 5, &["j"])` is `vnet0:5:j`.
pub fn link_name(platform: Platform, nic: &str, jid: u32, suffixes: &[&str]) -> String {
    let sep = separator(platform);
    let mut tail = format!("{sep}{jid}");
    for s in suffixes {
        tail.push(sep);
        tail.push_str(s);
    }
    if nic.len() + tail.len() <= MAX_LINK_NAME {
        return format!("{nic}{tail}");
    }
    let hash = format!("{:04x}", fnv1a(nic.as_bytes()) & 0xffff);
    let room = MAX_LINK_NAME.saturating_sub(tail.len());
    if room > hash.len() {
        let keep = room - hash.len();
        let prefix: String = nic.chars().take(keep).collect();
        return format!("{prefix}{hash}{tail}");
    }
    // The tail alone nearly fills the name (a huge JID): hash everything.
    let full = format!("{nic}{tail}");
    format!("i{:014x}", fnv1a64(full.as_bytes()) & 0x00ff_ffff_ffff_ffff)
}

fn fnv1a(bytes: &[u8]) -> u32 {
    bytes.iter().fold(0x811c_9dc5u32, |h, b| {
        (h ^ u32::from(*b)).wrapping_mul(0x0100_0193)
    })
}

fn fnv1a64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_names_follow_libioc() {
        let f = Platform::FreeBsd;
        assert_eq!(link_name(f, "vnet0", 5, &[]), "vnet0:5");
        assert_eq!(link_name(f, "vnet0", 5, &["j"]), "vnet0:5:j");
        assert_eq!(link_name(f, "vnet0", 5, &["net"]), "vnet0:5:net");
        assert_eq!(link_name(Platform::Linux, "vnet0", 5, &["j"]), "vnet0.5.j");
    }

    #[test]
    fn long_names_are_shortened_without_collisions() {
        let f = Platform::FreeBsd;
        let a = link_name(f, "averylongnic0", 12345, &["net"]);
        let b = link_name(f, "averylongnic1", 12345, &["net"]);
        assert!(
            a.len() <= MAX_LINK_NAME && b.len() <= MAX_LINK_NAME,
            "{a} {b}"
        );
        assert_ne!(a, b);
        assert!(a.ends_with(":12345:net"), "{a}");
        let huge = link_name(f, "vnet0", u32::MAX, &["net"]);
        assert!(huge.len() <= MAX_LINK_NAME, "{huge}");
        assert_ne!(huge, link_name(f, "vnet1", u32::MAX, &["net"]));
    }
}
