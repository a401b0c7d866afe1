//! `ip4_addr` / `ip6_addr` (address lists) and `defaultrouter` / `defaultrouter6` (gateways).
//!
//! Both families share one parser, parameterised by [`Family`], so IPv4 and IPv6 follow the same
//! rules and produce the same error texts with the family's name in them.

use std::collections::HashSet;
use std::fmt;
use std::marker::PhantomData;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ioc_sdk::{Address, AddressKind, Cidr, Gateway};

use super::{is_none_word, list_items, print_list, Reason, Syntax};
use crate::config::names::check_nic_name;

/// What differs between IPv4 and IPv6 in the property language.
pub trait Family: Clone + Copy + PartialEq + Eq + fmt::Debug + Default + 'static {
    /// `IPv4` or `IPv6`, as in the reference's "Invalid IPv4 address: V".
    const NAME: &'static str;
    /// The prefix length of an address written without one (a host address).
    const MAX_PREFIX: u8;
    /// The keyword for a dynamically configured address: `dhcp` or `accept_rtadv`.
    const DYNAMIC_WORD: &'static str;
    const DYNAMIC_KIND: AddressKind;
    fn parse_ip(text: &str) -> Option<IpAddr>;
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct V4;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct V6;

impl Family for V4 {
    const NAME: &'static str = "IPv4";
    const MAX_PREFIX: u8 = 32;
    const DYNAMIC_WORD: &'static str = "dhcp";
    const DYNAMIC_KIND: AddressKind = AddressKind::Dhcp;
    fn parse_ip(text: &str) -> Option<IpAddr> {
        text.parse::<Ipv4Addr>().ok().map(IpAddr::V4)
    }
}

impl Family for V6 {
    const NAME: &'static str = "IPv6";
    const MAX_PREFIX: u8 = 128;
    const DYNAMIC_WORD: &'static str = "accept_rtadv";
    const DYNAMIC_KIND: AddressKind = AddressKind::AcceptRtadv;
    fn parse_ip(text: &str) -> Option<IpAddr> {
        text.parse::<Ipv6Addr>().ok().map(IpAddr::V6)
    }
}

fn parse_ip<F: Family>(text: &str) -> Result<IpAddr, Reason> {
    F::parse_ip(text).ok_or_else(|| format!("Invalid {} address: {text}", F::NAME))
}

/// A prefix length in plain decimal: no sign, no leading zeros (they would not print back).
fn parse_prefix(text: &str) -> Option<u8> {
    let plain =
        text.bytes().all(|b| b.is_ascii_digit()) && !(text.len() > 1 && text.starts_with('0'));
    if plain {
        text.parse().ok()
    } else {
        None
    }
}

/// A comma list of `NIC|ADDRESS[/PREFIX]` or `NIC|<dynamic word>`, in written order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AddressList<F: Family> {
    pub entries: Vec<Address>,
    family: PhantomData<F>,
}

/// `ip4_addr`.
pub type Ip4Addrs = AddressList<V4>;
/// `ip6_addr`.
pub type Ip6Addrs = AddressList<V6>;

impl<F: Family> AddressList<F> {
    pub fn new(entries: Vec<Address>) -> Self {
        AddressList {
            entries,
            family: PhantomData,
        }
    }

    fn parse_entry(entry: &str) -> Result<Address, Reason> {
        let Some((nic, address)) = entry.split_once('|') else {
            return Err(format!("expected \"<nic>|<address>\" but got \"{entry}\""));
        };
        let (nic, address) = (nic.trim(), address.trim());
        check_nic_name(nic).map_err(|e| format!("{e} in \"{entry}\""))?;
        if address.eq_ignore_ascii_case(F::DYNAMIC_WORD) {
            return Ok(Address::new(nic, F::DYNAMIC_KIND));
        }
        let (ip, prefix) = match address.split_once('/') {
            Some((ip, prefix)) => (ip, Some(prefix)),
            None => (address, None),
        };
        let ip = parse_ip::<F>(ip).map_err(|e| {
            format!(
                "{e} (expected \"<nic>|<address>[/<prefix>]\" or \"<nic>|{}\")",
                F::DYNAMIC_WORD
            )
        })?;
        let prefix = match prefix {
            None => F::MAX_PREFIX,
            Some(p) => parse_prefix(p)
                .filter(|n| *n <= F::MAX_PREFIX)
                .ok_or_else(|| {
                    format!(
                        "Invalid {} prefix length \"{p}\" in \"{entry}\": expected 0 to {}",
                        F::NAME,
                        F::MAX_PREFIX
                    )
                })?,
        };
        Ok(Address::new(
            nic,
            AddressKind::Static(Cidr::new(ip, prefix)),
        ))
    }

