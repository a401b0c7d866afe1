//! Builders that make plugin code read like the rules it writes.

use abi_stable::std_types::{ROption, RString};

use std::net::IpAddr;

use super::{
    NftBatch, NftChainType, NftCmpOp, NftCommand, NftDynsetOp, NftElement, NftExpr, NftFibFlags,
    NftFibResult, NftHook, NftHookKind, NftKeyPart, NftKeyType, NftMapElement, NftMetaKey,
    NftNatKind, NftPayloadBase, NftPolicy, NftPortRange, NftSetFlags, NftVerdict,
};
use crate::ops::NftFamily;

/// A packet field: where a [`NftExpr::Payload`] load reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct NftField {
    /// The header.
    pub base: NftPayloadBase,
    /// The offset in bytes.
    pub offset: u32,
    /// The length in bytes.
    pub len: u32,
}

impl NftField {
    /// A field of `len` bytes at `offset` of `base`.
    pub const fn new(base: NftPayloadBase, offset: u32, len: u32) -> NftField {
        NftField { base, offset, len }
    }

    /// Ethernet destination address.
    pub const ETHER_DADDR: NftField = NftField::new(NftPayloadBase::Ll, 0, 6);
    /// Ethernet source address.
    pub const ETHER_SADDR: NftField = NftField::new(NftPayloadBase::Ll, 6, 6);
    /// EtherType (of an untagged frame).
    pub const ETHER_TYPE: NftField = NftField::new(NftPayloadBase::Ll, 12, 2);
    /// IPv4 protocol.
    pub const IP_PROTOCOL: NftField = NftField::new(NftPayloadBase::Nh, 9, 1);
    /// IPv4 source address.
    pub const IP_SADDR: NftField = NftField::new(NftPayloadBase::Nh, 12, 4);
    /// IPv4 destination address.
    pub const IP_DADDR: NftField = NftField::new(NftPayloadBase::Nh, 16, 4);
    /// IPv6 payload length.
    pub const IP6_LENGTH: NftField = NftField::new(NftPayloadBase::Nh, 4, 2);
    /// IPv6 next header.
    pub const IP6_NEXTHDR: NftField = NftField::new(NftPayloadBase::Nh, 6, 1);
    /// IPv6 source address.
    pub const IP6_SADDR: NftField = NftField::new(NftPayloadBase::Nh, 8, 16);
    /// IPv6 destination address.
    pub const IP6_DADDR: NftField = NftField::new(NftPayloadBase::Nh, 24, 16);
    /// ARP hardware type.
    pub const ARP_HTYPE: NftField = NftField::new(NftPayloadBase::Nh, 0, 2);
    /// ARP protocol type.
    pub const ARP_PTYPE: NftField = NftField::new(NftPayloadBase::Nh, 2, 2);
    /// ARP hardware address length.
    pub const ARP_HLEN: NftField = NftField::new(NftPayloadBase::Nh, 4, 1);
    /// ARP protocol address length.
    pub const ARP_PLEN: NftField = NftField::new(NftPayloadBase::Nh, 5, 1);
    /// ARP operation.
    pub const ARP_OPERATION: NftField = NftField::new(NftPayloadBase::Nh, 6, 2);
    /// ARP sender hardware address (Ethernet/IPv4 ARP).
    pub const ARP_SHA: NftField = NftField::new(NftPayloadBase::Nh, 8, 6);
    /// ARP sender protocol address (Ethernet/IPv4 ARP).
    pub const ARP_SPA: NftField = NftField::new(NftPayloadBase::Nh, 14, 4);
    /// ARP target protocol address (Ethernet/IPv4 ARP).
    pub const ARP_TPA: NftField = NftField::new(NftPayloadBase::Nh, 24, 4);
    /// UDP/TCP source port.
    pub const TH_SPORT: NftField = NftField::new(NftPayloadBase::Th, 0, 2);
    /// UDP/TCP destination port.
    pub const TH_DPORT: NftField = NftField::new(NftPayloadBase::Th, 2, 2);
    /// ICMP/ICMPv6 type.
    pub const ICMP_TYPE: NftField = NftField::new(NftPayloadBase::Th, 0, 1);
}

/// Builds the expressions of one rule, readably:
///
/// ```
/// use ioc_sdk::nft::{NftField, NftRule};
/// let rule = NftRule::new()
///     .meta_eq(ioc_sdk::nft::NftMetaKey::Protocol, &[0x08, 0x00])
///     .lookup(NftField::IP_SADDR, "allowed4")
///     .accept();
/// assert_eq!(rule.exprs().len(), 5);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NftRule {
    exprs: Vec<NftExpr>,
    comment: Option<String>,
}

