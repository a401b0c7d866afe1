//! The journal's form of `ioc_sdk::nft` (an `NftCommit`'s batch), mirrored with std types and
//! explicit serde names for the same reason as the rest of `record.rs`.

use serde::{Deserialize, Serialize};

use super::DiskNftFamily;

/// `ioc_sdk::nft::NftBatch`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(in crate::journal) struct DiskNftBatch {
    pub commands: Vec<DiskNftCommand>,
}

/// `ioc_sdk::nft::NftCommand`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(in crate::journal) enum DiskNftCommand {
    #[serde(rename = "add_table")]
    AddTable { family: DiskNftFamily, name: String },
    #[serde(rename = "create_table")]
    CreateTable { family: DiskNftFamily, name: String },
    #[serde(rename = "delete_table")]
    DeleteTable { family: DiskNftFamily, name: String },
    #[serde(rename = "add_chain")]
    AddChain {
        family: DiskNftFamily,
        table: String,
        name: String,
        hook: Option<DiskNftHook>,
    },
    #[serde(rename = "add_set")]
    AddSet {
        family: DiskNftFamily,
        table: String,
        name: String,
        key: DiskNftKeyType,
        flags: DiskNftSetFlags,
        elements: Vec<DiskNftElement>,
    },
    #[serde(rename = "add_elements")]
    AddElements {
        family: DiskNftFamily,
        table: String,
        set: String,
        elements: Vec<DiskNftElement>,
    },
    #[serde(rename = "delete_elements")]
    DeleteElements {
        family: DiskNftFamily,
        table: String,
        set: String,
        elements: Vec<DiskNftElement>,
    },
    #[serde(rename = "add_rule")]
    AddRule {
        family: DiskNftFamily,
        table: String,
        chain: String,
        exprs: Vec<DiskNftExpr>,
        comment: Option<String>,
    },
    #[serde(rename = "add_map")]
    AddMap {
        family: DiskNftFamily,
        table: String,
        name: String,
        key: DiskNftKeyType,
        data: DiskNftKeyType,
    },
    #[serde(rename = "add_map_elements")]
    AddMapElements {
        family: DiskNftFamily,
        table: String,
        map: String,
        elements: Vec<DiskNftMapElement>,
    },
    #[serde(rename = "delete_map_elements")]
    DeleteMapElements {
        family: DiskNftFamily,
        table: String,
        map: String,
        elements: Vec<DiskNftMapElement>,
    },
}

/// `ioc_sdk::nft::NftMapElement`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(in crate::journal) struct DiskNftMapElement {
    pub key: Vec<u8>,
    pub data: Vec<u8>,
}

/// `ioc_sdk::nft::NftKeyPart`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(in crate::journal) enum DiskNftKeyPart {
    #[serde(rename = "payload")]
    Payload {
        base: DiskNftPayloadBase,
        offset: u32,
        len: u32,
    },
    #[serde(rename = "meta")]
    Meta { key: DiskNftMetaKey },
}

/// `ioc_sdk::nft::NftHook`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(in crate::journal) struct DiskNftHook {
    pub kind: DiskNftHookKind,
    pub device: Option<String>,
    pub priority: i32,
    pub policy: DiskNftPolicy,
    /// Absent in journals written before NAT chains: `filter`.
    #[serde(default)]
    pub chain_type: DiskNftChainType,
}

/// `ioc_sdk::nft::NftChainType`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(in crate::journal) enum DiskNftChainType {
    #[default]
    #[serde(rename = "filter")]
    Filter,
    #[serde(rename = "nat")]
    Nat,
}

/// `ioc_sdk::nft::NftFibResult`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(in crate::journal) enum DiskNftFibResult {
    #[serde(rename = "oif")]
    Oif,
    #[serde(rename = "type")]
    Type,
}

/// `ioc_sdk::nft::NftFibFlags`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(in crate::journal) struct DiskNftFibFlags {
    pub saddr: bool,
    pub iif: bool,
    pub oif: bool,
}

/// `ioc_sdk::nft::NftNatKind`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(in crate::journal) enum DiskNftNatKind {
    #[serde(rename = "snat")]
    Snat,
    #[serde(rename = "dnat")]
    Dnat,
}

/// `ioc_sdk::nft::NftPortRange`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(in crate::journal) struct DiskNftPortRange {
    pub first: u16,
    pub last: u16,
}

/// `ioc_sdk::nft::NftHookKind`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(in crate::journal) enum DiskNftHookKind {
    #[serde(rename = "ingress")]
    Ingress,
    #[serde(rename = "egress")]
    Egress,
    #[serde(rename = "prerouting")]
    Prerouting,
    #[serde(rename = "input")]
    Input,
    #[serde(rename = "forward")]
    Forward,
    #[serde(rename = "output")]
    Output,
    #[serde(rename = "postrouting")]
    Postrouting,
}

