//! Blocking netlink: every interface, address and route operation of the Linux host, and its
//! nf_tables queries.
//!
//! - `socket.rs`: the transport, one [`NlSocket`] type for every netlink protocol: send a
//!   request, collect its replies up to the ACK, map the kernel's errno (`error.rs`).
//! - `link.rs`, `address.rs`, `route.rs`: rtnetlink, through [`Netlink`] (a `NETLINK_ROUTE`
//!   socket); requests are built from the typed messages of `netlink-packet-route`.
//! - `parse.rs`: reading rtnetlink's replies.
//! - `nftables.rs`: whether an nf_tables table or chain exists, through [`Nfnetlink`] (a
//!   `NETLINK_NETFILTER` socket).
//! - `nft_batch.rs` (attributes in `nft_attr.rs`, rule checks in `nft_check.rs`),
//!   `nft_commit.rs`: committing an
//!   `ioc_sdk::nft` batch as one nfnetlink transaction ([`Nfnetlink::commit`]).
//! - `nft_elements.rs`: adding and removing set elements (with timeouts) in one nfnetlink
//!   batch, over the same socket.
//! - `nft_read.rs`: reading one set's elements and one chain's rules back (dumps filtered to
//!   that one object), to check a filter against what it should be.
//!
//! Starting jails is the hot path, so each request is one `send` and, normally, one `recv`: no
//! dump to look something up afterwards, no child process, no async runtime. Gets ask for no ACK
//! (the reply itself ends them) and no statistics; changes ask for the bare ACK
//! (`NETLINK_CAP_ACK`) with the kernel's explanation attached when they fail (`NETLINK_EXT_ACK`);
//! a create carries the get of the new link in the same datagram. The kernel's own work is the
//! rest: a veth pair costs about 0.5 ms, and moving a link to another namespace 15 to 20 ms,
//! which is why a jail's end is created inside the jail ([`Netlink::create_veth_in`]).

mod address;
mod error;
mod link;
mod nft_attr;
mod nft_batch;
mod nft_check;
mod nft_commit;
mod nft_elements;
mod nft_map;
mod nft_nat;
mod nft_read;
mod nftables;
mod parse;
mod route;
mod socket;
#[cfg(test)]
mod tests;

use std::os::fd::BorrowedFd;

use netlink_sys::protocols::NETLINK_ROUTE;

pub use crate::host::dad::Dad;
pub use address::AddressInfo;
pub use error::NlError;
pub use link::{delete_link_request, LinkInfo, VethEnds};
pub use nft_elements::{ElementChange, SetElements};
pub use nft_read::NftRuleInfo;
pub use nftables::Nfnetlink;
pub use route::RouteInfo;
pub use socket::NlSocket;

/// One rtnetlink socket in one network namespace: links, addresses and routes.
pub struct Netlink {
    socket: NlSocket,
}

impl Netlink {
    /// Opens a socket in the calling thread's current network namespace.
    pub fn open() -> Result<Netlink, NlError> {
        NlSocket::open(NETLINK_ROUTE).map(|socket| Netlink { socket })
    }

    /// Opens a socket in the network namespace `ns` (a jail's, say); see
    /// [`NlSocket::open_in`].
    pub fn open_in(ns: BorrowedFd<'_>) -> Result<Netlink, NlError> {
        NlSocket::open_in(ns, NETLINK_ROUTE).map(|socket| Netlink { socket })
    }
}