impl NftRule {
    /// An empty rule (matches everything, decides nothing).
    pub fn new() -> NftRule {
        NftRule::default()
    }

    /// The expressions so far.
    pub fn exprs(&self) -> &[NftExpr] {
        &self.exprs
    }

    /// Appends any expression.
    pub fn expr(mut self, expr: NftExpr) -> NftRule {
        self.exprs.push(expr);
        self
    }

    /// Sets the rule's comment.
    pub fn comment(mut self, comment: &str) -> NftRule {
        self.comment = Some(comment.to_string());
        self
    }

    /// Loads a packet field.
    pub fn load(self, field: NftField) -> NftRule {
        self.expr(NftExpr::Payload {
            base: field.base,
            offset: field.offset,
            len: field.len,
        })
    }

    /// Compares the register.
    pub fn cmp(self, op: NftCmpOp, data: &[u8]) -> NftRule {
        self.expr(NftExpr::Cmp {
            op,
            data: data.to_vec().into(),
        })
    }

    /// The field equals `value` (network order; as long as the field).
    pub fn eq(self, field: NftField, value: &[u8]) -> NftRule {
        self.load(field).cmp(NftCmpOp::Eq, value)
    }

    /// The field differs from `value`.
    pub fn ne(self, field: NftField, value: &[u8]) -> NftRule {
        self.load(field).cmp(NftCmpOp::Neq, value)
    }

    /// The field, as a big-endian number, is within `from..=to`.
    pub fn range(self, field: NftField, from: &[u8], to: &[u8]) -> NftRule {
        self.load(field).expr(NftExpr::Range {
            invert: false,
            from: from.to_vec().into(),
            to: to.to_vec().into(),
        })
    }

    /// The field masked with `mask` equals `value`.
    pub fn masked_eq(self, field: NftField, mask: &[u8], value: &[u8]) -> NftRule {
        self.load(field)
            .expr(NftExpr::Bitwise {
                mask: mask.to_vec().into(),
                xor: vec![0; mask.len()].into(),
            })
            .cmp(NftCmpOp::Eq, value)
    }

    /// The metadata `key` equals `value` (see [`NftMetaKey`] for each key's layout).
    pub fn meta_eq(self, key: NftMetaKey, value: &[u8]) -> NftRule {
        self.expr(NftExpr::Meta { key }).cmp(NftCmpOp::Eq, value)
    }

    /// The frame carries IPv4 (`meta protocol ip`).
    pub fn ipv4(self) -> NftRule {
        self.meta_eq(NftMetaKey::Protocol, &[0x08, 0x00])
    }

    /// The frame carries IPv6 (`meta protocol ip6`).
    pub fn ipv6(self) -> NftRule {
        self.meta_eq(NftMetaKey::Protocol, &[0x86, 0xdd])
    }

    /// The frame carries ARP (`meta protocol arp`).
    pub fn arp(self) -> NftRule {
        self.meta_eq(NftMetaKey::Protocol, &[0x08, 0x06])
    }

    /// The transport protocol is `proto` (`meta l4proto`).
    pub fn l4proto(self, proto: u8) -> NftRule {
        self.meta_eq(NftMetaKey::L4proto, &[proto])
    }

    /// The field's value is in the set `set`.
    pub fn lookup(self, field: NftField, set: &str) -> NftRule {
        self.load(field).expr(NftExpr::Lookup {
            set: set.into(),
            invert: false,
        })
    }

    /// The field's value is not in the set `set`.
    pub fn not_in(self, field: NftField, set: &str) -> NftRule {
        self.load(field).expr(NftExpr::Lookup {
            set: set.into(),
            invert: true,
        })
    }

    /// Counts the packets that got this far.
    pub fn counter(self) -> NftRule {
        self.expr(NftExpr::Counter)
    }

    /// Logs the packet with `prefix`.
    pub fn log(self, prefix: &str) -> NftRule {
        self.expr(NftExpr::Log {
            prefix: ROption::RSome(prefix.into()),
            group: ROption::RNone,
        })
    }

    /// Copies the packet to nfnetlink_log group `group` (`log group N`) and goes on: the
    /// listener sees it, nothing waits for it.
    pub fn log_group(self, group: u16) -> NftRule {
        self.expr(NftExpr::Log {
            prefix: ROption::RNone,
            group: ROption::RSome(group),
        })
    }

