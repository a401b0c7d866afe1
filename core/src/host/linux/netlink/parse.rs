//! Reading the kernel's rtnetlink replies: only the few attributes ioc uses, the rest skipped.

use std::mem::size_of;
use std::net::IpAddr;

use libc::{
    IFLA_ADDRESS, IFLA_IFALIAS, IFLA_IFNAME, IFLA_INFO_KIND, IFLA_LINKINFO, IFLA_MASTER, IFLA_MTU,
    RTM_F_CLONED, RT_TABLE_MAIN,
};
use netlink_packet_core::{
    parse_mac, parse_string, parse_u32, DecodeError, NlasIterator, Parseable,
};
use netlink_packet_route::address::{AddressAttribute, AddressFlags, AddressMessage};
use netlink_packet_route::link::{LinkFlags, LinkHeader};
use netlink_packet_route::route::{RouteAddress, RouteAttribute, RouteMessage};

use super::{AddressInfo, Dad, LinkInfo, NlError, RouteInfo};

/// The fixed header of a link message (`struct ifinfomsg`), before its attributes.
pub(super) const IFINFOMSG_LEN: usize = size_of::<libc::ifinfomsg>();

/// A reply the netlink crates could not decode: the kernel said something we do not understand.
fn decode_error(e: DecodeError) -> NlError {
    NlError::Protocol(e.to_string())
}

/// Checks that a reply has the type its request asks for, rather than misreading another.
pub(super) fn expect(kind: u16, wanted: u16) -> Result<(), NlError> {
    if kind == wanted {
        Ok(())
    } else {
        Err(NlError::Protocol(format!(
            "unexpected message type {kind}, wanted {wanted}"
        )))
    }
}

/// The DAD state an address's flags say.
fn dad_state(flags: AddressFlags) -> Dad {
    if flags.contains(AddressFlags::Dadfailed) {
        Dad::Failed
    } else if flags.contains(AddressFlags::Optimistic) {
        Dad::Optimistic
    } else if flags.contains(AddressFlags::Tentative) {
        Dad::Tentative
    } else {
        Dad::Done
    }
}

/// message is mostly configuration and statistics we never look at.
pub(super) fn parse_link(payload: &[u8]) -> Result<LinkInfo, NlError> {
    let header = LinkHeader::parse(payload).map_err(decode_error)?;
    let mut link = LinkInfo {
        index: header.index,
        name: String::new(),
        mtu: 0,
        mac: None,
        up: header.flags.contains(LinkFlags::Up),
        master: None,
        kind: None,
        alias: None,
    };
    for nla in NlasIterator::new(&payload[IFINFOMSG_LEN..]) {
        let nla = nla.map_err(decode_error)?;
        let value = nla.value();
        match nla.kind() {
            IFLA_IFNAME => link.name = parse_string(value).map_err(decode_error)?,
            IFLA_MTU => link.mtu = parse_u32(value).map_err(decode_error)?,
            // Not every link type has a six-byte hardware address.
            IFLA_ADDRESS => link.mac = parse_mac(value).ok(),
            IFLA_MASTER => {
                link.master = Some(parse_u32(value).map_err(decode_error)?).filter(|&m| m != 0)
            }
            IFLA_IFALIAS => {
                link.alias =
                    Some(parse_string(value).map_err(decode_error)?).filter(|a| !a.is_empty())
            }
            IFLA_LINKINFO => link.kind = link_kind(value)?,
            _ => {}
        }
    }
    Ok(link)
}

/// A `u32` attribute of a link message, e.g. `IFLA_LINK`.
pub(super) fn link_u32(payload: &[u8], kind: u16) -> Result<Option<u32>, NlError> {
    let attributes = payload.get(IFINFOMSG_LEN..).unwrap_or_default();
    for nla in NlasIterator::new(attributes) {
        let nla = nla.map_err(decode_error)?;
        if nla.kind() == kind {
            return parse_u32(nla.value()).map(Some).map_err(decode_error);
        }
    }
    Ok(None)
}

/// `IFLA_INFO_KIND` inside `IFLA_LINKINFO`, without parsing the kind's own data.
fn link_kind(linkinfo: &[u8]) -> Result<Option<String>, NlError> {
    for nla in NlasIterator::new(linkinfo) {
        let nla = nla.map_err(decode_error)?;
        if nla.kind() == IFLA_INFO_KIND {
            return parse_string(nla.value()).map(Some).map_err(decode_error);
        }
    }
    Ok(None)
}

/// An address reply; `None` for families other than IPv4 and IPv6.
pub(super) fn parse_address(payload: &[u8]) -> Result<Option<AddressInfo>, NlError> {
    let msg = AddressMessage::parse(payload).map_err(decode_error)?;
    let (mut local, mut address, mut broadcast) = (None, None, None);
    let mut flags = AddressFlags::from_bits_retain(u32::from(msg.header.flags.bits()));
    for attribute in &msg.attributes {
        match attribute {
            AddressAttribute::Local(ip) => local = Some(*ip),
            AddressAttribute::Address(ip) => address = Some(*ip),
            AddressAttribute::Broadcast(ip) => broadcast = Some(*ip),
            // IFA_FLAGS holds all flags; the header has room only for the low eight.
            AddressAttribute::Flags(all) => flags = *all,
            _ => {}
        }
    }
    // IFA_LOCAL is the address itself; IFA_ADDRESS is the peer on point-to-point links.
    Ok(local.or(address).map(|addr| AddressInfo {
        index: msg.header.index,
        addr,
        prefix: msg.header.prefix_len,
        dad: dad_state(flags),
        broadcast,
    }))
}

/// A route reply of the main table; `None` for other tables and for cached routes.
pub(super) fn parse_route(payload: &[u8]) -> Result<Option<RouteInfo>, NlError> {
    let msg = RouteMessage::parse(payload).map_err(decode_error)?;
    let mut table = u32::from(msg.header.table);
    let (mut destination, mut gateway, mut oif) = (None, None, None);
    for attribute in &msg.attributes {
        match attribute {
            RouteAttribute::Table(t) => table = *t,
            RouteAttribute::Destination(address) => destination = route_ip(address),
            RouteAttribute::Gateway(address) => gateway = route_ip(address),
            RouteAttribute::Oif(index) => oif = Some(*index),
            _ => {}
        }
    }
    if table != u32::from(RT_TABLE_MAIN) || msg.header.flags.bits() & RTM_F_CLONED != 0 {
        return Ok(None);
    }
    let prefix = msg.header.destination_prefix_length;
    Ok(Some(RouteInfo {
        destination: destination.filter(|_| prefix > 0).map(|ip| (ip, prefix)),
        gateway,
        oif,
    }))
}

fn route_ip(address: &RouteAddress) -> Option<IpAddr> {
    match address {
        RouteAddress::Inet(ip) => Some(IpAddr::V4(*ip)),
        RouteAddress::Inet6(ip) => Some(IpAddr::V6(*ip)),
        _ => None,
    }
}