/// `ioc_sdk::nft::NftPolicy`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(in crate::journal) enum DiskNftPolicy {
    #[serde(rename = "accept")]
    Accept,
    #[serde(rename = "drop")]
    Drop,
}

/// `ioc_sdk::nft::NftKeyType`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(in crate::journal) enum DiskNftKeyType {
    #[serde(rename = "ipv4_addr")]
    Ipv4Addr,
    #[serde(rename = "ipv6_addr")]
    Ipv6Addr,
    #[serde(rename = "ether_addr")]
    EtherAddr,
    #[serde(rename = "ifname")]
    Ifname,
    #[serde(rename = "inet_service")]
    InetService,
    #[serde(rename = "ipv4_addr . ifname")]
    Ipv4AddrIfname,
    #[serde(rename = "ipv4_addr . inet_service")]
    Ipv4AddrInetService,
}

/// `ioc_sdk::nft::NftSetFlags`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(in crate::journal) struct DiskNftSetFlags {
    pub timeout: bool,
    pub interval: bool,
    pub dynamic: bool,
}

/// `ioc_sdk::nft::NftElement`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(in crate::journal) struct DiskNftElement {
    pub key: Vec<u8>,
    pub timeout_ms: Option<u64>,
}

/// `ioc_sdk::nft::NftPayloadBase`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(in crate::journal) enum DiskNftPayloadBase {
    #[serde(rename = "ll")]
    Ll,
    #[serde(rename = "nh")]
    Nh,
    #[serde(rename = "th")]
    Th,
}

/// `ioc_sdk::nft::NftMetaKey`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(in crate::journal) enum DiskNftMetaKey {
    #[serde(rename = "protocol")]
    Protocol,
    #[serde(rename = "nfproto")]
    Nfproto,
    #[serde(rename = "l4proto")]
    L4proto,
    #[serde(rename = "iifname")]
    Iifname,
    #[serde(rename = "oifname")]
    Oifname,
    #[serde(rename = "pkttype")]
    Pkttype,
}

/// `ioc_sdk::nft::NftCmpOp`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(in crate::journal) enum DiskNftCmpOp {
    #[serde(rename = "eq")]
    Eq,
    #[serde(rename = "neq")]
    Neq,
    #[serde(rename = "lt")]
    Lt,
    #[serde(rename = "lte")]
    Lte,
    #[serde(rename = "gt")]
    Gt,
    #[serde(rename = "gte")]
    Gte,
}

/// `ioc_sdk::nft::NftVerdict`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(in crate::journal) enum DiskNftVerdict {
    #[serde(rename = "accept")]
    Accept,
    #[serde(rename = "drop")]
    Drop,
    #[serde(rename = "return")]
    Return,
    #[serde(rename = "jump")]
    Jump { chain: String },
    #[serde(rename = "goto")]
    Goto { chain: String },
}

/// `ioc_sdk::nft::NftDynsetOp`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(in crate::journal) enum DiskNftDynsetOp {
    #[serde(rename = "add")]
    Add,
    #[serde(rename = "update")]
    Update,
    #[serde(rename = "delete")]
    Delete,
}

/// `ioc_sdk::nft::NftExpr`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(in crate::journal) enum DiskNftExpr {
    #[serde(rename = "payload")]
    Payload {
        base: DiskNftPayloadBase,
        offset: u32,
        len: u32,
    },
    #[serde(rename = "meta")]
    Meta { key: DiskNftMetaKey },
    #[serde(rename = "cmp")]
    Cmp { op: DiskNftCmpOp, data: Vec<u8> },
    #[serde(rename = "range")]
    Range {
        invert: bool,
        from: Vec<u8>,
        to: Vec<u8>,
    },
    #[serde(rename = "bitwise")]
    Bitwise { mask: Vec<u8>, xor: Vec<u8> },
    #[serde(rename = "lookup")]
    Lookup { set: String, invert: bool },
    #[serde(rename = "verdict")]
    Verdict { verdict: DiskNftVerdict },
    #[serde(rename = "dynset")]
    Dynset {
        op: DiskNftDynsetOp,
        set: String,
        timeout_ms: Option<u64>,
    },
    #[serde(rename = "queue")]
    Queue {
        num: u16,
        total: u16,
        bypass: bool,
        fanout: bool,
    },
    #[serde(rename = "counter")]
    Counter,
    #[serde(rename = "fib")]
    Fib {
        result: DiskNftFibResult,
        flags: DiskNftFibFlags,
    },
    #[serde(rename = "nat")]
    Nat {
        kind: DiskNftNatKind,
        addr: Vec<u8>,
        ports: Option<DiskNftPortRange>,
    },
    #[serde(rename = "masq")]
    Masq { ports: Option<DiskNftPortRange> },
    #[serde(rename = "log")]
    Log {
        prefix: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        group: Option<u16>,
    },
    #[serde(rename = "concat")]
    Concat { parts: Vec<DiskNftKeyPart> },
    #[serde(rename = "nat_map")]
    NatMap { kind: DiskNftNatKind, map: String },
}
