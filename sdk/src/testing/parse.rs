//! Parsers for the property values a [`JailBuilder`](super::JailBuilder) accepts, written as a
//! user writes them in `ioc set`. They follow ioc's syntax for valid input; their errors are for
//! test authors, not users.

use std::net::IpAddr;

use crate::types::{Address, AddressKind, Cidr, Gateway, Mac};

/// One `interfaces` pair: NIC, bridge (`None` for `vnet0:` / `vnet0:none`), secure (`::`).
pub(super) type Pair = (String, Option<String>, bool);

fn is_none_word(text: &str) -> bool {
    matches!(text.trim(), "" | "-" | "none")
}

fn family(v6: bool) -> &'static str {
    if v6 {
        "IPv6"
    } else {
        "IPv4"
    }
}

/// `vnet0:bridge0,vnet1::bridge1` (commas and/or spaces between pairs).
pub(super) fn interfaces(text: &str) -> Result<Vec<Pair>, String> {
    if is_none_word(text) {
        return Ok(Vec::new());
    }
    text.split(|c: char| c == ',' || c.is_whitespace())
        .filter(|t| !t.is_empty())
        .map(|pair| {
            let (nic, rest) = pair
                .split_once(':')
                .ok_or_else(|| format!("expected NIC:BRIDGE or NIC::BRIDGE, got {pair:?}"))?;
            let (secure, bridge) = match rest.strip_prefix(':') {
                Some(bridge) => (true, bridge),
                None => (false, rest),
            };
            let bridge = (!is_none_word(bridge)).then(|| bridge.to_string());
            Ok((nic.to_string(), bridge, secure))
        })
        .collect()
}

/// `vnet0|10.0.0.2/24,vnet0|dhcp` (IPv4) or `vnet0|2001:db8::2/64,vnet0|accept_rtadv` (IPv6);
/// an address without a prefix is a host address, as in ioc.
pub(super) fn addresses(text: &str, v6: bool) -> Result<Vec<Address>, String> {
    if is_none_word(text) {
        return Ok(Vec::new());
    }
    let (dynamic_word, dynamic_kind, max_prefix) = if v6 {
        ("accept_rtadv", AddressKind::AcceptRtadv, 128)
    } else {
        ("dhcp", AddressKind::Dhcp, 32)
    };
    text.split(',')
        .map(|entry| {
            let (nic, address) = entry
                .trim()
                .split_once('|')
                .ok_or_else(|| format!("expected NIC|ADDRESS[/PREFIX], got {entry:?}"))?;
            if address.eq_ignore_ascii_case(dynamic_word) {
                return Ok(Address::new(nic, dynamic_kind));
            }
            let (ip, prefix) = match address.split_once('/') {
                Some((ip, prefix)) => (ip, Some(prefix)),
                None => (address, None),
            };
            let ip = ip_of_family(ip, v6)?;
            let prefix = match prefix {
                None => max_prefix,
                Some(p) => p
                    .parse::<u8>()
                    .ok()
                    .filter(|n| *n <= max_prefix)
                    .ok_or_else(|| format!("invalid prefix length {p:?} in {entry:?}"))?,
            };
            Ok(Address::new(
                nic,
                AddressKind::Static(Cidr::new(ip, prefix)),
            ))
        })
        .collect()
}

fn ip_of_family(text: &str, v6: bool) -> Result<IpAddr, String> {
    text.parse::<IpAddr>()
        .ok()
        .filter(|ip| ip.is_ipv6() == v6)
        .ok_or_else(|| format!("invalid {} address {text:?}", family(v6)))
}

/// `10.0.0.1` or `10.0.0.1@vnet0`; `None` for `none`.
pub(super) fn gateway(text: &str, v6: bool) -> Result<Option<Gateway>, String> {
    if is_none_word(text) {
        return Ok(None);
    }
    let (ip, nic) = match text.trim().split_once('@') {
        Some((ip, nic)) => (ip, Some(nic)),
        None => (text.trim(), None),
    };
    Ok(Some(Gateway::new(ip_of_family(ip, v6)?, nic)))
}

/// A pinned `<nic>_mac`: `HOSTMAC,JAILMAC`, or one MAC for the host end, the jail end being the
/// next address (ioc's `jail_mac = host_mac + 1` rule).
pub(super) fn mac_pair(text: &str) -> Result<(Mac, Mac), String> {
    match text.split_once(',') {
        Some((host, jail)) => Ok((host.trim().parse()?, jail.trim().parse()?)),
        None => {
            let host: Mac = text.trim().parse()?;
            Ok((host, Mac::from_u64(host.to_u64().wrapping_add(1))))
        }
    }
}