    /// Adds the field's value to `set` unless present (`add @set { FIELD timeout T }`).
    pub fn add_to_set(self, field: NftField, set: &str, timeout_ms: Option<u64>) -> NftRule {
        self.load(field).expr(NftExpr::Dynset {
            op: NftDynsetOp::Add,
            set: set.into(),
            timeout_ms: timeout_ms.into(),
        })
    }

    /// Adds or refreshes the field's value in `set`, expiring after `timeout_ms`.
    pub fn update_set(self, field: NftField, set: &str, timeout_ms: Option<u64>) -> NftRule {
        self.load(field).expr(NftExpr::Dynset {
            op: NftDynsetOp::Update,
            set: set.into(),
            timeout_ms: timeout_ms.into(),
        })
    }

    /// Ends with a verdict.
    pub fn verdict(self, verdict: NftVerdict) -> NftRule {
        self.expr(NftExpr::Verdict { verdict })
    }

    /// Ends with `accept`.
    pub fn accept(self) -> NftRule {
        self.verdict(NftVerdict::Accept)
    }

    /// Ends with `drop`.
    pub fn drop(self) -> NftRule {
        self.verdict(NftVerdict::Drop)
    }

    /// Ends by jumping to `chain` (which may return here).
    pub fn jump(self, chain: &str) -> NftRule {
        self.verdict(NftVerdict::Jump {
            chain: chain.into(),
        })
    }

    /// Ends by going to `chain` (no return).
    pub fn goto(self, chain: &str) -> NftRule {
        self.verdict(NftVerdict::Goto {
            chain: chain.into(),
        })
    }

    /// The destination is an address of this host (`fib daddr type local`).
    pub fn to_local_address(self) -> NftRule {
        self.expr(NftExpr::Fib {
            result: NftFibResult::Type,
            flags: NftFibFlags::default(),
        })
        .cmp(NftCmpOp::Eq, &NftFibResult::LOCAL.to_ne_bytes())
    }

    /// Ends by rewriting the destination to `addr` (and `ports`).
    pub fn dnat(self, addr: IpAddr, ports: Option<NftPortRange>) -> NftRule {
        self.nat(NftNatKind::Dnat, addr, ports)
    }

    /// Ends by rewriting the source to `addr` (and `ports`).
    pub fn snat(self, addr: IpAddr, ports: Option<NftPortRange>) -> NftRule {
        self.nat(NftNatKind::Snat, addr, ports)
    }

    fn nat(self, kind: NftNatKind, addr: IpAddr, ports: Option<NftPortRange>) -> NftRule {
        let addr: Vec<u8> = match addr {
            IpAddr::V4(a) => a.octets().to_vec(),
            IpAddr::V6(a) => a.octets().to_vec(),
        };
        self.expr(NftExpr::Nat {
            kind,
            addr: addr.into(),
            ports: ports.into(),
        })
    }

    /// Ends by rewriting the source to the output interface's address (`masquerade`).
    pub fn masquerade(self) -> NftRule {
        self.expr(NftExpr::Masq {
            ports: ROption::RNone,
        })
    }

    /// Loads the concatenation of `parts` (`ip saddr . meta oifname`).
    pub fn concat(self, parts: &[NftKeyPart]) -> NftRule {
        self.expr(NftExpr::Concat {
            parts: parts.to_vec().into(),
        })
    }

    /// What is loaded is in the set `set` (after [`NftRule::concat`]).
    pub fn in_set(self, set: &str) -> NftRule {
        self.expr(NftExpr::Lookup {
            set: set.into(),
            invert: false,
        })
    }

    /// Ends by translating the destination to what the loaded key maps to in `map`
    /// (`dnat to th dport map @map`); a key not in the map ends the rule.
    pub fn dnat_map(self, map: &str) -> NftRule {
        self.expr(NftExpr::NatMap {
            kind: NftNatKind::Dnat,
            map: map.into(),
        })
    }

    /// Ends by handing the packet to netfilter queue `num`; dropped when nobody listens.
    pub fn queue(self, num: u16) -> NftRule {
        self.expr(NftExpr::Queue {
            num,
            total: 1,
            bypass: false,
            fanout: false,
        })
    }
}

impl NftBatch {
    /// An empty batch.
    pub fn new() -> NftBatch {
        NftBatch::default()
    }

    /// Appends any command.
    pub fn push(&mut self, command: NftCommand) -> &mut NftBatch {
        self.commands.push(command);
        self
    }

    /// Creates a table.
    pub fn add_table(&mut self, family: NftFamily, name: &str) -> &mut NftBatch {
        self.push(NftCommand::AddTable {
            family,
            name: name.into(),
        })
    }

