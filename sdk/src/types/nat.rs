//! A NAT jail's network (issue 12): its pool block, the uplink it shares and its port forwards.

use std::net::Ipv4Addr;

use abi_stable::std_types::{ROption, RString, RVec};
use abi_stable::StableAbi;
use serde::{Deserialize, Serialize};

use super::address::{Cidr, Ip};

/// The transport protocol of a port forward.
#[repr(u8)]
#[derive(StableAbi, Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    /// TCP.
    Tcp,
    /// UDP.
    Udp,
}

impl Protocol {
    /// `tcp` or `udp`, as nftables, pf and ipfw write it.
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Tcp => "tcp",
            Protocol::Udp => "udp",
        }
    }
}

/// One `nat_forwards` entry: `count` consecutive host ports from `host_port` reach the jail's
/// ports from `jail_port`.
#[repr(C)]
#[derive(StableAbi, Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PortForward {
    /// The protocol forwarded.
    pub proto: Protocol,
    /// The first port on the jail's side.
    pub jail_port: u16,
    /// The first port on the host's uplink address.
    pub host_port: u16,
    /// How many consecutive ports (1 for a single port).
    pub count: u16,
}

/// The NAT part of a jail's network: set when `nat=on`.
#[repr(C)]
#[derive(StableAbi, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Nat {
    block: Cidr,
    uplink: ROption<RString>,
    forwards: RVec<PortForward>,
    backend: RString,
}

impl Nat {
    /// A NAT description; `block` is the jail's /30 (its first address), `uplink` the host
    /// interface whose address the jail shares (`None`: ioc found no IPv4 default route),
    /// `backend` the firewall plugin that does the NAT.
    pub fn new(
        block: Ipv4Addr,
        uplink: Option<&str>,
        forwards: Vec<PortForward>,
        backend: &str,
    ) -> Nat {
        Nat {
            block: Cidr::new(Ip::from(block), 30),
            uplink: uplink.map(RString::from).into(),
            forwards: forwards.into(),
            backend: backend.into(),
        }
    }

    fn nth(&self, n: u32) -> Ipv4Addr {
        match self.block.ip() {
            std::net::IpAddr::V4(v4) => Ipv4Addr::from(u32::from(v4) + n),
            std::net::IpAddr::V6(_) => Ipv4Addr::UNSPECIFIED,
        }
    }

    /// The jail's /30 block, as `network/30`.
    pub fn block(&self) -> Cidr {
        self.block
    }
    /// The host end of the jail's pair: the block's first address, the jail's default route.
    pub fn host_address(&self) -> Ipv4Addr {
        self.nth(1)
    }
    /// The jail end of the pair: the block's second address.
    pub fn jail_address(&self) -> Ipv4Addr {
        self.nth(2)
    }
    /// The uplink whose address the jail shares, if known.
    pub fn uplink(&self) -> Option<&str> {
        self.uplink.as_ref().map(RString::as_str).into_option()
    }
    /// The forwarded ports.
    pub fn forwards(&self) -> &[PortForward] {
        &self.forwards
    }
    /// The firewall plugin that does the NAT.
    pub fn backend(&self) -> &str {
        &self.backend
    }
}

/// What a NAT backend is asked to do for one jail: its [`Nat`] and the host end of its pair
/// (or, for a shared-IP NAT jail, the host interface holding its alias).
#[repr(C)]
#[derive(StableAbi, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NatRequest {
    /// The jail's name, which names the backend's per-jail objects.
    pub jail: RString,
    /// The jail's JID at start (ipfw numbers its nat instance from it).
    pub jid: u32,
    /// The host-side interface the jail's traffic arrives on.
    pub link: RString,
    /// The jail's NAT.
    pub nat: Nat,
}
