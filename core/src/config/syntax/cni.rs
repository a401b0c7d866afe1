//! The CNI properties' syntaxes (issue 13): `cni_network`, `cni_conf_dir`, `cni_path`,
//! `cni_ifname` and `cni_bandwidth`.
//!
//! Names follow the CNI specification's rules (a network name as libcni accepts it); the
//! directories must be absolute, since plugins run with a cleared environment and no working
//! directory of the user's.

use super::{check_no_nul, is_none_word, Reason, Syntax, NONE};
use crate::config::names::check_nic_name;

/// `cni_network`: the network list a `network_plugin=cni` jail joins, or none.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CniNetwork(pub Option<String>);

/// A network name as libcni accepts it: letters, digits, `_`, `.` and `-`, starting with a
/// letter or digit.
pub fn valid_network_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    bytes.next().is_some_and(|b| b.is_ascii_alphanumeric())
        && bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

impl Syntax for CniNetwork {
    fn parse(text: &str) -> Result<Self, Reason> {
        if is_none_word(text) {
            return Ok(CniNetwork(None));
        }
        let name = text.trim();
        if valid_network_name(name) {
            Ok(CniNetwork(Some(name.to_string())))
        } else {
            Err(format!(
                "expected none or a CNI network name (letters, digits, '_', '.' or '-', \
                 starting with a letter or digit) but got \"{text}\""
            ))
        }
    }

    fn print(&self) -> String {
        self.0.clone().unwrap_or_else(|| NONE.to_string())
    }
}

/// Checks one absolute directory of a CNI property: `/` first, no `:` (the `cni_path`
/// separator), no control characters.
fn check_dir(dir: &str, text: &str) -> Result<(), Reason> {
    check_no_nul(text)?;
    let ok = dir.starts_with('/') && !dir.contains(':') && !dir.chars().any(char::is_control);
    if ok {
        Ok(())
    } else {
        Err(format!(
            "expected an absolute directory such as /etc/cni/net.d but got \"{text}\""
        ))
    }
}

/// `cni_conf_dir`: the directory holding the network lists (`*.conflist`, `*.conf`, `*.json`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CniConfDir(pub String);

impl Default for CniConfDir {
    fn default() -> Self {
        CniConfDir("/etc/cni/net.d".to_string())
    }
}

impl Syntax for CniConfDir {
    fn parse(text: &str) -> Result<Self, Reason> {
        let dir = text.trim();
        check_dir(dir, text)?;
        Ok(CniConfDir(dir.to_string()))
    }

    fn print(&self) -> String {
        self.0.clone()
    }
}

/// `cni_path`: the directories plugins are searched in, in order, separated by `:`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CniPath(pub Vec<String>);

impl Default for CniPath {
    fn default() -> Self {
        CniPath(vec!["/opt/cni/bin".to_string(), "/usr/lib/cni".to_string()])
    }
}

impl Syntax for CniPath {
    fn parse(text: &str) -> Result<Self, Reason> {
        let dirs: Vec<String> = text
            .trim()
            .split(':')
            .map(str::trim)
            .filter(|d| !d.is_empty())
            .map(str::to_string)
            .collect();
        if dirs.is_empty() {
            return Err(format!(
                "expected absolute directories separated by ':' such as \
                 /opt/cni/bin:/usr/lib/cni but got \"{text}\""
            ));
        }
        for dir in &dirs {
            check_dir(dir, text).map_err(|_| {
                format!(
                    "expected absolute directories separated by ':' such as \
                     /opt/cni/bin:/usr/lib/cni but got \"{text}\""
                )
            })?;
        }
        Ok(CniPath(dirs))
    }

    fn print(&self) -> String {
        self.0.join(":")
    }
}

/// `cni_ifname`: the jail's interface the network list creates (`CNI_IFNAME`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CniIfname(pub String);

impl Default for CniIfname {
    fn default() -> Self {
        CniIfname("eth0".to_string())
    }
}

impl Syntax for CniIfname {
    fn parse(text: &str) -> Result<Self, Reason> {
        let name = text.trim();
        check_nic_name(name).map_err(|_| {
            format!(
                "expected an interface name (a letter, then letters, digits, '_', '.' or '-', at \
                 most 15 characters) but got \"{text}\""
            )
        })?;
        Ok(CniIfname(name.to_string()))
    }

    fn print(&self) -> String {
        self.0.clone()
    }
}

/// One direction of `cni_bandwidth`: a rate in bits per second and the bucket size in bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rate {
    pub bits_per_second: u64,
    /// The burst written after `/`; `None` lets the mode pick one (see [`Rate::burst_bits`]).
    pub burst: Option<u64>,
}

impl Rate {
    /// The burst in bits: the written one, else a tenth of a second at the rate, at least
    /// 128 kbit so a few full-size frames fit.
    pub fn burst_bits(&self) -> u64 {
        self.burst
            .unwrap_or_else(|| (self.bits_per_second / 10).max(128_000))
    }
}

/// `cni_bandwidth`: the rate limits the `bandwidth` CNI plugin applies (runtimeConfig
/// `bandwidth`): `in` is traffic into the jail, `out` traffic out of it. `none` for no limit.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CniBandwidth {
    pub ingress: Option<Rate>,
    pub egress: Option<Rate>,
}

/// The SI suffixes of rates and bursts, largest first (the canonical form uses the largest
/// that divides the number).
const UNITS: [(char, u64); 4] = [
    ('T', 1_000_000_000_000),
    ('G', 1_000_000_000),
    ('M', 1_000_000),
    ('k', 1_000),
];

