//! Blocking rtnetlink: every interface, address and route operation of the Linux host.
//!
//! One [`Netlink`] is one `NETLINK_ROUTE` socket, bound to the network namespace it was opened
//! in, with its own sequence numbers and one receive buffer reused by every request. Requests are
//! built from the typed messages of `netlink-packet-route`; replies are read until the answer to
//! our own sequence number (the ACK, the end of a dump, or the one reply of a get), so a stale
//! message from an earlier, failed request is skipped instead of being taken as this one's.
//!
//! Starting jails is the hot path, so each request is one `send` and, normally, one `recv`: no
//! dump to look something up afterwards, no child process, no async runtime. Gets ask for no ACK
//! (the reply itself ends them) and no statistics; changes ask for the bare ACK
//! (`NETLINK_CAP_ACK`) with the kernel's explanation attached when they fail (`NETLINK_EXT_ACK`);
//! a create carries the get of the new link in the same datagram. The kernel's own work is the
//! rest: a veth pair costs about 0.5 ms, and moving a link to another namespace 15 to 20 ms,
//! which is why a jail's end is created inside the jail ([`Netlink::create_veth_in`]).

use std::fmt;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::os::fd::{AsRawFd, BorrowedFd};

use netlink_packet_core::{
    parse_mac, parse_string, parse_u32, DecodeError, NetlinkBuffer, NetlinkHeader, NetlinkMessage,
    NetlinkPayload, NlasIterator, Parseable, NLMSG_DONE, NLMSG_ERROR, NLMSG_NOOP, NLMSG_OVERRUN,
    NLM_F_ACK, NLM_F_ACK_TLVS, NLM_F_CAPPED, NLM_F_CREATE, NLM_F_DUMP, NLM_F_DUMP_INTR, NLM_F_EXCL,
    NLM_F_REQUEST,
};
use netlink_packet_route::address::{AddressAttribute, AddressFlags, AddressMessage, AddressScope};
use netlink_packet_route::link::{
    InfoData, InfoKind, InfoVeth, LinkAttribute, LinkExtentMask, LinkFlags, LinkHeader,
    LinkInfo as NlLinkInfo, LinkMessage,
};
use netlink_packet_route::route::{
    RouteAddress, RouteAttribute, RouteMessage, RouteProtocol, RouteScope, RouteType,
};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};
use netlink_sys::{protocols::NETLINK_ROUTE, Socket};

pub use crate::host::dad::Dad;

use super::netns;

/// A network interface as ioc needs to know it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkInfo {
    pub index: u32,
    pub name: String,
    pub mtu: u32,
    /// The hardware address, when it is an Ethernet-style one (six bytes).
    pub mac: Option<[u8; 6]>,
    /// Administratively up (`IFF_UP`); says nothing about the carrier.
    pub up: bool,
    /// The bridge (or other master) the link is a port of.
    pub master: Option<u32>,
    /// The link type, e.g. `veth` or `bridge`; `None` for plain devices such as `lo`.
    pub kind: Option<String>,
    /// The description (`IFLA_IFALIAS`); ioc tags the links it made with it.
    pub alias: Option<String>,
}

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

/// A route of the main table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteInfo {
    /// `None` for the default route.
    pub destination: Option<(IpAddr, u8)>,
    pub gateway: Option<IpAddr>,
    pub oif: Option<u32>,
}

/// What went wrong in a netlink request.
#[derive(Debug)]
pub enum NlError {
    /// The kernel refused the request. `context` says what was asked, and ends with the kernel's
    /// own explanation in parentheses when it gave one (extended ACK).
    Kernel { errno: i32, context: String },
    /// The socket failed, or the request was invalid before it was sent.
    Io(io::Error),
    /// The kernel's reply could not be understood.
    Protocol(String),
}

impl NlError {
    /// The object is not there: the usual answer when deleting something already gone, which
    /// teardown treats as done. Meant for deletes and lookups only: a create answers
    /// `EADDRNOTAVAIL` for an invalid MAC, which is no "not found".
    pub fn is_not_found(&self) -> bool {
        matches!(
            self,
            NlError::Kernel { errno, .. }
                if [libc::ENODEV, libc::ENOENT, libc::ESRCH, libc::EADDRNOTAVAIL].contains(errno)
        )
    }

    /// The object is already there (a link name taken, an address or route present).
    pub fn is_exists(&self) -> bool {
        matches!(self, NlError::Kernel { errno, .. } if *errno == libc::EEXIST)
    }

    fn invalid(message: String) -> NlError {
        NlError::Io(io::Error::new(io::ErrorKind::InvalidInput, message))
    }

    fn protocol(context: &dyn Fn() -> String, e: impl fmt::Display) -> NlError {
        NlError::Protocol(format!("{}: {e}", context()))
    }
}

impl fmt::Display for NlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NlError::Kernel { errno, context } => {
                write!(f, "{context}: {}", io::Error::from_raw_os_error(*errno))
            }
            NlError::Io(e) => write!(f, "netlink: {e}"),
            NlError::Protocol(message) => write!(f, "netlink protocol: {message}"),
        }
    }
}

impl std::error::Error for NlError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            NlError::Io(e) => Some(e),
            _ => None,
        }
    }
}

impl From<io::Error> for NlError {
    fn from(e: io::Error) -> NlError {
        NlError::Io(e)
    }
}

// Kernel constants the crates keep private.
const RTM_NEWLINK: u16 = 16;
const RTM_NEWADDR: u16 = 20;
const RTM_NEWROUTE: u16 = 24;
const IFLA_ADDRESS: u16 = 1;
const IFLA_IFNAME: u16 = 3;
const IFLA_LINK: u16 = 5;
const IFLA_MTU: u16 = 4;
const IFLA_MASTER: u16 = 10;
const IFLA_LINKINFO: u16 = 18;
const IFLA_IFALIAS: u16 = 20;
const IFLA_INFO_KIND: u16 = 1;
const IFINFOMSG_LEN: usize = 16;
const NLMSGERR_ATTR_MSG: u16 = 1;
const RT_TABLE_MAIN: u8 = 254;
/// `RTM_F_CLONED`: a route cache entry, not a configured route.
const RTM_F_CLONED: u32 = 0x200;

