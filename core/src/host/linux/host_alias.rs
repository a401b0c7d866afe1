//! A jail's addresses on host interfaces (shared-IP jails): added with DAD watched, removed
//! without taking the other addresses of their subnet along.

use std::io;
use std::net::{IpAddr, Ipv4Addr};
use std::os::fd::AsFd;

use ioc_sdk::{Cidr, HostError, HostReply, Side};

use super::{nl_error, LinuxHost};
use crate::host::exec::io_error;
use crate::host::linux::netlink::AddressInfo;
use crate::host::linux::netns;

impl LinuxHost {
    pub(super) fn add_host_alias(
        &mut self,
        jail: &str,
        iface: &str,
        address: &Cidr,
    ) -> Result<HostReply, HostError> {
        let index = self.index(Side::Host, "", iface)?;
        match self
            .host_netlink()?
            .add_address(index, address.ip(), address.prefix())
        {
            Ok(()) => {
                self.dad.added(jail, iface, address.ip());
                Ok(HostReply::Flag(true))
            }
            Err(e) if e.is_exists() => Ok(HostReply::Flag(false)),
            Err(e) => Err(nl_error(e)),
        }
    }

    /// Removes one address from a host interface, and nothing else. Linux deletes the
    /// secondary IPv4 addresses of a subnet together with its primary unless the interface
    /// promotes them (`promote_secondaries`, off by default), so removing a jail's alias that
    /// happens to be the first of its subnet would take another jail's alias or the host's own
    /// address with it. While such an alias goes, the interface promotes secondaries; then its
    /// setting is put back (an ioc killed in between leaves it on, which only spares the
    /// secondaries of later deletions too).
    pub(super) fn remove_host_alias(
        &mut self,
        iface: &str,
        address: &Cidr,
    ) -> Result<(), HostError> {
        let index = self.index(Side::Host, "", iface)?;
        let nl = self.host_netlink()?;
        let in_its_subnet = |other: &AddressInfo| match (address.ip(), other.addr) {
            (IpAddr::V4(ip), IpAddr::V4(o)) => {
                o != ip && other.prefix == address.prefix() && same_subnet(o, ip, other.prefix)
            }
            _ => false,
        };
        let shares_subnet = address.ip().is_ipv4()
            && nl
                .addresses(Some(index))
                .map_err(nl_error)?
                .iter()
                .any(in_its_subnet);
        let promoting = if shares_subnet {
            PromoteSecondaries::on(iface)
                .map_err(|e| io_error(&format!("keep the other addresses of {iface}"), e))?
        } else {
            None
        };
        let removed = match nl.delete_address(index, address.ip(), address.prefix()) {
            Err(e) if !e.is_not_found() => Err(nl_error(e)),
            _ => Ok(()),
        };
        let restored = promoting.map_or(Ok(()), |p| {
            p.restore()
                .map_err(|e| io_error(&format!("restore promote_secondaries of {iface}"), e))
        });
        removed.and(restored)
    }
}

/// Whether two IPv4 addresses are in one subnet of `prefix` bits.
fn same_subnet(a: Ipv4Addr, b: Ipv4Addr, prefix: u8) -> bool {
    let mask = u32::MAX
        .checked_shl(32 - u32::from(prefix.min(32)))
        .unwrap_or(0);
    u32::from(a) & mask == u32::from(b) & mask
}

/// The path of `net.ipv4.conf.IFACE.promote_secondaries`.
fn promote_key(iface: &str) -> [&str; 5] {
    ["net", "ipv4", "conf", iface, "promote_secondaries"]
}

/// The host's `promote_secondaries` of one interface, switched on for one deletion and put
/// back by [`PromoteSecondaries::restore`].
struct PromoteSecondaries<'a> {
    iface: &'a str,
}

impl<'a> PromoteSecondaries<'a> {
    /// Switches it on; `None` when it was on already, so there is nothing to put back.
    fn on(iface: &'a str) -> io::Result<Option<PromoteSecondaries<'a>>> {
        let here = netns::current_netns()?;
        if netns::read_sysctl_in(here.as_fd(), &promote_key(iface))? != "0" {
            return Ok(None);
        }
        netns::write_sysctl_in(here.as_fd(), &promote_key(iface), "1")?;
        Ok(Some(PromoteSecondaries { iface }))
    }

    fn restore(self) -> io::Result<()> {
        let here = netns::current_netns()?;
        netns::write_sysctl_in(here.as_fd(), &promote_key(self.iface), "0")
    }
}
