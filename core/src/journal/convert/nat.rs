//! The journal's own form of a NAT request (issue 12): plain fields, independent of the sdk's
//! ABI types, like the rest of the journal format.

use std::net::{IpAddr, Ipv4Addr};

use ioc_sdk::{Nat, NatRequest, PortForward, Protocol};
use serde::{Deserialize, Serialize};

/// `ioc_sdk::NatRequest`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(in crate::journal) struct DiskNatRequest {
    jail: String,
    jid: u32,
    link: String,
    /// The first address of the jail's /30.
    block: Ipv4Addr,
    uplink: Option<String>,
    forwards: Vec<DiskForward>,
    backend: String,
}

/// `ioc_sdk::PortForward`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(in crate::journal) struct DiskForward {
    proto: String,
    jail_port: u16,
    host_port: u16,
    count: u16,
}

impl From<&NatRequest> for DiskNatRequest {
    fn from(r: &NatRequest) -> DiskNatRequest {
        let block = match r.nat.block().ip() {
            IpAddr::V4(v4) => v4,
            IpAddr::V6(_) => Ipv4Addr::UNSPECIFIED,
        };
        DiskNatRequest {
            jail: r.jail.to_string(),
            jid: r.jid,
            link: r.link.to_string(),
            block,
            uplink: r.nat.uplink().map(str::to_string),
            forwards: r
                .nat
                .forwards()
                .iter()
                .map(|f| DiskForward {
                    proto: f.proto.as_str().to_string(),
                    jail_port: f.jail_port,
                    host_port: f.host_port,
                    count: f.count,
                })
                .collect(),
            backend: r.nat.backend().to_string(),
        }
    }
}

impl From<DiskNatRequest> for NatRequest {
    fn from(d: DiskNatRequest) -> NatRequest {
        let forwards = d
            .forwards
            .iter()
            .map(|f| PortForward {
                proto: if f.proto == "udp" {
                    Protocol::Udp
                } else {
                    Protocol::Tcp
                },
                jail_port: f.jail_port,
                host_port: f.host_port,
                count: f.count,
            })
            .collect();
        NatRequest {
            jail: d.jail.into(),
            jid: d.jid,
            link: d.link.into(),
            nat: Nat::new(d.block, d.uplink.as_deref(), forwards, &d.backend),
        }
    }
}