/// A kernel dump packs its messages into datagrams of at most 32 KiB (less if our buffer is
/// smaller), so this never truncates a dump; single replies are far smaller.
const RECV_BUFFER: usize = 32 * 1024;
/// A dump the kernel flags as inconsistent (the table changed meanwhile) is read again.
const DUMP_ATTEMPTS: usize = 4;

/// One message of a request and its `NLM_F_*` flags.
type Request = (RouteNetlinkMessage, u16);

/// Takes each reply (message type, payload) to the last message of a request.
type OnReply<'a> = dyn FnMut(u16, &[u8]) -> Result<(), NlError> + 'a;

/// What ends the replies to a request.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Until {
    /// The ACK: changes, sent with `NLM_F_ACK`.
    Ack,
    /// `NLMSG_DONE`: dumps.
    Done,
    /// The first reply: a get of one object, sent without `NLM_F_ACK` to save a `recv`.
    Reply,
}

/// One rtnetlink socket in one network namespace.
pub struct Netlink {
    socket: Socket,
    seq: u32,
    /// Encoded request, reused.
    send_buf: Vec<u8>,
    /// Received datagram, reused.
    recv_buf: Vec<u8>,
}

impl Netlink {
    /// Opens a socket in the calling thread's current network namespace.
    pub fn open() -> Result<Netlink, NlError> {
        let mut socket = Socket::new(NETLINK_ROUTE)?;
        socket.bind_auto()?;
        // Conveniences, not requirements: an older kernel without them still works (errors
        // lose the kernel's explanation, ACKs carry a copy of the request, address dumps are
        // filtered here rather than in the kernel).
        let _ = socket.set_ext_ack(true);
        let _ = socket.set_cap_ack(true);
        let _ = socket.set_netlink_get_strict_chk(true);
        Ok(Netlink {
            socket,
            seq: 0,
            send_buf: Vec::with_capacity(256),
            recv_buf: vec![0; RECV_BUFFER],
        })
    }

    /// Opens a socket in the network namespace `ns` (a jail's, say). A netlink socket stays in
    /// the namespace it was created in, so the calling thread enters `ns` only to create it and
    /// always returns to its own namespace, also when opening fails.
    pub fn open_in(ns: BorrowedFd<'_>) -> Result<Netlink, NlError> {
        netns::with_netns(ns, Netlink::open)?
    }

    // ---- links -------------------------------------------------------------------------

    /// The link called `name`, or `None` when there is none.
    pub fn link(&mut self, name: &str) -> Result<Option<LinkInfo>, NlError> {
        let mut msg = LinkMessage::default();
        msg.attributes.push(LinkAttribute::IfName(name.to_string()));
        self.get_link(msg, &|| format!("get link {name}"))
    }

    /// The link with index `index`, or `None` when there is none.
    pub fn link_by_index(&mut self, index: u32) -> Result<Option<LinkInfo>, NlError> {
        let mut msg = LinkMessage::default();
        msg.header.index = index;
        self.get_link(msg, &|| format!("get link #{index}"))
    }

    /// All links of the namespace.
    pub fn links(&mut self) -> Result<Vec<LinkInfo>, NlError> {
        let mut msg = LinkMessage::default();
        msg.attributes.push(skip_stats());
        self.dump(
            RouteNetlinkMessage::GetLink(msg),
            &|| "list links".to_string(),
            |kind, payload| {
                expect(kind, RTM_NEWLINK)
                    .and_then(|()| parse_link(payload))
                    .map(Some)
            },
        )
    }

    /// Creates the veth pair `name` / `peer` in this namespace, both ends up, with the given
    /// MACs (random when `None`) and MTU on both ends; `alias` describes `name`. Returns the index
    /// of `name`. An existing name gives [`NlError::is_exists`].
    ///
    /// Two round trips. The first creates the pair with `name` up, exclusively, and reads it
    /// back (see [`Netlink::create_link`]). The second sets the peer up and the alias: Linux
    /// 6.18 fails the whole create with `ENOTCONN` when the peer's part of the request asks for
    /// `IFF_UP` (`ip link add a type veth peer name b up` fails the same way), and it ignores
    /// `IFLA_IFALIAS` while creating a link. If the second step fails, the pair is deleted
    /// again, so the call creates everything or nothing.
    ///
    /// For a jail, [`Netlink::create_veth_in`] is much faster than this plus
    /// [`Netlink::move_to_netns`].
    pub fn create_veth(
        &mut self,
        name: &str,
        peer: &str,
        mac: Option<[u8; 6]>,
        peer_mac: Option<[u8; 6]>,
        mtu: Option<u32>,
        alias: Option<&str>,
    ) -> Result<u32, NlError> {
        let context = || format!("create veth {name} (peer {peer})");
        let msg = veth_message(name, peer, mac, peer_mac, mtu, None);
        let (index, peer_index) = self.create_link(msg, name, &context)?;
        let peer_index =
            peer_index.ok_or_else(|| NlError::protocol(&context, "new veth names no peer"))?;

        let set_alias = alias.map(|alias| {
            let mut msg = link_update(index);
            msg.attributes
                .push(LinkAttribute::IfAlias(alias.to_string()));
            (RouteNetlinkMessage::SetLink(msg), 0)
        });
        let mut peer_up = link_update(peer_index);
        set_flag_up(&mut peer_up.header, true);
        let peer_up = (RouteNetlinkMessage::SetLink(peer_up), NLM_F_ACK);
        let finish = set_alias.into_iter().chain([peer_up]);
        if let Err(e) = self.exchange(finish, Until::Ack, &context, &mut |_, _| Ok(())) {
            // Best effort: the error that matters is the one that stopped the creation.
            let _ = self.delete_link(index);
            return Err(e);
        }
        Ok(index)
    }

