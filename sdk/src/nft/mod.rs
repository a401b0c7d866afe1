//! A typed nftables IR: the objects a firewall backend commits with [`HostOp::NftCommit`].
//!
//! Why not nft text: `libnftables` dumps the whole ruleset before each change, which makes a
//! per-port table cost grow with the number of jails. A batch of these commands goes to the
//! kernel as one nfnetlink transaction (all or nothing), and the plan host shows it as the
//! equivalent `nft -f` text.
//!
//! Rules are low-level expressions with one register: a *load* ([`NftExpr::Payload`],
//! [`NftExpr::Meta`]) puts a value in it, the next expressions test it ([`NftExpr::Cmp`],
//! [`NftExpr::Range`], [`NftExpr::Lookup`]), mask it ([`NftExpr::Bitwise`]) or use it as a key
//! ([`NftExpr::Dynset`]); statements ([`NftExpr::Counter`], [`NftExpr::Log`],
//! [`NftExpr::Queue`], [`NftExpr::Verdict`], [`NftExpr::Nat`], [`NftExpr::Masq`]) end the
//! rule; [`NftExpr::Fib`] is a load (a route lookup). Values are raw bytes in the order
//! the kernel compares them: network order for packet fields, host order for the numeric meta
//! keys ([`NftMetaKey`] says which). [`NftRule`] builds readable rules.
//!
//! A lookup or dynset on a packet field renders as the named nft field (`ip saddr @set`),
//! because nft refuses raw payloads against typed sets; the rendered text is equivalent when
//! the rule tests `meta protocol` before (nft then adds no dependency of its own).
//!
//! [`HostOp::NftCommit`]: crate::HostOp::NftCommit

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use abi_stable::std_types::{ROption, RString, RVec};
use abi_stable::StableAbi;
use serde::{Deserialize, Serialize};

use crate::ops::NftFamily;
use crate::types::Mac;

mod build;
mod map;
mod nat;

pub use build::{NftField, NftRule};
pub use map::{NftKeyPart, NftMapElement};
pub use nat::{NftChainType, NftFibFlags, NftFibResult, NftNatKind, NftPortRange};

/// Commands applied in order as one transaction: all of them or none.
#[repr(C)]
#[derive(StableAbi, Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NftBatch {
    /// The commands, in order.
    pub commands: RVec<NftCommand>,
}

/// One change to the ruleset.
#[repr(u8)]
#[derive(StableAbi, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NftCommand {
    /// Create a table (an existing one is kept, with its contents).
    AddTable {
        /// The table's family.
        family: NftFamily,
        /// The table's name.
        name: RString,
    },
    /// Create a table that does not exist yet: the whole batch fails when it does (`create
    /// table`). Cheaper than [`NftCommand::DeleteTable`] then [`NftCommand::AddTable`] for a
    /// table that is usually absent: a delete makes the kernel free the old objects after an
    /// RCU grace period, which the closing netlink socket waits for (10-20 ms).
    CreateTable {
        /// The table's family.
        family: NftFamily,
        /// The table's name.
        name: RString,
    },
    /// Delete a table with everything in it; an absent table is not an error.
    DeleteTable {
        /// The table's family.
        family: NftFamily,
        /// The table's name.
        name: RString,
    },
    /// Create a chain; with a hook it is a base chain (of the hook's [`NftChainType`]).
    AddChain {
        /// The table's family.
        family: NftFamily,
        /// The table holding the chain.
        table: RString,
        /// The chain's name.
        name: RString,
        /// Where packets enter it; `None` for a chain reached only by jump/goto.
        hook: ROption<NftHook>,
    },
    /// Create a named set, with initial elements.
    AddSet {
        /// The table's family.
        family: NftFamily,
        /// The table holding the set.
        table: RString,
        /// The set's name.
        name: RString,
        /// What its elements are.
        key: NftKeyType,
        /// Its flags.
        flags: NftSetFlags,
        /// Elements it starts with.
        elements: RVec<NftElement>,
    },
    /// Add elements to a set (an existing element is kept).
    AddElements {
        /// The table's family.
        family: NftFamily,
        /// The table holding the set.
        table: RString,
        /// The set's name.
        set: RString,
        /// The elements to add.
        elements: RVec<NftElement>,
    },
    /// Remove elements from a set; an absent (or expired) element is not an error.
    DeleteElements {
        /// The table's family.
        family: NftFamily,
        /// The table holding the set.
        table: RString,
        /// The set's name.
        set: RString,
        /// The elements to remove (their timeouts are ignored).
        elements: RVec<NftElement>,
    },
    /// Append a rule to a chain.
    AddRule {
        /// The table's family.
        family: NftFamily,
        /// The table holding the chain.
        table: RString,
        /// The chain's name.
        chain: RString,
        /// The rule's expressions, in order.
        exprs: RVec<NftExpr>,
        /// Shown by `nft list` after the rule.
        comment: ROption<RString>,
    },
    /// Create a map (a set whose elements carry data); an existing map of the same types is
    /// kept, with its elements.
    AddMap {
        /// The table's family.
        family: NftFamily,
        /// The table holding the map.
        table: RString,
        /// The map's name.
        name: RString,
        /// What its keys are.
        key: NftKeyType,
        /// What its keys map to.
        data: NftKeyType,
    },
    /// Add elements to a map: an element with the same key and data is kept, one whose key
    /// maps to other data fails the batch.
    AddMapElements {
        /// The table's family.
        family: NftFamily,
        /// The table holding the map.
        table: RString,
        /// The map's name.
        map: RString,
        /// The elements to add.
        elements: RVec<NftMapElement>,
    },
    /// Remove elements from a map; an absent one is not an error, one whose key maps to other
    /// data (someone else's) fails the batch.
    DeleteMapElements {
        /// The table's family.
        family: NftFamily,
        /// The table holding the map.
        table: RString,
        /// The map's name.
        map: RString,
        /// The elements to remove.
        elements: RVec<NftMapElement>,
    },
}