    /// Creates a table that must not exist yet (else the batch fails).
    pub fn create_table(&mut self, family: NftFamily, name: &str) -> &mut NftBatch {
        self.push(NftCommand::CreateTable {
            family,
            name: name.into(),
        })
    }

    /// Deletes a table; absent is fine.
    pub fn delete_table(&mut self, family: NftFamily, name: &str) -> &mut NftBatch {
        self.push(NftCommand::DeleteTable {
            family,
            name: name.into(),
        })
    }

    /// Creates a chain, a base chain with `hook`.
    pub fn add_chain(
        &mut self,
        family: NftFamily,
        table: &str,
        name: &str,
        hook: Option<NftHook>,
    ) -> &mut NftBatch {
        self.push(NftCommand::AddChain {
            family,
            table: table.into(),
            name: name.into(),
            hook: hook.into(),
        })
    }

    /// Creates a set.
    pub fn add_set(
        &mut self,
        family: NftFamily,
        table: &str,
        name: &str,
        key: NftKeyType,
        flags: NftSetFlags,
        elements: Vec<NftElement>,
    ) -> &mut NftBatch {
        self.push(NftCommand::AddSet {
            family,
            table: table.into(),
            name: name.into(),
            key,
            flags,
            elements: elements.into(),
        })
    }

    /// Adds elements to a set (an existing element is kept).
    pub fn add_elements(
        &mut self,
        family: NftFamily,
        table: &str,
        set: &str,
        elements: Vec<NftElement>,
    ) -> &mut NftBatch {
        self.push(NftCommand::AddElements {
            family,
            table: table.into(),
            set: set.into(),
            elements: elements.into(),
        })
    }

    /// Removes elements from a set; absent ones are fine.
    pub fn delete_elements(
        &mut self,
        family: NftFamily,
        table: &str,
        set: &str,
        elements: Vec<NftElement>,
    ) -> &mut NftBatch {
        self.push(NftCommand::DeleteElements {
            family,
            table: table.into(),
            set: set.into(),
            elements: elements.into(),
        })
    }

    /// Creates a map (an existing one of the same types is kept).
    pub fn add_map(
        &mut self,
        family: NftFamily,
        table: &str,
        name: &str,
        key: NftKeyType,
        data: NftKeyType,
    ) -> &mut NftBatch {
        self.push(NftCommand::AddMap {
            family,
            table: table.into(),
            name: name.into(),
            key,
            data,
        })
    }

    /// Adds elements to a map.
    pub fn add_map_elements(
        &mut self,
        family: NftFamily,
        table: &str,
        map: &str,
        elements: Vec<NftMapElement>,
    ) -> &mut NftBatch {
        self.push(NftCommand::AddMapElements {
            family,
            table: table.into(),
            map: map.into(),
            elements: elements.into(),
        })
    }

    /// Removes elements from a map; absent ones are fine.
    pub fn delete_map_elements(
        &mut self,
        family: NftFamily,
        table: &str,
        map: &str,
        elements: Vec<NftMapElement>,
    ) -> &mut NftBatch {
        self.push(NftCommand::DeleteMapElements {
            family,
            table: table.into(),
            map: map.into(),
            elements: elements.into(),
        })
    }

    /// Appends `rule` to `chain`.
    pub fn add_rule(
        &mut self,
        family: NftFamily,
        table: &str,
        chain: &str,
        rule: NftRule,
    ) -> &mut NftBatch {
        self.push(NftCommand::AddRule {
            family,
            table: table.into(),
            chain: chain.into(),
            exprs: rule.exprs.into(),
            comment: rule.comment.map(RString::from).into(),
        })
    }
}

impl NftHook {
    /// A `netdev` hook (`Ingress` or `Egress`) on `device`, at priority `filter` (0).
    pub fn device(kind: NftHookKind, device: &str, policy: NftPolicy) -> NftHook {
        NftHook {
            kind,
            device: ROption::RSome(device.into()),
            priority: 0,
            policy,
            chain_type: NftChainType::Filter,
        }
    }

    /// A base chain of type `nat` on an inet-family `kind` hook (`dstnat` is priority -100,
    /// `srcnat` 100), policy accept: NAT chains only translate, they never filter.
    pub fn nat(kind: NftHookKind, priority: i32) -> NftHook {
        NftHook {
            kind,
            device: ROption::RNone,
            priority,
            policy: NftPolicy::Accept,
            chain_type: NftChainType::Nat,
        }
    }
}

impl NftSetFlags {
    /// Elements expire (`flags timeout`): sets a learner fills.
    pub fn with_timeout() -> NftSetFlags {
        NftSetFlags {
            timeout: true,
            ..NftSetFlags::default()
        }
    }
}