    /// Creates the veth pair `name` / `peer` with `peer` born inside the network namespace
    /// `peer_ns` (a jail's), and returns the index of `name` here and of `peer` in `peer_ns`.
    /// `name` is up; `peer` is down (see [`Netlink::create_veth`] for why it cannot be created
    /// up), for the jail's own socket to set up. MACs and MTU as in `create_veth`.
    ///
    /// This is the fast way to give a jail its end of a pair: one round trip, no move. Moving a
    /// link between namespaces ([`Netlink::move_to_netns`]) waits in the kernel for the network
    /// to quiesce (an RCU grace period: 15 to 20 ms per move on our test machines), while a link
    /// created in place costs nothing extra; and since the peer is born in the jail, it can get
    /// its final name (`vnet0`) at once, without a rename.
    pub fn create_veth_in(
        &mut self,
        name: &str,
        peer: &str,
        peer_ns: BorrowedFd<'_>,
        mac: Option<[u8; 6]>,
        peer_mac: Option<[u8; 6]>,
        mtu: Option<u32>,
    ) -> Result<(u32, u32), NlError> {
        let context = || format!("create veth {name} (peer {peer} in another netns)");
        let msg = veth_message(name, peer, mac, peer_mac, mtu, Some(peer_ns));
        let (index, peer_index) = self.create_link(msg, name, &context)?;
        // For a peer elsewhere, IFLA_LINK is its index in its own namespace.
        let peer_index =
            peer_index.ok_or_else(|| NlError::protocol(&context, "new veth names no peer"))?;
        Ok((index, peer_index))
    }

    /// Sets the description (`IFLA_IFALIAS`) of link `index`; an empty one removes it.
    pub fn set_alias(&mut self, index: u32, alias: &str) -> Result<(), NlError> {
        let mut msg = link_update(index);
        msg.attributes
            .push(LinkAttribute::IfAlias(alias.to_string()));
        self.change_link(msg, &|| format!("set alias of link #{index}"))
    }

    /// Creates the bridge `name`, up, and returns its index.
    pub fn create_bridge(&mut self, name: &str, mtu: Option<u32>) -> Result<u32, NlError> {
        let mut msg = link_template(name, None, mtu);
        set_flag_up(&mut msg.header, true);
        msg.attributes
            .push(LinkAttribute::LinkInfo(vec![NlLinkInfo::Kind(
                InfoKind::Bridge,
            )]));
        self.create_link(msg, name, &|| format!("create bridge {name}"))
            .map(|(index, _)| index)
    }

    /// Makes link `index` a port of `master` (a bridge); `master` 0 detaches it.
    pub fn set_master(&mut self, index: u32, master: u32) -> Result<(), NlError> {
        let mut msg = link_update(index);
        msg.attributes.push(LinkAttribute::Controller(master));
        self.change_link(msg, &|| format!("set master of link #{index} to #{master}"))
    }

    /// Sets link `index` administratively up or down.
    pub fn set_up(&mut self, index: u32, up: bool) -> Result<(), NlError> {
        let mut msg = link_update(index);
        set_flag_up(&mut msg.header, up);
        let state = if up { "up" } else { "down" };
        self.change_link(msg, &|| format!("set link #{index} {state}"))
    }

    /// Renames link `index` and, if `up`, sets it up, in one request: the kernel applies the
    /// name before the flags. Kernels before Linux 6.2 refuse to rename a link that is up
    /// (`EBUSY`); the link is then set down and renamed again (more requests, only then).
    pub fn rename(&mut self, index: u32, new_name: &str, up: bool) -> Result<(), NlError> {
        let context = || format!("rename link #{index} to {new_name}");
        let request = || {
            let mut msg = link_update(index);
            msg.attributes
                .push(LinkAttribute::IfName(new_name.to_string()));
            if up {
                set_flag_up(&mut msg.header, true);
            }
            msg
        };
        match self.change_link(request(), &context) {
            Err(NlError::Kernel {
                errno: libc::EBUSY, ..
            }) => {
                self.set_up(index, false)?;
                self.change_link(request(), &context)
            }
            result => result,
        }
    }

    /// Moves link `index` into the network namespace `ns`. The link keeps its name and, if it is
    /// free there, its index; look it up by name in `ns` to be sure. A moved link is down.
    /// Slow (the kernel waits for an RCU grace period, 15 to 20 ms here): to give a jail a new
    /// veth end, create it there with [`Netlink::create_veth_in`].
    pub fn move_to_netns(&mut self, index: u32, ns: BorrowedFd<'_>) -> Result<(), NlError> {
        let mut msg = link_update(index);
        msg.attributes.push(LinkAttribute::NetNsFd(ns.as_raw_fd()));
        self.change_link(msg, &|| format!("move link #{index} to another netns"))
    }

    /// Deletes link `index` (for a veth, both ends go). A missing link gives
    /// [`NlError::is_not_found`].
    pub fn delete_link(&mut self, index: u32) -> Result<(), NlError> {
        let msg = link_update(index);
        self.ack(RouteNetlinkMessage::DelLink(msg), 0, &|| {
            format!("delete link #{index}")
        })
    }

    // ---- addresses ---------------------------------------------------------------------

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
        self.ack(
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
        self.ack(RouteNetlinkMessage::DelAddress(msg), 0, &context)
    }

    /// The addresses of link `index`, or of all links.
    pub fn addresses(&mut self, index: Option<u32>) -> Result<Vec<AddressInfo>, NlError> {
        let mut msg = AddressMessage::default();
        msg.header.index = index.unwrap_or(0);
        self.dump(
            RouteNetlinkMessage::GetAddress(msg),
            &|| "list addresses".to_string(),
            |kind, payload| {
                expect(kind, RTM_NEWADDR)?;
                let address = parse_address(payload)?;
                Ok(address.filter(|a| index.is_none_or(|index| a.index == index)))
            },
        )
    }

    // ---- routes ------------------------------------------------------------------------

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
        self.ack(
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
        self.dump(
            RouteNetlinkMessage::GetRoute(msg),
            &|| "list routes".to_string(),
            |kind, payload| expect(kind, RTM_NEWROUTE).and_then(|()| parse_route(payload)),
        )
    }

    // ---- requests ----------------------------------------------------------------------