/// Where a base chain is attached.
#[repr(C)]
#[derive(StableAbi, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NftHook {
    /// The hook.
    pub kind: NftHookKind,
    /// The device, for the `netdev` hooks (`ingress`, `egress`).
    pub device: ROption<RString>,
    /// The order among chains on the same hook; lower runs first (`filter` is 0).
    pub priority: i32,
    /// What happens to packets no rule decided on.
    pub policy: NftPolicy,
    /// What the chain may do: filter (the default) or NAT (needed by [`NftExpr::Nat`] and
    /// [`NftExpr::Masq`]; the kernel refuses them elsewhere).
    #[serde(default)]
    pub chain_type: NftChainType,
}

/// A netfilter hook.
#[repr(u8)]
#[derive(StableAbi, Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NftHookKind {
    /// Frames a device receives (`netdev`).
    Ingress,
    /// Frames a device sends (`netdev`).
    Egress,
    /// Before routing/forwarding.
    Prerouting,
    /// Toward the local stack.
    Input,
    /// Forwarded.
    Forward,
    /// From the local stack.
    Output,
    /// After routing/forwarding.
    Postrouting,
}

impl NftHookKind {
    /// The hook as nft writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            NftHookKind::Ingress => "ingress",
            NftHookKind::Egress => "egress",
            NftHookKind::Prerouting => "prerouting",
            NftHookKind::Input => "input",
            NftHookKind::Forward => "forward",
            NftHookKind::Output => "output",
            NftHookKind::Postrouting => "postrouting",
        }
    }
}

/// A base chain's policy.
#[repr(u8)]
#[derive(StableAbi, Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NftPolicy {
    /// Let undecided packets pass.
    Accept,
    /// Drop undecided packets.
    Drop,
}

/// The type of a set's elements (nft's `type`).
#[repr(u8)]
#[derive(StableAbi, Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NftKeyType {
    /// IPv4 addresses (4 bytes).
    Ipv4Addr,
    /// IPv6 addresses (16 bytes).
    Ipv6Addr,
    /// MAC addresses (6 bytes).
    EtherAddr,
    /// Interface names (16 bytes, zero-padded).
    Ifname,
    /// TCP/UDP ports (2 bytes, network order).
    InetService,
    /// An IPv4 address then an interface name (`ipv4_addr . ifname`, 20 bytes): what a
    /// [`NftExpr::Concat`] of `ip saddr` and `meta oifname` loads.
    Ipv4AddrIfname,
    /// An IPv4 address then a port (`ipv4_addr . inet_service`, 8 bytes: each part padded to
    /// 4): the data of a NAT map (see [`NftExpr::NatMap`]).
    Ipv4AddrInetService,
}