/// `10M` (bits): digits and an optional SI suffix (k or K, M, G, T), more than zero.
fn parse_bits(text: &str) -> Option<u64> {
    let (digits, factor) = match text.chars().last()? {
        c if c.is_ascii_digit() => (text, 1),
        c => {
            let unit = if c == 'K' { 'k' } else { c };
            let factor = UNITS.iter().find(|(u, _)| *u == unit)?.1;
            (&text[..text.len() - c.len_utf8()], factor)
        }
    };
    if digits.is_empty() || digits.len() > 15 || !digits.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let n: u64 = digits.parse().ok()?;
    n.checked_mul(factor).filter(|&bits| bits > 0)
}

fn print_bits(bits: u64) -> String {
    UNITS
        .iter()
        .find(|(_, factor)| bits % factor == 0)
        .map(|(unit, factor)| format!("{}{unit}", bits / factor))
        .unwrap_or_else(|| bits.to_string())
}

fn print_rate(direction: &str, rate: &Rate) -> String {
    match rate.burst {
        Some(burst) => format!(
            "{direction}={}/{}",
            print_bits(rate.bits_per_second),
            print_bits(burst)
        ),
        None => format!("{direction}={}", print_bits(rate.bits_per_second)),
    }
}

impl Syntax for CniBandwidth {
    fn parse(text: &str) -> Result<Self, Reason> {
        if is_none_word(text) {
            return Ok(CniBandwidth::default());
        }
        let expected = || {
            format!(
                "expected none or in=RATE and/or out=RATE separated by ',' (bits per second \
                 with an optional k, M or G, and an optional /BURST in bits, e.g. \
                 in=10M,out=1M/256k) but got \"{text}\""
            )
        };
        let mut bandwidth = CniBandwidth::default();
        for entry in text.split(',').map(str::trim) {
            let (direction, value) = entry.split_once('=').ok_or_else(expected)?;
            let (rate, burst) = match value.trim().split_once('/') {
                Some((rate, burst)) => (rate, Some(parse_bits(burst.trim()).ok_or_else(expected)?)),
                None => (value.trim(), None),
            };
            let rate = Rate {
                bits_per_second: parse_bits(rate.trim()).ok_or_else(expected)?,
                burst,
            };
            let slot = match direction.trim() {
                "in" => &mut bandwidth.ingress,
                "out" => &mut bandwidth.egress,
                _ => return Err(expected()),
            };
            if slot.replace(rate).is_some() {
                return Err(expected());
            }
        }
        Ok(bandwidth)
    }

    fn print(&self) -> String {
        let parts: Vec<String> = [("in", &self.ingress), ("out", &self.egress)]
            .into_iter()
            .filter_map(|(direction, rate)| rate.as_ref().map(|r| print_rate(direction, r)))
            .collect();
        if parts.is_empty() {
            NONE.to_string()
        } else {
            parts.join(",")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{refused_with, round_trip};
    use super::*;

    #[test]
    fn networks() {
        round_trip::<CniNetwork>("none", "none");
        round_trip::<CniNetwork>(" mynet ", "mynet");
        round_trip::<CniNetwork>("k8s-pod.net_1", "k8s-pod.net_1");
        refused_with::<CniNetwork>("-x", "expected none or a CNI network name");
        refused_with::<CniNetwork>("a/b", "expected none or a CNI network name");
    }

    #[test]
    fn directories() {
        round_trip::<CniConfDir>("/etc/cni/net.d", "/etc/cni/net.d");
        refused_with::<CniConfDir>("etc/cni", "expected an absolute directory");
        refused_with::<CniConfDir>("/a:/b", "expected an absolute directory");
        refused_with::<CniConfDir>("/a\0", "NUL");
        round_trip::<CniPath>("/opt/cni/bin:/usr/lib/cni", "/opt/cni/bin:/usr/lib/cni");
        round_trip::<CniPath>("/x: /y:", "/x:/y");
        refused_with::<CniPath>("", "expected absolute directories");
        refused_with::<CniPath>("/x:bin", "expected absolute directories");
        assert_eq!(CniPath::default().print(), "/opt/cni/bin:/usr/lib/cni");
    }

    #[test]
    fn ifnames() {
        round_trip::<CniIfname>("eth0", "eth0");
        refused_with::<CniIfname>("0eth", "expected an interface name");
        refused_with::<CniIfname>("a-very-long-interface", "expected an interface name");
    }

    #[test]
    fn bandwidth() {
        round_trip::<CniBandwidth>("none", "none");
        round_trip::<CniBandwidth>("in=10M,out=10M", "in=10M,out=10M");
        round_trip::<CniBandwidth>("out=1000000, in=2500k", "in=2500k,out=1M");
        round_trip::<CniBandwidth>("in=8M/256K", "in=8M/256k");
        round_trip::<CniBandwidth>("out=1234", "out=1234");
        let bw = CniBandwidth::parse("in=10M").unwrap();
        let rate = bw.ingress.unwrap();
        assert_eq!(rate.bits_per_second, 10_000_000);
        assert_eq!(rate.burst_bits(), 1_000_000);
        assert_eq!(
            CniBandwidth::parse("out=64k")
                .unwrap()
                .egress
                .unwrap()
                .burst_bits(),
            128_000
        );
        for bad in [
            "in=0",
            "in=10X",
            "up=1M",
            "in=1M,in=2M",
            "in",
            "in=M",
            "in=1M/",
        ] {
            refused_with::<CniBandwidth>(bad, "expected none or in=RATE");
        }
    }
}
