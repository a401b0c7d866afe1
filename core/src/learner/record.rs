//! What a learner allows its port right now, written to the jail's runtime dir for
//! `ioc list` and `ioc get ip4_addr`/`ip6_addr` (see [`crate::cni::reported`]).
//!
//! One small text file per learning port, `learned-<port>`, replaced whole on every change
//! (temp file and rename: a reader sees the old or the new list, never a mix), one address a
//! line: how it was learned, the address with its prefix length, and when it ends in seconds
//! since the epoch (`-`: never):
//!
//! ```text
//! dhcp 10.0.0.5/24 1764547200
//! slaac 2001:db8::200:ff:fe00:1/64 -
//! ```
//!
//! The kernel expires set elements by itself, without telling the learner, so the file keeps
//! each end of life and the reader drops what has ended. The addresses come from DHCP and RA
//! packets, so the reader trusts nothing in the file: it reads at most [`MAX_BYTES`] without
//! following a link, keeps at most [`MAX_ENTRIES`] lines, and skips any line it cannot parse.

use std::fmt::Write as _;
use std::fs::OpenOptions;
use std::io::{self, Read};
use std::net::IpAddr;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ioc_sdk::{Cidr, Ip};

use crate::store::fs::{replace_file, Durability};

/// The most a reader takes from a record: far more than a port's few addresses.
pub const MAX_BYTES: u64 = 4096;
/// The most addresses a reader takes from a record.
pub const MAX_ENTRIES: usize = 32;

/// How an address was learned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LearnedBy {
    /// A DHCPv4 lease.
    Dhcp,
    /// The jail's EUI-64 address in a prefix a router advertised.
    Slaac,
}

impl LearnedBy {
    /// The word in the record, and the property word it stands in for (`dhcp`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            LearnedBy::Dhcp => "dhcp",
            LearnedBy::Slaac => "slaac",
        }
    }

    fn parse(word: &str) -> Option<LearnedBy> {
        [LearnedBy::Dhcp, LearnedBy::Slaac]
            .into_iter()
            .find(|b| b.as_str() == word)
    }
}

/// One address a learner allows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LearnedAddress {
    pub by: LearnedBy,
    pub cidr: Cidr,
    /// When it ends; `None`: never (an infinite lease or lifetime).
    pub expires: Option<SystemTime>,
}

impl LearnedAddress {
    /// Still allowed at `now`.
    pub fn alive(&self, now: SystemTime) -> bool {
        self.expires.is_none_or(|e| e > now)
    }
}

/// The record of `port` in the jail's runtime dir `jail_dir`.
pub fn path(jail_dir: &Path, port: &str) -> PathBuf {
    jail_dir.join(format!("learned-{port}"))
}

/// The text of a record.
pub fn format(addresses: &[LearnedAddress]) -> String {
    let mut text = String::new();
    for a in addresses {
        let end = a
            .expires
            .map(|e| e.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs())
            .map_or_else(|| "-".to_string(), |s| s.to_string());
        let _ = writeln!(text, "{} {} {end}", a.by.as_str(), a.cidr);
    }
    text
}

/// Replaces the record at `path` with `addresses` (mode 0600: the runtime dir is root's).
pub fn write(path: &Path, addresses: &[LearnedAddress]) -> io::Result<()> {
    replace_file(
        path,
        format(addresses).as_bytes(),
        0o600,
        Durability::Volatile,
    )
}

/// The lines of a record's text that parse, in order, at most [`MAX_ENTRIES`].
pub fn parse(text: &str) -> Vec<LearnedAddress> {
    text.lines()
        .filter_map(parse_line)
        .take(MAX_ENTRIES)
        .collect()
}