impl NftKeyType {
    /// The type as nft writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            NftKeyType::Ipv4Addr => "ipv4_addr",
            NftKeyType::Ipv6Addr => "ipv6_addr",
            NftKeyType::EtherAddr => "ether_addr",
            NftKeyType::Ifname => "ifname",
            NftKeyType::InetService => "inet_service",
            NftKeyType::Ipv4AddrIfname => "ipv4_addr . ifname",
            NftKeyType::Ipv4AddrInetService => "ipv4_addr . inet_service",
        }
    }

    /// The length of a key in bytes.
    pub fn key_len(self) -> usize {
        match self {
            NftKeyType::Ipv4Addr => 4,
            NftKeyType::Ipv6Addr => 16,
            NftKeyType::EtherAddr => 6,
            NftKeyType::Ifname => 16,
            NftKeyType::InetService => 2,
            NftKeyType::Ipv4AddrIfname => 20,
            NftKeyType::Ipv4AddrInetService => 8,
        }
    }
}

/// A set's flags.
#[repr(C)]
#[derive(StableAbi, Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NftSetFlags {
    /// Elements may expire (`timeout`).
    pub timeout: bool,
    /// Elements are ranges (`interval`): for sets filled by nft itself; this IR has no way
    /// to give a range element yet.
    pub interval: bool,
    /// Rules may add or update elements (`dynamic`), needed by [`NftExpr::Dynset`].
    pub dynamic: bool,
}

/// An element of a set.
#[repr(C)]
#[derive(StableAbi, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NftElement {
    /// The key, as the set's [`NftKeyType`] lays it out.
    pub key: RVec<u8>,
    /// When it expires, in milliseconds from now; needs the set's `timeout` flag.
    pub timeout_ms: ROption<u64>,
}

impl NftElement {
    /// An element with these key bytes and no timeout.
    pub fn raw(key: &[u8]) -> NftElement {
        NftElement {
            key: key.to_vec().into(),
            timeout_ms: ROption::RNone,
        }
    }

    /// An IPv4 or IPv6 address.
    pub fn ip(address: IpAddr) -> NftElement {
        match address {
            IpAddr::V4(a) => Self::ipv4(a),
            IpAddr::V6(a) => Self::ipv6(a),
        }
    }

    /// An IPv4 address.
    pub fn ipv4(address: Ipv4Addr) -> NftElement {
        Self::raw(&address.octets())
    }

    /// An IPv6 address.
    pub fn ipv6(address: Ipv6Addr) -> NftElement {
        Self::raw(&address.octets())
    }

    /// A MAC address.
    pub fn ether(mac: Mac) -> NftElement {
        Self::raw(&mac.0)
    }

    /// An interface name (at most 15 bytes; longer ones are cut).
    pub fn ifname(name: &str) -> NftElement {
        Self::raw(&ifname_bytes(name))
    }

    /// A TCP/UDP port.
    pub fn port(port: u16) -> NftElement {
        Self::raw(&port.to_be_bytes())
    }

    /// The same element, expiring after `ms` milliseconds.
    pub fn with_timeout_ms(mut self, ms: u64) -> NftElement {
        self.timeout_ms = ROption::RSome(ms);
        self
    }
}

/// An interface name as the kernel compares it: 16 bytes, zero-padded, at most 15 used.
pub fn ifname_bytes(name: &str) -> [u8; 16] {
    let mut out = [0u8; 16];
    let n = name.len().min(15);
    out[..n].copy_from_slice(&name.as_bytes()[..n]);
    out
}

/// Which header a payload offset counts from.
#[repr(u8)]
#[derive(StableAbi, Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NftPayloadBase {
    /// The link-layer (Ethernet) header (`@ll`).
    Ll,
    /// The network header: IPv4, IPv6 or ARP (`@nh`).
    Nh,
    /// The transport header: TCP, UDP, ICMPv6... (`@th`).
    Th,
}