    /// Creates a link exclusively and returns its index and the index of the link it is tied
    /// to (`IFLA_LINK`: for a veth, the peer).
    ///
    /// The create and a get of the new link go out in one datagram: the kernel handles the
    /// messages of a datagram in order, so the get sees the new link, and the create asks for no
    /// ACK, so a successful create costs one `send` and one `recv` (the get's reply). If the
    /// create fails, its error comes first and is the one returned. (`NLM_F_ECHO` would bring
    /// the new link back as well, but only since Linux 6.3; the get works everywhere.)
    fn create_link(
        &mut self,
        msg: LinkMessage,
        name: &str,
        context: &dyn Fn() -> String,
    ) -> Result<(u32, Option<u32>), NlError> {
        let create = (RouteNetlinkMessage::NewLink(msg), NLM_F_CREATE | NLM_F_EXCL);
        let mut get = LinkMessage::default();
        get.attributes.push(LinkAttribute::IfName(name.to_string()));
        get.attributes.push(skip_stats());
        let get = (RouteNetlinkMessage::GetLink(get), 0);
        let mut created = None;
        self.exchange(
            [create, get],
            Until::Reply,
            context,
            &mut |kind, payload| {
                expect(kind, RTM_NEWLINK)?;
                created = Some((parse_link(payload)?.index, link_u32(payload, IFLA_LINK)?));
                Ok(())
            },
        )?;
        created.ok_or_else(|| NlError::protocol(context, "no reply for the new link"))
    }

    /// Sends an `RTM_SETLINK` change and waits for its ACK.
    fn change_link(
        &mut self,
        msg: LinkMessage,
        context: &dyn Fn() -> String,
    ) -> Result<(), NlError> {
        self.ack(RouteNetlinkMessage::SetLink(msg), 0, context)
    }