fn parse_line(line: &str) -> Option<LearnedAddress> {
    let mut words = line.split_ascii_whitespace();
    let (by, cidr, end) = (words.next()?, words.next()?, words.next()?);
    if words.next().is_some() {
        return None;
    }
    let by = LearnedBy::parse(by)?;
    let (ip, prefix) = cidr.split_once('/')?;
    let ip: IpAddr = ip.parse().ok()?;
    let prefix: u8 = prefix.parse().ok()?;
    let max = if ip.is_ipv4() { 32 } else { 128 };
    if prefix > max {
        return None;
    }
    let expires = match end {
        "-" => None,
        seconds => Some(UNIX_EPOCH.checked_add(Duration::from_secs(seconds.parse().ok()?))?),
    };
    Some(LearnedAddress {
        by,
        cidr: Cidr::new(Ip::from(ip), prefix),
        expires,
    })
}

/// The addresses of the record at `path` still alive at `now`; empty when there is none or
/// it cannot be read.
pub fn read(path: &Path, now: SystemTime) -> Vec<LearnedAddress> {
    let mut text = String::new();
    let read = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC | libc::O_NONBLOCK)
        .open(path)
        .and_then(|file| {
            if !file.metadata()?.is_file() {
                return Err(io::Error::from(io::ErrorKind::InvalidData));
            }
            file.take(MAX_BYTES).read_to_string(&mut text)
        });
    match read {
        Ok(_) => parse(&text).into_iter().filter(|a| a.alive(now)).collect(),
        Err(_) => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(seconds)
    }

    fn lease(text: &str, prefix: u8, by: LearnedBy, expires: Option<SystemTime>) -> LearnedAddress {
        LearnedAddress {
            by,
            cidr: Cidr::new(Ip::from(text.parse::<IpAddr>().unwrap()), prefix),
            expires,
        }
    }

    #[test]
    fn a_record_reads_back_and_ended_addresses_are_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let path = path(dir.path(), "vnet0.5");
        let v4 = lease("10.0.0.5", 24, LearnedBy::Dhcp, Some(at(1000)));
        let v6 = lease("2001:db8::1", 64, LearnedBy::Slaac, None);
        write(&path, &[v4, v6]).unwrap();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "dhcp 10.0.0.5/24 1000\nslaac 2001:db8::1/64 -\n"
        );
        assert_eq!(read(&path, at(999)), [v4, v6]);
        assert_eq!(read(&path, at(1000)), [v6]);
        write(&path, &[]).unwrap();
        assert!(read(&path, at(0)).is_empty());
        assert!(read(&dir.path().join("none"), at(0)).is_empty());
    }

    #[test]
    fn damaged_or_hostile_records_yield_only_well_formed_lines() {
        let text = "dhcp 10.0.0.5/24 5\n\
                    dhcp 10.0.0.6/33 5\n\
                    dhcp 10.0.0.7 5\n\
                    static 10.0.0.8/24 5\n\
                    slaac 2001:db8::1/129 -\n\
                    dhcp 10.0.0.9/24 5 extra\n\
                    dhcp 10.0.0.10/24 99999999999999999999\n\
                    dhcp 10.0.0.11/24 -5\n\
                    \u{0}\u{ff} garbage\n";
        let parsed = parse(text);
        assert_eq!(
            parsed,
            [lease("10.0.0.5", 24, LearnedBy::Dhcp, Some(at(5)))]
        );
        let many = "slaac 2001:db8::1/64 -\n".repeat(MAX_ENTRIES * 2);
        assert_eq!(parse(&many).len(), MAX_ENTRIES);
    }

    #[test]
    fn links_and_huge_files_are_not_followed_or_read_whole() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("target");
        std::fs::write(&target, "dhcp 10.0.0.5/24 -\n").unwrap();
        let link = path(dir.path(), "vnet0.1");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        assert!(read(&link, at(0)).is_empty());
        // A first line longer than the limit: nothing past MAX_BYTES is read.
        let huge = path(dir.path(), "vnet0.2");
        let mut text = "x".repeat(MAX_BYTES as usize);
        text.push_str("\ndhcp 10.0.0.5/24 -\n");
        std::fs::write(&huge, text).unwrap();
        assert!(read(&huge, at(0)).is_empty());
        let fifo = path(dir.path(), "vnet0.3");
        nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::S_IRWXU).unwrap();
        assert!(read(&fifo, at(0)).is_empty());
    }
}