impl NftPayloadBase {
    /// The base as nft's raw payload syntax writes it (`ll`, `nh`, `th`).
    pub fn as_str(self) -> &'static str {
        match self {
            NftPayloadBase::Ll => "ll",
            NftPayloadBase::Nh => "nh",
            NftPayloadBase::Th => "th",
        }
    }
}

/// Packet metadata a rule can load.
#[repr(u8)]
#[derive(StableAbi, Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NftMetaKey {
    /// The EtherType of the frame's payload (2 bytes, network order, e.g. `[0x08, 0x00]`).
    Protocol,
    /// The netfilter family (1 byte: 2 IPv4, 10 IPv6); `inet` tables only.
    Nfproto,
    /// The transport protocol after the IPv6 extension headers (1 byte: 6, 17, 58...).
    L4proto,
    /// The input interface's name (16 bytes, zero-padded; see [`ifname_bytes`]).
    Iifname,
    /// The output interface's name (16 bytes, zero-padded).
    Oifname,
    /// The packet type (1 byte: 0 host, 1 broadcast, 2 multicast, 3 other host).
    Pkttype,
}

impl NftMetaKey {
    /// The key as nft writes it after `meta`.
    pub fn as_str(self) -> &'static str {
        match self {
            NftMetaKey::Protocol => "protocol",
            NftMetaKey::Nfproto => "nfproto",
            NftMetaKey::L4proto => "l4proto",
            NftMetaKey::Iifname => "iifname",
            NftMetaKey::Oifname => "oifname",
            NftMetaKey::Pkttype => "pkttype",
        }
    }

    /// How many bytes the key loads.
    pub fn key_len(self) -> usize {
        match self {
            NftMetaKey::Protocol => 2,
            NftMetaKey::Nfproto | NftMetaKey::L4proto | NftMetaKey::Pkttype => 1,
            NftMetaKey::Iifname | NftMetaKey::Oifname => 16,
        }
    }
}

/// How [`NftExpr::Cmp`] compares the register with its data.
#[repr(u8)]
#[derive(StableAbi, Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NftCmpOp {
    /// Equal.
    Eq,
    /// Not equal.
    Neq,
    /// Less than (as a big-endian number).
    Lt,
    /// Less than or equal.
    Lte,
    /// Greater than.
    Gt,
    /// Greater than or equal.
    Gte,
}

impl NftCmpOp {
    /// The operator as nft writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            NftCmpOp::Eq => "==",
            NftCmpOp::Neq => "!=",
            NftCmpOp::Lt => "<",
            NftCmpOp::Lte => "<=",
            NftCmpOp::Gt => ">",
            NftCmpOp::Gte => ">=",
        }
    }
}

/// What a rule decides.
#[repr(u8)]
#[derive(StableAbi, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NftVerdict {
    /// Let the packet pass (this hook).
    Accept,
    /// Drop the packet.
    Drop,
    /// Go back to the calling chain (or apply the base chain's policy).
    Return,
    /// Continue in `chain`, then come back.
    Jump {
        /// The chain to jump to, in the same table.
        chain: RString,
    },
    /// Continue in `chain` without coming back.
    Goto {
        /// The chain to go to, in the same table.
        chain: RString,
    },
}

/// What [`NftExpr::Dynset`] does with the key in the register.
#[repr(u8)]
#[derive(StableAbi, Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NftDynsetOp {
    /// Add it unless present.
    Add,
    /// Add it or refresh its timeout.
    Update,
    /// Remove it.
    Delete,
}

impl NftDynsetOp {
    /// The statement as nft writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            NftDynsetOp::Add => "add",
            NftDynsetOp::Update => "update",
            NftDynsetOp::Delete => "delete",
        }
    }
}

