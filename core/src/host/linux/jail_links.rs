//! `LinuxHost`'s pairs and the jail side of its links: a pair made with its peer born in the
//! jail, a link moved in, and the routes, router advertisements and DHCP client a jail's
//! interface gets.

use std::net::IpAddr;
use std::os::fd::AsFd;
use std::path::Path;

use ioc_sdk::{HostError, HostErrorKind, HostOp, Side};

use super::{nl_error, not_found, LinuxHost};
use crate::host::exec::{io_error, run};
use crate::host::linux::jail::JailPaths;
use crate::host::linux::netlink::VethEnds;
use crate::host::linux::netns;

/// DHCP clients ioc knows how to run inside a jail, in order of preference.
const DHCLIENT: [&str; 2] = ["/sbin/dhclient", "/usr/sbin/dhclient"];

impl LinuxHost {
    /// A veth pair; a peer meant for the jail is created inside it at once, which saves the
    /// RCU grace period (15-20 ms) a move between namespaces costs, and its host end gets no
    /// IPv6 address (see [`Netlink::create_veth_in`]).
    pub(super) fn create_pair(&mut self, jail: &str, op: &HostOp) -> Result<(), HostError> {
        let HostOp::CreatePair {
            host,
            peer,
            peer_in_jail,
            host_mac,
            peer_mac,
            mtu,
            description,
        } = op
        else {
            return Err(HostError::new(HostErrorKind::Other, "not a pair"));
        };
        let (host_mac, peer_mac) = (
            host_mac.into_option().map(|m| m.0),
            peer_mac.into_option().map(|m| m.0),
        );
        let alias = (!description.is_empty()).then(|| description.as_str());
        if !peer_in_jail {
            return self
                .host_netlink()?
                .create_veth(host, peer, host_mac, peer_mac, mtu.into_option(), alias)
                .map(drop)
                .map_err(nl_error);
        }
        let ns = self.jail_netns(jail)?;
        self.host_netlink()?
            .create_veth_in(
                host,
                peer,
                ns.as_fd(),
                &VethEnds {
                    mac: host_mac,
                    peer_mac,
                    mtu: mtu.into_option(),
                    alias,
                },
            )
            .map(drop)
            .map_err(nl_error)
    }

    /// A handle of its own on the jail's network namespace, for a request of the host's socket
    /// that names it (both are borrowed from `self`).
    fn jail_netns(&mut self, jail: &str) -> Result<std::os::fd::OwnedFd, HostError> {
        self.jail(jail)?
            .ns
            .net
            .try_clone()
            .map_err(|e| io_error("dup", e))
    }

    /// Moves a host link into the jail; a pair end already born there needs nothing.
    pub(super) fn move_to_jail(&mut self, jail: &str, name: &str) -> Result<(), HostError> {
        let on_host = self.host_netlink()?.link(name).map_err(nl_error)?;
        let Some(link) = on_host else {
            if self
                .jail_netlink(jail)?
                .link(name)
                .map_err(nl_error)?
                .is_some()
            {
                return Ok(());
            }
            return Err(not_found(format!("interface {name} does not exist")));
        };
        let ns = self.jail_netns(jail)?;
        self.host_netlink()?
            .move_to_netns(link.index, ns.as_fd())
            .map_err(nl_error)
    }

    pub(super) fn add_route(
        &mut self,
        jail: &str,
        destination: Option<IpAddr>,
        gateway: Option<IpAddr>,
        link: Option<&str>,
    ) -> Result<(), HostError> {
        let oif = match link {
            Some(l) => Some(self.index(Side::Jail, jail, l)?),
            None => None,
        };
        let destination = destination.map(|d| (d, if d.is_ipv6() { 128 } else { 32 }));
        self.jail_netlink(jail)?
            .add_route(destination, gateway, oif)
            .map_err(nl_error)
    }

    /// Turns on SLAAC for a jail interface, then bounces it so the kernel solicits a router
    /// at once instead of waiting for the next periodic advertisement.
    pub(super) fn accept_rtadv(&mut self, jail: &str, link: &str) -> Result<(), HostError> {
        let index = self.index(Side::Jail, jail, link)?;
        let ns = &self.jail(jail)?.ns;
        for (key, value) in [("accept_ra", "1"), ("autoconf", "1")] {
            netns::write_sysctl_in(ns.net.as_fd(), &["net", "ipv6", "conf", link, key], value)
                .map_err(|e| io_error(&format!("enable router advertisements on {link}"), e))?;
        }
        let nl = self.jail_netlink(jail)?;
        nl.set_up(index, false)
            .and_then(|()| nl.set_up(index, true))
            .map_err(nl_error)
    }

    /// Runs dhclient inside the jail once; it stays in the background (in the jail, so the
    /// stop ends it) to renew the lease.
    pub(super) fn start_dhcp(&mut self, jail: &str, link: &str) -> Result<(), HostError> {
        let Some(client) = DHCLIENT.iter().find(|p| Path::new(p).is_file()) else {
            return Err(HostError::new(
                HostErrorKind::Unsupported,
                format!(
                    "ip4_addr asks for DHCP on {link}, but no DHCP client is installed: install isc-dhcp-client (dhclient)"
                ),
            ));
        };
        let dir = JailPaths::new(&self.run_dir, jail).dir;
        let pid = dir.join(format!("dhclient.{link}.pid"));
        let leases = dir.join(format!("dhclient.{link}.leases"));
        let mut cmd = self.command(Side::Jail, jail, client)?;
        cmd.arg("-1")
            .arg("-pf")
            .arg(&pid)
            .arg("-lf")
            .arg(&leases)
            .arg(link);
        let out = run(cmd, None)?;
        if out.status != 0 {
            return Err(HostError::new(
                HostErrorKind::Other,
                format!("dhclient got no lease on {link}: {}", out.stderr.trim()),
            ));
        }
        Ok(())
    }
}
