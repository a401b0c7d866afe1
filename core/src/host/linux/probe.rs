//! Read-only answers from the live Linux host for dry runs (no root needed: netlink dumps are
//! open to every user).

use ioc_sdk::Cidr;

use super::netlink::Netlink;
use crate::host::plan::Probe;

#[derive(Default)]
pub struct LinuxProbe {
    netlink: Option<Netlink>,
}

impl LinuxProbe {
    fn netlink(&mut self) -> Option<&mut Netlink> {
        if self.netlink.is_none() {
            self.netlink = Netlink::open().ok();
        }
        self.netlink.as_mut()
    }
}

impl Probe for LinuxProbe {
    fn link_mtu(&mut self, name: &str) -> Option<Option<u32>> {
        let link = self.netlink()?.link(name).ok()?;
        Some(link.map(|l| l.mtu))
    }

    fn host_has_address(&mut self, iface: &str, address: &Cidr) -> Option<bool> {
        let nl = self.netlink()?;
        let index = nl.link(iface).ok()??.index;
        let addresses = nl.addresses(Some(index)).ok()?;
        Some(addresses.iter().any(|a| a.addr == address.ip()))
    }
}