/// One expression of a rule (see the module documentation for the register model).
#[repr(u8)]
#[derive(StableAbi, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NftExpr {
    /// Load `len` bytes at `offset` bytes from the start of `base` (`@base,bits,bits`).
    Payload {
        /// The header the offset counts from.
        base: NftPayloadBase,
        /// The offset in bytes.
        offset: u32,
        /// How many bytes (1 to 16).
        len: u32,
    },
    /// Load packet metadata.
    Meta {
        /// Which.
        key: NftMetaKey,
    },
    /// Compare the register with `data` (as long as the load); a mismatch ends the rule.
    Cmp {
        /// The comparison.
        op: NftCmpOp,
        /// The value.
        data: RVec<u8>,
    },
    /// Is the register within `from..=to` (or, with `invert`, outside)?
    Range {
        /// Match outside the range instead.
        invert: bool,
        /// The lowest value.
        from: RVec<u8>,
        /// The highest value.
        to: RVec<u8>,
    },
    /// Replace the register with `(register & mask) ^ xor` (both as long as the load).
    Bitwise {
        /// The mask.
        mask: RVec<u8>,
        /// The value xored after masking (zeros for a plain mask).
        xor: RVec<u8>,
    },
    /// Is the register in the named set of the same table (or, with `invert`, not)?
    Lookup {
        /// The set's name.
        set: RString,
        /// Match when absent instead.
        invert: bool,
    },
    /// Decide: accept, drop, return, jump or goto.
    Verdict {
        /// The verdict.
        verdict: NftVerdict,
    },
    /// Add, update or remove the register's value in a set from the packet path.
    Dynset {
        /// What to do.
        op: NftDynsetOp,
        /// The set (with the `dynamic` flag).
        set: RString,
        /// The element's timeout in milliseconds (needs the set's `timeout` flag).
        timeout_ms: ROption<u64>,
    },
    /// Hand the packet to a userspace program on netfilter queue `num` (a verdict: the
    /// program decides). Without `bypass` the packet is dropped when nobody listens.
    Queue {
        /// The first queue.
        num: u16,
        /// How many queues from `num` (1 for one); with more, packets spread over them.
        total: u16,
        /// Accept the packet when no program listens (fail open).
        bypass: bool,
        /// Spread by CPU instead of by flow (needs `total > 1`).
        fanout: bool,
    },
    /// Count packets and bytes.
    Counter,
    /// Look the packet up in the routing table and load the result (4 bytes, see
    /// [`NftFibResult`]): `fib daddr type local` is a [`NftExpr::Cmp`] with
    /// [`NftFibResult::LOCAL`] (host order) after it.
    Fib {
        /// What to load.
        result: NftFibResult,
        /// Which address, keyed by what.
        flags: NftFibFlags,
    },
    /// Translate the connection's source or destination to `addr` (and `ports`): a verdict
    /// for the first packet, in a chain of type [`NftChainType::Nat`]. The values travel with
    /// the expression; the encoder loads them into registers of their own right before it,
    /// so the single register of the tests is untouched.
    Nat {
        /// Source or destination.
        kind: NftNatKind,
        /// The new address: 4 bytes (IPv4) or 16 (IPv6), network order.
        addr: RVec<u8>,
        /// The new port(s); `None` keeps the packet's. nft wants the rule to have tested the
        /// transport protocol (`meta l4proto`) before.
        ports: ROption<NftPortRange>,
    },
    /// Source NAT to the address of the interface the packet leaves by (`masquerade`), in a
    /// postrouting chain of type [`NftChainType::Nat`].
    Masq {
        /// The source ports to pick from; `None` lets the kernel choose.
        ports: ROption<NftPortRange>,
    },
    /// Log the packet: to the kernel log, or, with `group`, as a copy to the nfnetlink_log
    /// group a userspace listener bound (`log group N`), which is how the host's address
    /// learner sees DHCP replies and router advertisements without holding them.
    Log {
        /// The prefix of the log line.
        prefix: ROption<RString>,
        /// The nfnetlink_log group to copy the packet to, instead of the kernel log.
        group: ROption<u16>,
    },
    /// Load several fields one after another (nft's concatenation `a . b`), each starting at
    /// a 4-byte boundary of the register: the key of a set of a concatenated
    /// [`NftKeyType`], for a [`NftExpr::Lookup`].
    Concat {
        /// The fields, in order.
        parts: RVec<NftKeyPart>,
    },
    /// Look the register up in `map` (of [`NftKeyType::Ipv4AddrInetService`] data) and
    /// translate the connection to the address and port it maps to (`dnat to th dport map
    /// @m`): a verdict, in a chain of type [`NftChainType::Nat`]. A key not in the map ends
    /// the rule. nft wants the rule to have tested the transport protocol before.
    NatMap {
        /// Source or destination.
        kind: NftNatKind,
        /// The map, in the same table.
        map: RString,
    },
}