    fn print_entry(address: &Address) -> String {
        match address.kind() {
            AddressKind::Static(cidr) => format!("{}|{cidr}", address.nic()),
            AddressKind::Dhcp => format!("{}|dhcp", address.nic()),
            AddressKind::AcceptRtadv => format!("{}|accept_rtadv", address.nic()),
        }
    }
}

impl<F: Family> Syntax for AddressList<F> {
    fn parse(text: &str) -> Result<Self, Reason> {
        if is_none_word(text) {
            return Ok(Self::default());
        }
        let mut entries = Vec::new();
        let mut seen = HashSet::new();
        for entry in text.split(',') {
            let address = Self::parse_entry(entry.trim())?;
            // A static address is unique by its IP, a dynamic one by its NIC.
            let identity = match address.cidr() {
                Some(cidr) => cidr.ip().to_string(),
                None => Self::print_entry(&address),
            };
            if !seen.insert(identity.clone()) {
                return Err(format!(
                    "the address {identity} appears twice in \"{text}\""
                ));
            }
            entries.push(address);
        }
        Ok(Self::new(entries))
    }

    fn print(&self) -> String {
        print_list(&self.entries, Self::print_entry)
    }

    fn items(&self) -> Vec<String> {
        list_items(&self.entries, Self::print_entry)
    }
}

/// `defaultrouter` / `defaultrouter6`: `IP` or `IP@NIC`, no prefix; `None` when unset.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Router<F: Family> {
    pub gateway: Option<Gateway>,
    family: PhantomData<F>,
}

/// `defaultrouter`.
pub type Router4 = Router<V4>;
/// `defaultrouter6`.
pub type Router6 = Router<V6>;

impl<F: Family> Router<F> {
    pub fn new(gateway: Option<Gateway>) -> Self {
        Router {
            gateway,
            family: PhantomData,
        }
    }
}

impl<F: Family> Syntax for Router<F> {
    fn parse(text: &str) -> Result<Self, Reason> {
        if is_none_word(text) {
            return Ok(Self::new(None));
        }
        let text = text.trim();
        let (ip, nic) = match text.split_once('@') {
            Some((ip, nic)) => (ip, Some(nic)),
            None => (text, None),
        };
        if ip.contains('/') {
            return Err(format!(
                "expected \"<address>\" or \"<address>@<nic>\" without a prefix length but got \
                 \"{text}\""
            ));
        }
        let ip = parse_ip::<F>(ip)
            .map_err(|e| format!("{e} (expected \"<address>\" or \"<address>@<nic>\")"))?;
        if ip.is_unspecified() || ip.is_multicast() {
            return Err(format!(
                "{ip} cannot be a gateway: expected a unicast {} address",
                F::NAME
            ));
        }
        if let Some(nic) = nic {
            check_nic_name(nic).map_err(|e| format!("{e} in \"{text}\""))?;
        }
        Ok(Self::new(Some(Gateway::new(ip, nic))))
    }

