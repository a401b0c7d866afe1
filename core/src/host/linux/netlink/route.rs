//! Routes of the main table: add, list.

use std::net::{IpAddr, Ipv6Addr};

use libc::{RTM_NEWROUTE, RT_TABLE_MAIN};
use netlink_packet_core::{NLM_F_CREATE, NLM_F_EXCL};
use netlink_packet_route::route::{
    RouteAddress, RouteAttribute, RouteMessage, RouteProtocol, RouteScope, RouteType,
};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};

use super::address::{check_prefix, family_of};
use super::parse::{expect, parse_route};
use super::{Netlink, NlError};

/// A route of the main table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteInfo {
    /// `None` for the default route.
    pub destination: Option<(IpAddr, u8)>,
    pub gateway: Option<IpAddr>,
    pub oif: Option<u32>,
}

impl Netlink {
    /// Adds a route to the main table: to `destination` (`None`: the default route), via
    /// `gateway` and/or out of link `oif`. The family follows the destination or the gateway.
    /// A route without gateway is on-link (scope link). An IPv6 link-local gateway needs `oif`.
    pub fn add_route(
        &mut self,
        destination: Option<(IpAddr, u8)>,
        gateway: Option<IpAddr>,
        oif: Option<u32>,
    ) -> Result<(), NlError> {
        let msg = route_message(destination, gateway, oif)?;
        let context = || describe_route(destination, gateway, oif);
        self.socket.ack(
            RouteNetlinkMessage::NewRoute(msg),
            NLM_F_CREATE | NLM_F_EXCL,
            &context,
        )
    }

    /// The routes of the main table of one family (not the kernel's route cache).
    pub fn routes(&mut self, v6: bool) -> Result<Vec<RouteInfo>, NlError> {
        let mut msg = RouteMessage::default();
        msg.header.address_family = if v6 {
            AddressFamily::Inet6
        } else {
            AddressFamily::Inet
        };
        // With strict checking the kernel dumps only this table.
        msg.attributes
            .push(RouteAttribute::Table(u32::from(RT_TABLE_MAIN)));
        self.socket.dump(
            RouteNetlinkMessage::GetRoute(msg),
            &|| "list routes".to_string(),
            |kind, payload| expect(kind, RTM_NEWROUTE).and_then(|()| parse_route(payload)),
        )
    }
}

/// fe80::/10 (`Ipv6Addr::is_unicast_link_local` is newer than our minimum Rust).
fn is_link_local(ip: Ipv6Addr) -> bool {
    ip.segments()[0] & 0xffc0 == 0xfe80
}

/// The route message for [`Netlink::add_route`], after checking that the pieces fit together.
pub(super) fn route_message(
    destination: Option<(IpAddr, u8)>,
    gateway: Option<IpAddr>,
    oif: Option<u32>,
) -> Result<RouteMessage, NlError> {
    let what = || describe_route(destination, gateway, oif);
    let family = match (destination, gateway) {
        (None, None) => {
            return Err(NlError::invalid(format!(
                "{}: neither destination nor gateway",
                what()
            )))
        }
        (Some((dst, _)), Some(gw)) if dst.is_ipv4() != gw.is_ipv4() => {
            return Err(NlError::invalid(format!(
                "{}: mixed address families",
                what()
            )))
        }
        (Some((dst, _)), _) => family_of(dst),
        (None, Some(gw)) => family_of(gw),
    };
    if let Some(IpAddr::V6(gw)) = gateway {
        if is_link_local(gw) && oif.is_none() {
            return Err(NlError::invalid(format!(
                "{}: a link-local gateway needs an interface",
                what()
            )));
        }
    }
    let mut msg = RouteMessage::default();
    msg.header.address_family = family;
    msg.header.table = RT_TABLE_MAIN;
    msg.header.protocol = RouteProtocol::Static;
    msg.header.kind = RouteType::Unicast;
    msg.header.scope = if gateway.is_some() {
        RouteScope::Universe
    } else {
        RouteScope::Link
    };
    if let Some((dst, prefix)) = destination {
        check_prefix(dst, prefix)?;
        msg.header.destination_prefix_length = prefix;
        msg.attributes
            .push(RouteAttribute::Destination(RouteAddress::from(dst)));
    }
    if let Some(gw) = gateway {
        msg.attributes
            .push(RouteAttribute::Gateway(RouteAddress::from(gw)));
    }
    if let Some(oif) = oif {
        msg.attributes.push(RouteAttribute::Oif(oif));
    }
    Ok(msg)
}

/// "add route 10.1.0.0/16 via 10.0.0.1 dev #3", for errors.
fn describe_route(
    destination: Option<(IpAddr, u8)>,
    gateway: Option<IpAddr>,
    oif: Option<u32>,
) -> String {
    let mut text = match destination {
        Some((dst, prefix)) => format!("add route {dst}/{prefix}"),
        None => "add default route".to_string(),
    };
    if let Some(gw) = gateway {
        text += &format!(" via {gw}");
    }
    if let Some(oif) = oif {
        text += &format!(" dev #{oif}");
    }
    text
}