    /// Gets one link; a missing one is `None`.
    fn get_link(
        &mut self,
        mut msg: LinkMessage,
        context: &dyn Fn() -> String,
    ) -> Result<Option<LinkInfo>, NlError> {
        msg.attributes.push(skip_stats());
        let mut link = None;
        let get = (RouteNetlinkMessage::GetLink(msg), 0);
        let result = self.exchange([get], Until::Reply, context, &mut |kind, payload| {
            expect(kind, RTM_NEWLINK)?;
            link = Some(parse_link(payload)?);
            Ok(())
        });
        match result {
            Ok(_) => Ok(link),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Sends a change and waits for its ACK.
    fn ack(
        &mut self,
        msg: RouteNetlinkMessage,
        flags: u16,
        context: &dyn Fn() -> String,
    ) -> Result<(), NlError> {
        self.exchange(
            [(msg, NLM_F_ACK | flags)],
            Until::Ack,
            context,
            &mut |_, _| Ok(()),
        )
        .map(drop)
    }

    /// Dumps a table: `parse` turns each reply (message type, payload) into an item or skips
    /// it. A dump the kernel marks as interrupted by a concurrent change is read again.
    fn dump<T>(
        &mut self,
        msg: RouteNetlinkMessage,
        context: &dyn Fn() -> String,
        mut parse: impl FnMut(u16, &[u8]) -> Result<Option<T>, NlError>,
    ) -> Result<Vec<T>, NlError> {
        for _ in 0..DUMP_ATTEMPTS {
            let mut items = Vec::new();
            let request = (msg.clone(), NLM_F_DUMP);
            let interrupted =
                self.exchange([request], Until::Done, context, &mut |kind, payload| {
                    items.extend(parse(kind, payload)?);
                    Ok(())
                })?;
            if !interrupted {
                return Ok(items);
            }
        }
        Err(NlError::protocol(
            context,
            "dump kept changing while it was read",
        ))
    }

    /// Sends requests in one datagram and reads until the end of the last one (see [`Until`]),
    /// handing the other replies to the last request to `on_reply`. Returns whether a dump was
    /// interrupted. The requests before the last are sent without `NLM_F_ACK`: the kernel
    /// answers them only when they fail, and the first such failure is the result.
    ///
    /// A reply `on_reply` rejects does not stop the reading: the rest of the answer is drained,
    /// so that the socket is clean for the next request (the kernel refuses a new dump while
    /// one is unread), and the first rejection is returned. Replies with other sequence
    /// numbers, left over from an earlier request that failed half-way, are skipped.
    fn exchange(
        &mut self,
        requests: impl IntoIterator<Item = Request>,
        until: Until,
        context: &dyn Fn() -> String,
        on_reply: &mut OnReply<'_>,
    ) -> Result<bool, NlError> {
        let (first, last) = self.send(requests)?;
        let mut first_error = None;
        let mut interrupted = false;
        loop {
            let len = self.recv(context)?;
            let mut rest = &self.recv_buf[..len];
            while !rest.is_empty() {
                let packet =
                    NetlinkBuffer::new_checked(rest).map_err(|e| NlError::protocol(context, e))?;
                let (kind, flags, seq) = (
                    packet.message_type(),
                    packet.flags(),
                    packet.sequence_number(),
                );
                let payload = packet.payload();
                rest = &rest[align(packet.length() as usize).min(rest.len())..];
                if seq.wrapping_sub(first) > last.wrapping_sub(first) || kind == NLMSG_NOOP {
                    continue;
                }
                interrupted |= flags & NLM_F_DUMP_INTR != 0;
                let finished = match kind {
                    NLMSG_ERROR | NLMSG_DONE => {
                        let code = error_code(payload, kind, context)?;
                        if code != 0 {
                            first_error
                                .get_or_insert(kernel_error(code, payload, kind, flags, context));
                        }
                        seq == last
                    }
                    NLMSG_OVERRUN => {
                        return Err(NlError::protocol(context, "kernel reports overrun"))
                    }
                    _ if seq != last => false,
                    _ => {
                        if let Err(e) = on_reply(kind, payload) {
                            first_error.get_or_insert(e);
                        }
                        until == Until::Reply
                    }
                };
                if finished {
                    return first_error.map_or(Ok(interrupted), Err);
                }
            }
        }
    }

    /// Encodes requests with consecutive sequence numbers into one datagram, sends it, and
    /// returns the sequence numbers of the first and the last.
    fn send(&mut self, requests: impl IntoIterator<Item = Request>) -> Result<(u32, u32), NlError> {
        self.send_buf.clear();
        let first = self.seq.wrapping_add(1);
        for (msg, flags) in requests {
            self.seq = self.seq.wrapping_add(1);
            let mut header = NetlinkHeader::default();
            header.flags = NLM_F_REQUEST | flags;
            header.sequence_number = self.seq;
            let mut packet = NetlinkMessage::new(header, NetlinkPayload::InnerMessage(msg));
            packet.finalize();
            let start = self.send_buf.len();
            self.send_buf.resize(start + align(packet.buffer_len()), 0);
            packet.serialize(&mut self.send_buf[start..]);
        }
        let sent = retry_interrupted(|| self.socket.send(&self.send_buf, 0))?;
        if sent != self.send_buf.len() {
            return Err(NlError::Protocol(format!(
                "short send: {sent} of {} bytes",
                self.send_buf.len()
            )));
        }
        Ok((first, self.seq))
    }

    /// Receives one datagram into the reusable buffer and returns its length. A datagram larger
    /// than the buffer is lost; the buffer grows so that the caller can retry.
    fn recv(&mut self, context: &dyn Fn() -> String) -> Result<usize, NlError> {
        let capacity = self.recv_buf.len();
        let len = retry_interrupted(|| {
            let mut window: &mut [u8] = &mut self.recv_buf[..];
            self.socket.recv(&mut window, libc::MSG_TRUNC)
        })?;
        if len > capacity {
            self.recv_buf.resize(len, 0);
            return Err(NlError::protocol(
                context,
                format!("reply of {len} bytes truncated"),
            ));
        }
        Ok(len)
    }
}

/// Retries a socket call interrupted by a signal.
fn retry_interrupted<T>(mut call: impl FnMut() -> io::Result<T>) -> io::Result<T> {
    loop {
        match call() {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            result => return result,
        }
    }
}

/// Netlink messages are padded to four bytes.
fn align(len: usize) -> usize {
    (len + 3) & !3
}

fn expect(kind: u16, wanted: u16) -> Result<(), NlError> {
    if kind == wanted {
        Ok(())
    } else {
        Err(NlError::Protocol(format!(
            "unexpected message type {kind}, wanted {wanted}"
        )))
    }
}

/// The error code at the start of an `NLMSG_ERROR` (0 is the ACK) or `NLMSG_DONE` payload (the
/// kernel may send a `NLMSG_DONE` without one).
fn error_code(payload: &[u8], kind: u16, context: &dyn Fn() -> String) -> Result<i32, NlError> {
    match payload.first_chunk::<4>() {
        Some(bytes) => Ok(i32::from_ne_bytes(*bytes)),
        None if kind == NLMSG_DONE => Ok(0),
        None => Err(NlError::protocol(context, "short error message")),
    }
}

/// Turns a negative errno from the kernel into [`NlError::Kernel`], with the kernel's message
/// from the extended ACK appended to the context when there is one.
fn kernel_error(
    code: i32,
    payload: &[u8],
    kind: u16,
    flags: u16,
    context: &dyn Fn() -> String,
) -> NlError {
    let mut context = context();
    if let Some(message) = extack_message(payload, kind, flags) {
        context = format!("{context} ({message})");
    }
    NlError::Kernel {
        errno: code.saturating_neg(),
        context,
    }
}

/// The `NLMSGERR_ATTR_MSG` of an extended ACK: after the error code come the header of our
/// request (only the header, with `NETLINK_CAP_ACK`; in `NLMSG_DONE`, nothing), then attributes.
fn extack_message(payload: &[u8], kind: u16, flags: u16) -> Option<String> {
    if flags & NLM_F_ACK_TLVS == 0 {
        return None;
    }
    let request_len = match kind {
        NLMSG_ERROR if flags & NLM_F_CAPPED != 0 => 16,
        NLMSG_ERROR => u32::from_ne_bytes(payload.get(4..8)?.try_into().ok()?) as usize,
        _ => 0,
    };
    let attributes = payload.get(4 + align(request_len)..)?;
    NlasIterator::new(attributes)
        .map_while(Result::ok)
        .find(|nla| nla.kind() == NLMSGERR_ATTR_MSG)
        .and_then(|nla| parse_string(nla.value()).ok())
        .filter(|message| !message.is_empty())
}

// ---- request building -----------------------------------------------------------------

/// A message addressing an existing link by index.
fn link_update(index: u32) -> LinkMessage {
    let mut msg = LinkMessage::default();
    msg.header.index = index;
    msg
}

/// The name, MAC and MTU attributes of a link to create.
fn link_template(name: &str, mac: Option<[u8; 6]>, mtu: Option<u32>) -> LinkMessage {
    let mut msg = LinkMessage::default();
    msg.attributes.push(LinkAttribute::IfName(name.to_string()));
    if let Some(mac) = mac {
        msg.attributes.push(LinkAttribute::Address(mac.to_vec()));
    }
    if let Some(mtu) = mtu {
        msg.attributes.push(LinkAttribute::Mtu(mtu));
    }
    msg
}

/// The request creating veth `name`, up, and its `peer`, in this namespace or in `peer_ns`.
fn veth_message(
    name: &str,
    peer: &str,
    mac: Option<[u8; 6]>,
    peer_mac: Option<[u8; 6]>,
    mtu: Option<u32>,
    peer_ns: Option<BorrowedFd<'_>>,
) -> LinkMessage {
    let mut peer_msg = link_template(peer, peer_mac, mtu);
    if let Some(ns) = peer_ns {
        peer_msg
            .attributes
            .push(LinkAttribute::NetNsFd(ns.as_raw_fd()));
    }
    let mut msg = link_template(name, mac, mtu);
    set_flag_up(&mut msg.header, true);
    msg.attributes.push(LinkAttribute::LinkInfo(vec![
        NlLinkInfo::Kind(InfoKind::Veth),
        NlLinkInfo::Data(InfoData::Veth(InfoVeth::Peer(peer_msg))),
    ]));
    msg
}

/// Changes only `IFF_UP`, leaving the other flags as they are.
fn set_flag_up(header: &mut LinkHeader, up: bool) {
    header.change_mask |= LinkFlags::Up;
    header.flags.set(LinkFlags::Up, up);
}

/// Asks the kernel to leave the statistics out of link replies: we never read them, and they
/// are most of each message.
fn skip_stats() -> LinkAttribute {
    LinkAttribute::ExtMask(vec![LinkExtentMask::SkipStats])
}

fn family_of(addr: IpAddr) -> AddressFamily {
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

fn check_prefix(addr: IpAddr, prefix: u8) -> Result<(), NlError> {
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
fn address_message(
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

/// fe80::/10 (`Ipv6Addr::is_unicast_link_local` is newer than our minimum Rust).
fn is_link_local(ip: Ipv6Addr) -> bool {
    ip.segments()[0] & 0xffc0 == 0xfe80
}

/// The route message for [`Netlink::add_route`], after checking that the pieces fit together.
fn route_message(
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

// ---- reply parsing --------------------------------------------------------------------

fn decode_error(e: DecodeError) -> NlError {
    NlError::Protocol(e.to_string())
}

/// Reads the few attributes of a link message ioc uses, skipping the rest unparsed: a link
/// message is mostly configuration and statistics we never look at.
fn parse_link(payload: &[u8]) -> Result<LinkInfo, NlError> {
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
fn link_u32(payload: &[u8], kind: u16) -> Result<Option<u32>, NlError> {
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
fn parse_address(payload: &[u8]) -> Result<Option<AddressInfo>, NlError> {
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
fn parse_route(payload: &[u8]) -> Result<Option<RouteInfo>, NlError> {
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

#[cfg(test)]
mod tests {
    use super::super::netns::tests::{can_unshare, in_new_netns, new_netns};
    use super::super::netns::{current_netns, read_sysctl_in, sysctl_key, write_sysctl_in};
    use super::*;
    use std::os::fd::AsFd;

    const MAC_A: [u8; 6] = [0x02, 0x10, 0x00, 0x00, 0x00, 0x0a];
    const MAC_B: [u8; 6] = [0x02, 0x10, 0x00, 0x00, 0x00, 0x0b];

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    /// Runs `f` with a netlink socket in a private network namespace; `None` when skipped.
    fn with_private_netlink<T: Send>(
        test: &str,
        f: impl FnOnce(&mut Netlink) -> T + Send,
    ) -> Option<T> {
        if !can_unshare(test) {
            return None;
        }
        Some(in_new_netns(|| {
            f(&mut Netlink::open().expect("open netlink"))
        }))
    }

    /// A veth pair `name` / `name`p, both up, and the index of each end.
    fn veth(nl: &mut Netlink, name: &str) -> (u32, u32) {
        let peer = format!("{name}p");
        let index = nl.create_veth(name, &peer, None, None, None, None).unwrap();
        let peer_index = nl.link(&peer).unwrap().unwrap().index;
        (index, peer_index)
    }

    #[test]
    fn kernel_error_reads_as_one_line_with_context() {
        let e = NlError::Kernel {
            errno: libc::EEXIST,
            context: "create veth vnet0.5".to_string(),
        };
        assert_eq!(
            e.to_string(),
            "create veth vnet0.5: File exists (os error 17)"
        );
        assert!(e.is_exists() && !e.is_not_found());
        for errno in [libc::ENODEV, libc::ENOENT, libc::ESRCH, libc::EADDRNOTAVAIL] {
            assert!(NlError::Kernel {
                errno,
                context: String::new()
            }
            .is_not_found());
        }
        assert!(!NlError::Protocol("x".into()).is_not_found());
    }

    #[test]
    fn malformed_replies_are_errors_not_panics() {
        assert!(parse_link(&[0; 3]).is_err());
        let mut short_attribute = vec![0u8; IFINFOMSG_LEN];
        short_attribute.extend([8, 0, 3, 0, b'x']);
        assert!(parse_link(&short_attribute).is_err());
        assert!(parse_address(&[2, 24]).is_err());
        assert!(parse_route(&[10]).is_err());
        assert_eq!(
            extack_message(&[0xff; 6], NLMSG_ERROR, NLM_F_ACK_TLVS),
            None
        );
        assert!(error_code(&[1], NLMSG_ERROR, &|| String::new()).is_err());
        assert_eq!(error_code(&[], NLMSG_DONE, &|| String::new()).unwrap(), 0);
    }

    #[test]
    fn invalid_routes_are_refused_before_sending() {
        let refused = |dst, gw, oif| matches!(route_message(dst, gw, oif), Err(NlError::Io(ref e)) if e.kind() == io::ErrorKind::InvalidInput);
        assert!(refused(None, None, Some(1)));
        assert!(refused(
            Some((ip("10.0.0.0"), 8)),
            Some(ip("2001:db8::1")),
            None
        ));
        assert!(refused(None, Some(ip("fe80::1")), None));
        assert!(refused(Some((ip("10.0.0.0"), 33)), None, Some(1)));
        assert!(address_message(1, ip("2001:db8::1"), 129, true).is_err());
    }

    #[test]
    fn veth_is_created_up_with_macs_mtu_and_alias() {
        with_private_netlink("veth_is_created_up_with_macs_mtu_and_alias", |nl| {
            let index = nl
                .create_veth(
                    "vnet0.5",
                    "vnet0.5j",
                    Some(MAC_A),
                    Some(MAC_B),
                    Some(1400),
                    Some("ioc jail-a"),
                )
                .unwrap();
            let host = nl.link("vnet0.5").unwrap().unwrap();
            assert_eq!(host.index, index);
            assert_eq!(host.mac, Some(MAC_A));
            assert_eq!(host.mtu, 1400);
            assert!(host.up);
            assert_eq!(host.kind.as_deref(), Some("veth"));
            assert_eq!(host.alias.as_deref(), Some("ioc jail-a"));
            assert_eq!(host.master, None);

            let peer = nl.link("vnet0.5j").unwrap().unwrap();
            assert_eq!((peer.mac, peer.mtu, peer.up), (Some(MAC_B), 1400, true));
            assert_eq!(peer.alias, None);
            assert_eq!(nl.link_by_index(index).unwrap(), Some(host));

            // A per-link sysctl of a name with a dot, in this namespace only.
            let ns = current_netns().unwrap();
            let key = sysctl_key("net.ipv6.conf.vnet0.5.accept_ra");
            write_sysctl_in(ns.as_fd(), &key, "0").unwrap();
            assert_eq!(read_sysctl_in(ns.as_fd(), &key).unwrap(), "0");
            write_sysctl_in(ns.as_fd(), &key, "2").unwrap();
            assert_eq!(read_sysctl_in(ns.as_fd(), &key).unwrap(), "2");
        });
    }

    #[test]
    fn bridge_takes_a_port() {
        with_private_netlink("bridge_takes_a_port", |nl| {
            let bridge = nl.create_bridge("bridge0", Some(1450)).unwrap();
            let link = nl.link_by_index(bridge).unwrap().unwrap();
            assert_eq!(
                (link.name.as_str(), link.mtu, link.up),
                ("bridge0", 1450, true)
            );
            assert_eq!(link.kind.as_deref(), Some("bridge"));

            let (port, _) = veth(nl, "vnet1");
            nl.set_master(port, bridge).unwrap();
            assert_eq!(
                nl.link_by_index(port).unwrap().unwrap().master,
                Some(bridge)
            );
            nl.set_master(port, 0).unwrap();
            assert_eq!(nl.link_by_index(port).unwrap().unwrap().master, None);
        });
    }

    #[test]
    fn rename_and_up_in_one_request_also_when_up() {
        with_private_netlink("rename_and_up_in_one_request_also_when_up", |nl| {
            let (_, peer) = veth(nl, "tmp0");
            // Created up: rename has to take it down first.
            nl.rename(peer, "vnet0", true).unwrap();
            let link = nl.link_by_index(peer).unwrap().unwrap();
            assert_eq!((link.name.as_str(), link.up), ("vnet0", true));
            assert_eq!(nl.link("tmp0p").unwrap(), None);

            nl.set_up(peer, false).unwrap();
            assert!(!nl.link_by_index(peer).unwrap().unwrap().up);
            nl.rename(peer, "eth0", false).unwrap();
            let link = nl.link_by_index(peer).unwrap().unwrap();
            assert_eq!((link.name.as_str(), link.up), ("eth0", false));
            nl.rename(peer, "eth1", true).unwrap();
            let link = nl.link_by_index(peer).unwrap().unwrap();
            assert_eq!((link.name.as_str(), link.up), ("eth1", true));
        });
    }

    #[test]
    fn peer_moves_into_another_namespace() {
        if !can_unshare("peer_moves_into_another_namespace") {
            return;
        }
        let jail = new_netns();
        in_new_netns(|| {
            let own = current_netns().unwrap();
            let mut nl = Netlink::open().unwrap();
            let (host, peer) = veth(&mut nl, "vnet2");
            nl.move_to_netns(peer, jail.as_fd()).unwrap();
            assert_eq!(nl.link("vnet2p").unwrap(), None);

            let mut in_jail = Netlink::open_in(jail.as_fd()).unwrap();
            // open_in came back to this thread's own namespace.
            let same = |a: &std::os::fd::OwnedFd, b: &std::os::fd::OwnedFd| {
                let stat =
                    |fd: &std::os::fd::OwnedFd| nix::sys::stat::fstat(fd.as_fd()).unwrap().st_ino;
                stat(a) == stat(b)
            };
            assert!(same(&own, &current_netns().unwrap()));
            let moved = in_jail.link("vnet2p").unwrap().expect("peer in the jail");
            assert!(!moved.up, "a moved link is down");
            in_jail.rename(moved.index, "vnet0", true).unwrap();
            let link = in_jail.link("vnet0").unwrap().unwrap();
            assert!(link.up);
            assert!(in_jail.links().unwrap().iter().all(|l| l.name != "vnet2"));
            assert!(nl.link_by_index(host).unwrap().is_some());

            // Deleting the host end takes the jail end with it.
            nl.delete_link(host).unwrap();
            assert_eq!(in_jail.link("vnet0").unwrap(), None);
        });
    }

    #[test]
    fn peer_is_born_in_another_namespace() {
        if !can_unshare("peer_is_born_in_another_namespace") {
            return;
        }
        let jail = new_netns();
        in_new_netns(|| {
            let mut nl = Netlink::open().unwrap();
            let (host, peer) = nl
                .create_veth_in(
                    "vnet6",
                    "vnet0",
                    jail.as_fd(),
                    Some(MAC_A),
                    Some(MAC_B),
                    Some(1280),
                )
                .unwrap();
            nl.set_alias(host, "ioc jail-b").unwrap();
            let link = nl.link_by_index(host).unwrap().unwrap();
            assert_eq!(
                (link.name.as_str(), link.up, link.mtu),
                ("vnet6", true, 1280)
            );
            assert_eq!(link.alias.as_deref(), Some("ioc jail-b"));
            assert_eq!(nl.link("vnet0").unwrap(), None);

            let mut in_jail = Netlink::open_in(jail.as_fd()).unwrap();
            let born = in_jail.link("vnet0").unwrap().expect("peer in the jail");
            assert_eq!(born.index, peer);
            assert_eq!((born.mac, born.mtu, born.up), (Some(MAC_B), 1280, false));
            in_jail.set_up(peer, true).unwrap();
            assert!(in_jail.link_by_index(peer).unwrap().unwrap().up);

            // The same name again, in either namespace, is taken.
            let again = nl.create_veth_in("vnet7", "vnet0", jail.as_fd(), None, None, None);
            assert!(again.unwrap_err().is_exists());
            assert_eq!(nl.link("vnet7").unwrap(), None);

            nl.delete_link(host).unwrap();
            assert_eq!(in_jail.link("vnet0").unwrap(), None);
        });
    }

    #[test]
    fn addresses_are_added_listed_and_deleted() {
        with_private_netlink("addresses_are_added_listed_and_deleted", |nl| {
            let (index, other) = veth(nl, "vnet3");
            let v4 = ip("10.23.42.2");
            let v6 = ip("2001:db8:42::2");
            nl.add_address(index, v4, 24).unwrap();
            nl.add_address(index, v6, 64).unwrap();
            nl.add_address(other, ip("10.23.43.2"), 32).unwrap();
            assert!(nl.add_address(index, v4, 24).unwrap_err().is_exists());

            let listed = nl.addresses(Some(index)).unwrap();
            assert!(listed.iter().all(|a| a.index == index));
            let find = |addr| listed.iter().find(|a| a.addr == addr).cloned();
            let a4 = find(v4).expect("IPv4 address listed");
            assert_eq!(
                (a4.prefix, a4.broadcast),
                (24, Some("10.23.42.255".parse().unwrap()))
            );
            assert_eq!(a4.dad, Dad::Done);
            let a6 = find(v6).expect("IPv6 address listed");
            assert_eq!((a6.prefix, a6.broadcast), (64, None));
            // The link is down, so detection has not even begun.
            assert_eq!(a6.dad, Dad::Tentative);
            // Optimistic only where the link allows it (see LINUX_JAIL_NET_SYSCTLS).
            let v6b = ip("2001:db8:43::2");
            std::fs::write("/proc/sys/net/ipv6/conf/vnet3/optimistic_dad", "1").unwrap();
            nl.add_optimistic_address(index, v6b, 64).unwrap();
            let v6c = ip("2001:db8:44::2");
            nl.add_optimistic_address(other, v6c, 64).unwrap();
            let dad_of = |nl: &mut Netlink, addr| {
                let all = nl.addresses(None).unwrap();
                all.iter().find(|a| a.addr == addr).unwrap().dad
            };
            assert_eq!(dad_of(nl, v6b), Dad::Optimistic);
            assert!(Dad::Optimistic.usable());
            assert_eq!(dad_of(nl, v6c), Dad::Tentative);
            assert!(!Dad::Tentative.usable());

            let all = nl.addresses(None).unwrap();
            let host_route = all
                .iter()
                .find(|a| a.index == other)
                .expect("other link's address");
            assert_eq!((host_route.prefix, host_route.broadcast), (32, None));

            nl.delete_address(index, v4, 24).unwrap();
            nl.delete_address(index, v6, 64).unwrap();
            assert!(nl
                .addresses(Some(index))
                .unwrap()
                .iter()
                .all(|a| a.addr != v4 && a.addr != v6));
            assert!(nl.delete_address(index, v4, 24).unwrap_err().is_not_found());
            assert!(nl.delete_address(index, v6, 64).unwrap_err().is_not_found());
        });
    }

    #[test]
    fn default_and_interface_routes_both_families() {
        with_private_netlink("default_and_interface_routes_both_families", |nl| {
            let (index, _) = veth(nl, "vnet4");
            nl.add_address(index, ip("10.23.42.2"), 24).unwrap();

            nl.add_route(None, Some(ip("10.23.42.1")), None).unwrap();
            nl.add_route(Some((ip("192.168.7.0"), 24)), None, Some(index))
                .unwrap();
            let routes = nl.routes(false).unwrap();
            let default = RouteInfo {
                destination: None,
                gateway: Some(ip("10.23.42.1")),
                oif: Some(index),
            };
            assert!(routes.contains(&default), "{routes:?}");
            let on_link = RouteInfo {
                destination: Some((ip("192.168.7.0"), 24)),
                gateway: None,
                oif: Some(index),
            };
            assert!(routes.contains(&on_link), "{routes:?}");
            assert!(nl
                .add_route(None, Some(ip("10.23.42.1")), None)
                .unwrap_err()
                .is_exists());

            nl.add_route(Some((ip("2001:db8:7::"), 64)), None, Some(index))
                .unwrap();
            nl.add_route(None, Some(ip("fe80::1")), Some(index))
                .unwrap();
            let routes = nl.routes(true).unwrap();
            let default6 = RouteInfo {
                destination: None,
                gateway: Some(ip("fe80::1")),
                oif: Some(index),
            };
            assert!(routes.contains(&default6), "{routes:?}");
            let on_link6 = RouteInfo {
                destination: Some((ip("2001:db8:7::"), 64)),
                gateway: None,
                oif: Some(index),
            };
            assert!(routes.contains(&on_link6), "{routes:?}");
            assert!(routes.iter().all(|r| r.destination.is_none_or_v6()));
        });
    }

    trait V6 {
        fn is_none_or_v6(&self) -> bool;
    }
    impl V6 for Option<(IpAddr, u8)> {
        fn is_none_or_v6(&self) -> bool {
            self.is_none_or(|(addr, _)| addr.is_ipv6())
        }
    }

    #[test]
    fn missing_and_existing_objects_are_recognised() {
        with_private_netlink("missing_and_existing_objects_are_recognised", |nl| {
            assert_eq!(nl.link("nosuch0").unwrap(), None);
            assert_eq!(nl.link_by_index(9999).unwrap(), None);
            let missing = nl.delete_link(9999).unwrap_err();
            assert!(missing.is_not_found(), "{missing}");
            assert_eq!(
                missing.to_string(),
                "delete link #9999: No such device (os error 19)"
            );

            veth(nl, "vnet5");
            let taken = nl
                .create_veth("vnet5", "other0", None, None, None, None)
                .unwrap_err();
            assert!(taken.is_exists(), "{taken}");
            assert!(
                taken
                    .to_string()
                    .starts_with("create veth vnet5 (peer other0)"),
                "{taken}"
            );
            let taken = nl.create_bridge("vnet5p", None).unwrap_err();
            assert!(taken.is_exists(), "{taken}");

            // The kernel's own explanation comes along, and the socket stays usable after errors.
            let refused = nl.create_bridge("name-much-too-long", None).unwrap_err();
            assert!(matches!(refused, NlError::Kernel { .. }), "{refused}");
            eprintln!("kernel says: {refused}");
            assert!(nl.link("vnet5").unwrap().is_some());
        });
    }

    #[test]
    fn dump_spanning_many_datagrams() {
        with_private_netlink("dump_spanning_many_datagrams", |nl| {
            for i in 0..60 {
                nl.create_bridge(&format!("br{i}"), None).unwrap();
            }
            let links = nl.links().unwrap();
            assert_eq!(links.len(), 61, "lo and 60 bridges");
            assert!(links.iter().any(|l| l.name == "lo" && l.kind.is_none()));
        });
    }
}
