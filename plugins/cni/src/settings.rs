//! A CNI jail's settings, read from its resolved properties (printed in their canonical
//! forms, which ioc's property syntaxes guarantee) and checked once more here, since a
//! plugin trusts nothing it did not parse itself.

use std::net::IpAddr;

use ioc_sdk::{Cidr, Error, Jail, Mac, Result};

/// One direction of `cni_bandwidth`, in bits per second and bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rate {
    pub rate: u64,
    pub burst: u64,
}

/// A forwarded port range of `nat_forwards`, for runtimeConfig `portMappings`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Forward {
    pub protocol: &'static str,
    pub container: (u16, u16),
    pub host: (u16, u16),
}

/// Everything the `cni` mode reads from a jail.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    pub network: String,
    pub conf_dir: String,
    pub path: Vec<String>,
    pub ifname: String,
    pub secure: bool,
    pub ingress: Option<Rate>,
    pub egress: Option<Rate>,
    pub forwards: Vec<Forward>,
    /// The jail-side MAC of `cni_ifname` (`<cni_ifname>_mac`, generated or pinned).
    pub mac: Option<Mac>,
    /// The static addresses of `ip4_addr` and `ip6_addr` (runtimeConfig `ips`).
    pub ips: Vec<Cidr>,
    /// `resolver` is its default, so the CNI result's DNS may write the jail's resolv.conf.
    pub default_resolver: bool,
}

/// The default of `resolver`: copy the host's file. Only then does a result's DNS replace it.
const DEFAULT_RESOLVER: &str = "/etc/resolv.conf";

/// Most ports one `nat_forwards` entry may map (each becomes one `portMappings` entry).
const MAX_MAPPINGS: u32 = 1024;

fn property<'j>(jail: &'j Jail, key: &str) -> Result<&'j str> {
    jail.property(key).ok_or_else(|| {
        Error::new(format!(
            "property '{key}': ioc passed no value (an ioc older than the cni plugin?)"
        ))
    })
}

fn invalid(key: &str, expected: &str, got: &str) -> Error {
    Error::new(format!(
        "property '{key}': expected {expected} but got \"{got}\""
    ))
}

impl Settings {
    /// Reads the jail's CNI settings; an error names the property and what it expects.
    pub fn of(jail: &Jail) -> Result<Settings> {
        let network = property(jail, "cni_network")?;
        if network == "none" || !ioc_cni::config::valid_network_name(network) {
            return Err(invalid(
                "cni_network",
                "the name of a CNI network list with network_plugin=cni, e.g. ioc set cni_network=mynet JAIL,",
                network,
            ));
        }
        let ifname = property(jail, "cni_ifname")?.to_string();
        ioc_cni::env::check_ifname(&ifname)
            .map_err(|e| Error::new(format!("property 'cni_ifname': {e}")))?;
        let (ingress, egress) = bandwidth(property(jail, "cni_bandwidth")?)?;
        let mac = match jail.property(&format!("{ifname}_mac")) {
            Some(pair) => Some(jail_mac(&ifname, pair)?),
            None => None,
        };
        let network_spec = jail.network();
        let ips = network_spec
            .ip4()
            .iter()
            .chain(network_spec.ip6())
            .filter_map(|a| a.cidr())
            .collect();
        Ok(Settings {
            network: network.to_string(),
            conf_dir: property(jail, "cni_conf_dir")?.to_string(),
            path: property(jail, "cni_path")?
                .split(':')
                .filter(|d| !d.is_empty())
                .map(str::to_string)
                .collect(),
            ifname,
            secure: property(jail, "cni_secure")? == "on",
            ingress,
            egress,
            forwards: forwards(jail.property("nat_forwards").unwrap_or("none"))?,
            mac,
            ips,
            default_resolver: jail.property("resolver") == Some(DEFAULT_RESOLVER),
        })
    }

    /// The static addresses' IPs.
    pub fn static_ips(&self) -> impl Iterator<Item = IpAddr> + '_ {
        self.ips.iter().map(|c| c.ip())
    }
}

/// `HOSTMAC,JAILMAC` of `<ifname>_mac`: the jail's is the second.
fn jail_mac(ifname: &str, pair: &str) -> Result<Mac> {
    pair.split_once(',')
        .and_then(|(_, jail)| jail.trim().parse().ok())
        .ok_or_else(|| invalid(&format!("{ifname}_mac"), "HOSTMAC,JAILMAC", pair))
}

/// `in=10M/256k,out=1M` (or `none`): rates in bits per second with SI suffixes, bursts in bits
/// (a tenth of a second at the rate, at least 128 kbit, when not written; ioc's rule).
pub fn bandwidth(text: &str) -> Result<(Option<Rate>, Option<Rate>)> {
    let bad = || {
        invalid(
            "cni_bandwidth",
            "none or in=RATE[/BURST],out=RATE[/BURST]",
            text,
        )
    };
    let (mut ingress, mut egress) = (None, None);
    if text == "none" {
        return Ok((None, None));
    }
    for entry in text.split(',') {
        let (direction, value) = entry.split_once('=').ok_or_else(bad)?;
        let (rate, burst) = match value.split_once('/') {
            Some((rate, burst)) => (
                bits(rate).ok_or_else(bad)?,
                Some(bits(burst).ok_or_else(bad)?),
            ),
            None => (bits(value).ok_or_else(bad)?, None),
        };
        let rate = Rate {
            rate,
            burst: burst.unwrap_or((rate / 10).max(128_000)),
        };
        match direction {
            "in" => ingress = Some(rate),
            "out" => egress = Some(rate),
            _ => return Err(bad()),
        }
    }
    Ok((ingress, egress))
}

fn bits(text: &str) -> Option<u64> {
    let (digits, factor) = match text.chars().last()? {
        'k' => (&text[..text.len() - 1], 1_000),
        'M' => (&text[..text.len() - 1], 1_000_000),
        'G' => (&text[..text.len() - 1], 1_000_000_000),
        'T' => (&text[..text.len() - 1], 1_000_000_000_000),
        _ => (text, 1),
    };
    digits
        .parse::<u64>()
        .ok()?
        .checked_mul(factor)
        .filter(|&b| b > 0)
}

/// `nat_forwards` (`tcp(80:8080),udp(53)`, or `none`) as port mappings.
pub fn forwards(text: &str) -> Result<Vec<Forward>> {
    if text == "none" {
        return Ok(Vec::new());
    }
    let bad = || invalid("nat_forwards", "PROTO(JAILPORT:HOSTPORT) entries", text);
    text.split(',')
        .map(|entry| {
            let (proto, rest) = entry.split_once('(').ok_or_else(bad)?;
            let inner = rest.strip_suffix(')').ok_or_else(bad)?;
            let protocol = match proto {
                "tcp" => "tcp",
                "udp" => "udp",
                _ => return Err(bad()),
            };
            let (container, host) = match inner.split_once(':') {
                Some((c, h)) => (range(c).ok_or_else(bad)?, range(h).ok_or_else(bad)?),
                None => (range(inner).ok_or_else(bad)?, range(inner).ok_or_else(bad)?),
            };
            if container.1 - container.0 != host.1 - host.0
                || u32::from(container.1 - container.0) >= MAX_MAPPINGS
            {
                return Err(bad());
            }
            Ok(Forward {
                protocol,
                container,
                host,
            })
        })
        .collect()
}

fn range(text: &str) -> Option<(u16, u16)> {
    let (first, last) = text.split_once('-').unwrap_or((text, text));
    let (first, last) = (first.parse().ok()?, last.parse().ok()?);
    (first <= last).then_some((first, last))
}
