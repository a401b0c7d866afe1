//! Addresses: add (optimistic for IPv6 where the link allows it), delete, list.

use std::net::{IpAddr, Ipv4Addr};

use libc::RTM_NEWADDR;
use netlink_packet_core::{NLM_F_CREATE, NLM_F_EXCL};
use netlink_packet_route::address::{AddressAttribute, AddressFlags, AddressMessage, AddressScope};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};

use super::parse::{expect, parse_address};
use super::{Dad, Netlink, NlError};

/// An address assigned to an interface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddressInfo {
    pub index: u32,
    pub addr: IpAddr,
    pub prefix: u8,
    /// Where IPv6 duplicate address detection stands (IPv4: always done).
    pub dad: Dad,
    /// The IPv4 broadcast address, if one is set.
    pub broadcast: Option<Ipv4Addr>,
}

impl Netlink {
    /// Adds `addr/prefix` to link `index`; an address already there gives
    /// [`NlError::is_exists`]. IPv4 addresses get their broadcast address (for prefixes up to
    /// /30; /31 and /32 have none).
    pub fn add_address(&mut self, index: u32, addr: IpAddr, prefix: u8) -> Result<(), NlError> {
        let msg = address_message(index, addr, prefix, true)?;
        self.new_address(msg, addr, prefix)
    }

    /// [`Netlink::add_address`], with an IPv6 address optimistic (RFC 4429): bindable and
    /// usable at once while duplicate address detection runs. The kernel honours the flag only
    /// on links with `optimistic_dad` on (a jail's, see `LINUX_JAIL_NET_SYSCTLS`) and adds an
    /// ordinary tentative address elsewhere.
    pub fn add_optimistic_address(
        &mut self,
        index: u32,
        addr: IpAddr,
        prefix: u8,
    ) -> Result<(), NlError> {
        let mut msg = address_message(index, addr, prefix, true)?;
        if addr.is_ipv6() {
            msg.attributes
                .push(AddressAttribute::Flags(AddressFlags::Optimistic));
        }
        self.new_address(msg, addr, prefix)
    }

    fn new_address(
        &mut self,
        msg: AddressMessage,
        addr: IpAddr,
        prefix: u8,
    ) -> Result<(), NlError> {
        let index = msg.header.index;
        let context = || format!("add address {addr}/{prefix} to link #{index}");
        self.socket.ack(
            RouteNetlinkMessage::NewAddress(msg),
            NLM_F_CREATE | NLM_F_EXCL,
            &context,
        )
    }

    /// Removes `addr/prefix` from link `index`; a missing address gives
    /// [`NlError::is_not_found`].
    pub fn delete_address(&mut self, index: u32, addr: IpAddr, prefix: u8) -> Result<(), NlError> {
        let msg = address_message(index, addr, prefix, false)?;
        let context = || format!("delete address {addr}/{prefix} from link #{index}");
        self.socket
            .ack(RouteNetlinkMessage::DelAddress(msg), 0, &context)
    }

    /// The addresses of link `index`, or of all links.
    pub fn addresses(&mut self, index: Option<u32>) -> Result<Vec<AddressInfo>, NlError> {
        let mut msg = AddressMessage::default();
        msg.header.index = index.unwrap_or(0);
        self.socket.dump(
            RouteNetlinkMessage::GetAddress(msg),
            &|| "list addresses".to_string(),
            |kind, payload| {
                expect(kind, RTM_NEWADDR)?;
                let address = parse_address(payload)?;
                Ok(address.filter(|a| index.is_none_or(|index| a.index == index)))
            },
        )
    }
}

pub(super) fn family_of(addr: IpAddr) -> AddressFamily {
    match addr {
        IpAddr::V4(_) => AddressFamily::Inet,
        IpAddr::V6(_) => AddressFamily::Inet6,
    }
}

fn max_prefix(addr: IpAddr) -> u8 {
    if addr.is_ipv4() {
        32
    } else {
        128
    }
}

pub(super) fn check_prefix(addr: IpAddr, prefix: u8) -> Result<(), NlError> {
    if prefix > max_prefix(addr) {
        return Err(NlError::invalid(format!(
            "invalid prefix length {addr}/{prefix}"
        )));
    }
    Ok(())
}

/// The address message for adding or deleting `addr/prefix` on link `index`.
///
/// IPv4 needs `IFA_LOCAL` (the address itself) and `IFA_ADDRESS` (the peer, the same on
/// non-point-to-point links); IPv6 only `IFA_ADDRESS`.
pub(super) fn address_message(
    index: u32,
    addr: IpAddr,
    prefix: u8,
    with_broadcast: bool,
) -> Result<AddressMessage, NlError> {
    check_prefix(addr, prefix)?;
    let mut msg = AddressMessage::default();
    msg.header.family = family_of(addr);
    msg.header.prefix_len = prefix;
    msg.header.index = index;
    msg.header.scope = match addr {
        IpAddr::V4(v4) if v4.is_loopback() => AddressScope::Host,
        _ => AddressScope::Universe,
    };
    if let IpAddr::V4(v4) = addr {
        msg.attributes.push(AddressAttribute::Local(addr));
        if with_broadcast && prefix <= 30 {
            let broadcast = Ipv4Addr::from(u32::from(v4) | u32::MAX >> prefix);
            msg.attributes.push(AddressAttribute::Broadcast(broadcast));
        }
    }
    msg.attributes.push(AddressAttribute::Address(addr));
    Ok(msg)
}