    fn print(&self) -> String {
        match &self.gateway {
            None => super::NONE.to_string(),
            Some(g) => match g.nic() {
                Some(nic) => format!("{}@{nic}", g.ip()),
                None => g.ip().to_string(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{refused, refused_with, round_trip};
    use super::*;

    #[test]
    fn ip4_lists_keep_written_order_and_default_to_host_prefix() {
        round_trip::<Ip4Addrs>("vnet0|10.23.42.2/24", "vnet0|10.23.42.2/24");
        round_trip::<Ip4Addrs>("vnet0|10.23.42.2", "vnet0|10.23.42.2/32");
        round_trip::<Ip4Addrs>(
            "vnet0|10.0.0.9/8, vnet0|10.0.0.1/8,em0|192.168.1.5/24",
            "vnet0|10.0.0.9/8,vnet0|10.0.0.1/8,em0|192.168.1.5/24",
        );
        round_trip::<Ip4Addrs>("vnet0|DHCP", "vnet0|dhcp");
        round_trip::<Ip4Addrs>("vnet0|dhcp,vnet1|10.1.1.1/0", "vnet0|dhcp,vnet1|10.1.1.1/0");
        for none in ["", "none", "-"] {
            round_trip::<Ip4Addrs>(none, "none");
        }
        let v = Ip4Addrs::parse("vnet0|10.23.42.2/24").unwrap();
        assert_eq!(v.entries[0].nic(), "vnet0");
        assert_eq!(v.entries[0].cidr().unwrap().to_string(), "10.23.42.2/24");
    }

    #[test]
    fn ip4_reference_errors() {
        refused::<Ip4Addrs>(
            "10.23.42.2/24",
            "expected \"<nic>|<address>\" but got \"10.23.42.2/24\"",
        );
        refused_with::<Ip4Addrs>(
            "vnet0|10.23.42.256/24",
            "Invalid IPv4 address: 10.23.42.256 (expected",
        );
        refused_with::<Ip4Addrs>("vnet0|fe80::1", "Invalid IPv4 address: fe80::1 (expected");
        refused_with::<Ip4Addrs>("vnet0|", "Invalid IPv4 address:  (expected");
        refused_with::<Ip4Addrs>(
            "vnet0|accept_rtadv",
            "Invalid IPv4 address: accept_rtadv (expected",
        );
        refused::<Ip4Addrs>(
            "vnet0|10.0.0.1/33",
            "Invalid IPv4 prefix length \"33\" in \"vnet0|10.0.0.1/33\": expected 0 to 32",
        );
        for prefix in ["", "-1", "x", "024", "+24"] {
            refused_with::<Ip4Addrs>(
                &format!("vnet0|10.0.0.1/{prefix}"),
                &format!("Invalid IPv4 prefix length \"{prefix}\""),
            );
        }
        refused_with::<Ip4Addrs>(
            "vnet0|10.0.0.1,",
            "expected \"<nic>|<address>\" but got \"\"",
        );
        refused_with::<Ip4Addrs>("|10.0.0.1", "invalid interface name \"\"");
        refused_with::<Ip4Addrs>("a:b|10.0.0.1", "invalid interface name \"a:b\"");
        refused_with::<Ip4Addrs>(
            "vnet0|10.0.0.1/24,vnet1|10.0.0.1/16",
            "the address 10.0.0.1 appears twice",
        );
        refused_with::<Ip4Addrs>("vnet0|dhcp,vnet0|DHCP", "appears twice");
    }

    #[test]
    fn ip6_lists() {
        round_trip::<Ip6Addrs>("vnet0|2001:db8::2/64", "vnet0|2001:db8::2/64");
        round_trip::<Ip6Addrs>("vnet0|2001:DB8:0::2", "vnet0|2001:db8::2/128");
        round_trip::<Ip6Addrs>("vnet0|Accept_RtAdv", "vnet0|accept_rtadv");
        refused_with::<Ip6Addrs>("vnet0|dhcp", "Invalid IPv6 address: dhcp (expected");
        refused_with::<Ip6Addrs>("vnet0|10.0.0.1", "Invalid IPv6 address: 10.0.0.1 (expected");
        refused::<Ip6Addrs>(
            "2001:db8::2",
            "expected \"<nic>|<address>\" but got \"2001:db8::2\"",
        );
        refused_with::<Ip6Addrs>("vnet0|::1/129", "expected 0 to 128");
    }

    #[test]
    fn routers() {
        round_trip::<Router4>("10.23.42.1", "10.23.42.1");
        round_trip::<Router4>(" 10.23.42.1@vnet0 ", "10.23.42.1@vnet0");
        round_trip::<Router4>("none", "none");
        round_trip::<Router4>("", "none");
        round_trip::<Router6>("fe80::1@vnet0", "fe80::1@vnet0");
        round_trip::<Router6>("2001:DB8::1", "2001:db8::1");
        refused::<Router4>(
            "10.23.42.1/24",
            "expected \"<address>\" or \"<address>@<nic>\" without a prefix length but got \
             \"10.23.42.1/24\"",
        );
        refused_with::<Router4>("gateway", "Invalid IPv4 address: gateway (expected");
        refused_with::<Router4>("2001:db8::1", "Invalid IPv4 address: 2001:db8::1 (expected");
        refused_with::<Router6>("10.0.0.1", "Invalid IPv6 address: 10.0.0.1 (expected");
        refused_with::<Router4>("10.0.0.1@", "invalid interface name \"\"");
        refused_with::<Router4>("0.0.0.0", "cannot be a gateway");
        refused_with::<Router6>("ff02::1", "cannot be a gateway");
        let g = Router4::parse("10.23.42.1@vnet0").unwrap().gateway.unwrap();
        assert_eq!(g.nic(), Some("vnet0"));
    }
}
