//! Encoding an [`NftBatch`] as nfnetlink messages: one transaction between
//! `NFNL_MSG_BATCH_BEGIN` and `NFNL_MSG_BATCH_END` (`nft_commit.rs` sends it).
//!
//! The register model of `ioc_sdk::nft` maps onto one kernel register: every load writes
//! `NFT_REG_1` and every test, lookup and dynset reads it (NAT statements load their own
//! values into other registers, see `nft_nat.rs`).

use std::collections::HashMap;

use ioc_sdk::nft::{
    NftBatch, NftCmpOp, NftCommand, NftDynsetOp, NftElement, NftExpr, NftHook, NftHookKind,
    NftKeyType, NftMapElement, NftMetaKey, NftPayloadBase, NftPolicy, NftSetFlags, NftVerdict,
};
use ioc_sdk::NftFamily;
use libc::{
    c_int, NFNL_MSG_BATCH_BEGIN, NFNL_MSG_BATCH_END, NFNL_SUBSYS_NFTABLES, NFT_CMP_EQ, NFT_CMP_GT,
    NFT_CMP_GTE, NFT_CMP_LT, NFT_CMP_LTE, NFT_CMP_NEQ, NFT_DYNSET_OP_ADD, NFT_DYNSET_OP_UPDATE,
    NFT_GOTO, NFT_JUMP, NFT_LOOKUP_F_INV, NFT_META_IIFNAME, NFT_META_L4PROTO, NFT_META_NFPROTO,
    NFT_META_OIFNAME, NFT_META_PKTTYPE, NFT_META_PROTOCOL, NFT_MSG_DELSETELEM, NFT_MSG_DELTABLE,
    NFT_MSG_NEWCHAIN, NFT_MSG_NEWRULE, NFT_MSG_NEWSET, NFT_MSG_NEWSETELEM, NFT_MSG_NEWTABLE,
    NFT_PAYLOAD_LL_HEADER, NFT_PAYLOAD_NETWORK_HEADER, NFT_PAYLOAD_TRANSPORT_HEADER,
    NFT_QUEUE_FLAG_BYPASS, NFT_QUEUE_FLAG_CPU_FANOUT, NFT_RANGE_EQ, NFT_RANGE_NEQ, NFT_REG_1,
    NFT_REG_VERDICT, NFT_RETURN, NFT_SET_EVAL, NFT_SET_INTERVAL, NFT_SET_TIMEOUT, NF_ACCEPT,
    NF_DROP,
};
use netlink_packet_core::{NetlinkSerializable, NLM_F_APPEND, NLM_F_CREATE, NLM_F_EXCL};

use super::nft_attr::{nfta, Attrs};
use super::nft_check::check_rule;
use super::nft_map;
use super::nft_nat;
use super::nftables::{message_type, nfproto, NFGENMSG_LEN};
use super::NlError;

/// `NFT_DYNSET_OP_DELETE` (`linux/netfilter/nf_tables.h`; missing from `libc`).
const NFT_DYNSET_OP_DELETE: u32 = 2;
/// `NFTNL_UDATA_RULE_COMMENT`: the type of a rule comment in the rule's user data (libnftnl's
/// TLV format: one byte type, one byte length, the NUL-terminated text), so `nft list` shows it.
const UDATA_RULE_COMMENT: u8 = 0;
/// `NF_NETDEV_INGRESS`/`NF_NETDEV_EGRESS` and `NF_INET_*` (`linux/netfilter.h`).
const NF_NETDEV_INGRESS: u32 = 0;
const NF_NETDEV_EGRESS: u32 = 1;
const NF_INET_INGRESS: u32 = 5;

/// One nfnetlink message of a batch, ready to serialize.
#[derive(Clone, Debug)]
pub(super) struct NftMessage {
    /// The full netlink message type (subsystem << 8 | message).
    pub kind: u16,
    /// `NLM_F_*` besides `NLM_F_REQUEST`.
    pub flags: u16,
    /// The `nfgenmsg` family.
    pub family: u8,
    /// The `nfgenmsg` resource id (the subsystem, for batch delimiters).
    pub res_id: u16,
    /// The encoded attributes.
    pub attrs: Vec<u8>,
    /// The index of the batch command this message belongs to; `None` for the delimiters.
    pub command: Option<usize>,
}

impl NetlinkSerializable for NftMessage {
    fn message_type(&self) -> u16 {
        self.kind
    }

    fn buffer_len(&self) -> usize {
        NFGENMSG_LEN + self.attrs.len()
    }

    fn serialize(&self, buffer: &mut [u8]) {
        let [r0, r1] = self.res_id.to_be_bytes();
        buffer[..NFGENMSG_LEN].copy_from_slice(&[self.family, libc::NFNETLINK_V0 as u8, r0, r1]);
        buffer[NFGENMSG_LEN..].copy_from_slice(&self.attrs);
    }
}

/// Elements per `NEWSETELEM`/`DELSETELEM` message. The element list is one attribute, whose
/// length is 16 bits: a forwarded range of thousands of ports (one map element each) would
/// overflow it, so longer lists go as several messages of the same transaction. 512 of the
/// largest elements ioc writes (a map's key and data, about 40 bytes) stay near 20 KiB.
const ELEMENTS_PER_MESSAGE: usize = 512;

/// Encodes `batch` as BEGIN, the changes, END. A batch the kernel
/// would misread (an element of the wrong length, say) is refused here, naming the command.
pub(super) fn encode(batch: &NftBatch) -> Result<Vec<NftMessage>, NlError> {
    let mut encoder = Encoder::default();
    encoder.out.push(delimiter(NFNL_MSG_BATCH_BEGIN));
    for (index, command) in batch.commands.iter().enumerate() {
        encoder.command(index, command)?;
    }
    encoder.out.push(delimiter(NFNL_MSG_BATCH_END));
    Ok(encoder.out)
}

fn delimiter(kind: c_int) -> NftMessage {
    NftMessage {
        kind: kind as u16,
        flags: 0,
        family: libc::AF_UNSPEC as u8,
        res_id: NFNL_SUBSYS_NFTABLES as u16,
        attrs: Vec::new(),
        command: None,
    }
}

/// The set ids of the sets this batch creates, so that lookups find them in the transaction.
#[derive(Default)]
struct Encoder {
    out: Vec<NftMessage>,
    sets: HashMap<(NftFamily, String, String), (u32, NftKeyType)>,
}

impl Encoder {
    fn push(&mut self, index: usize, message: c_int, flags: u16, family: NftFamily, a: Attrs) {
        self.out.push(NftMessage {
            kind: message_type(message),
            flags,
            family: nfproto(family),
            res_id: 0,
            attrs: a.into_bytes(),
            command: Some(index),
        });
    }

    fn command(&mut self, index: usize, command: &NftCommand) -> Result<(), NlError> {
        match command {
            NftCommand::AddTable { family, name } => {
                self.table(index, NFT_MSG_NEWTABLE, NLM_F_CREATE, *family, name)
            }
            NftCommand::CreateTable { family, name } => self.table(
                index,
                NFT_MSG_NEWTABLE,
                NLM_F_CREATE | NLM_F_EXCL,
                *family,
                name,
            ),
            NftCommand::DeleteTable { family, name } => {
                // Adding first makes the delete idempotent on every kernel (DESTROYTABLE
                // needs 6.3): an absent table is created and deleted in the same transaction.
                self.table(index, NFT_MSG_NEWTABLE, NLM_F_CREATE, *family, name);
                self.table(index, NFT_MSG_DELTABLE, 0, *family, name);
            }
            NftCommand::AddChain {
                family,
                table,
                name,
                hook,
            } => {
                let mut a = Attrs::new();
                a.str(nfta::CHAIN_TABLE, table).str(nfta::CHAIN_NAME, name);
                if let Some(hook) = hook.as_ref().into_option() {
                    chain_hook(&mut a, *family, hook);
                }
                self.push(index, NFT_MSG_NEWCHAIN, NLM_F_CREATE, *family, a);
            }
            NftCommand::AddSet {
                family,
                table,
                name,
                key,
                flags,
                elements,
            } => {
                let id = self.sets.len() as u32 + 1;
                self.sets
                    .insert((*family, table.to_string(), name.to_string()), (id, *key));
                let mut a = Attrs::new();
                a.str(nfta::SET_TABLE, table)
                    .str(nfta::SET_NAME, name)
                    .be32(nfta::SET_FLAGS, set_flags(flags))
                    .be32(nfta::SET_KEY_TYPE, key_type(*key))
                    .be32(nfta::SET_KEY_LEN, key.key_len() as u32)
                    .be32(nfta::SET_ID, id)
                    .put(nfta::SET_USERDATA, &key_byteorder(*key));
                self.push(index, NFT_MSG_NEWSET, NLM_F_CREATE, *family, a);
                if !elements.is_empty() {
                    self.elements(index, NFT_MSG_NEWSETELEM, *family, table, name, elements)?;
                }
            }
            NftCommand::AddElements {
                family,
                table,
                set,
                elements,
            } => self.elements(index, NFT_MSG_NEWSETELEM, *family, table, set, elements)?,
            NftCommand::DeleteElements {
                family,
                table,
                set,
                elements,
            } => {
                // As for tables: adding first (without timeouts) makes an absent or expired
                // element no error, where a bare delete would abort the whole transaction.
                let bare: Vec<NftElement> =
                    elements.iter().map(|e| NftElement::raw(&e.key)).collect();
                self.elements(index, NFT_MSG_NEWSETELEM, *family, table, set, &bare)?;
                self.elements(index, NFT_MSG_DELSETELEM, *family, table, set, elements)?;
            }
            NftCommand::AddRule {
                family,
                table,
                chain,
                exprs,
                comment,
            } => {
                let set_key = |set: &str| self.set(*family, table, set).map(|s| s.1);
                check_rule(exprs, &set_key).map_err(|e| {
                    NlError::invalid(format!("nftables: rule in {family} {table} {chain}: {e}"))
                })?;
                let mut a = Attrs::new();
                a.str(nfta::RULE_TABLE, table).str(nfta::RULE_CHAIN, chain);
                a.nest(nfta::RULE_EXPRESSIONS, |list| {
                    for expr in exprs.iter() {
                        let id = |set: &str| self.set(*family, table, set).map(|s| s.0);
                        if nft_map::exprs(list, expr, &id) {
                            continue;
                        }
                        nft_nat::loads(list, expr);
                        self.expr(list, *family, table, expr);
                    }
                });
                if let Some(comment) = comment.as_ref().into_option() {
                    a.put(nfta::RULE_USERDATA, &comment_udata(comment)?);
                }
                self.push(
                    index,
                    NFT_MSG_NEWRULE,
                    NLM_F_CREATE | NLM_F_APPEND,
                    *family,
                    a,
                );
            }
            NftCommand::AddMap {
                family,
                table,
                name,
                key,
                data,
            } => {
                let id = self.sets.len() as u32 + 1;
                self.sets
                    .insert((*family, table.to_string(), name.to_string()), (id, *key));
                let a = nft_map::map(table, name, (*key, *data), id);
                self.push(index, NFT_MSG_NEWSET, NLM_F_CREATE, *family, a);
            }
            NftCommand::AddMapElements {
                family,
                table,
                map,
                elements,
            } => self.map_elements(index, *family, table, map, elements, false),
            // As for sets: adding first makes an absent element no error; the add keeps an
            // element with the same data and fails on one with other data (another owner's),
            // which the delete must not take.
            NftCommand::DeleteMapElements {
                family,
                table,
                map,
                elements,
            } => self.map_elements(index, *family, table, map, elements, true),
        }
        Ok(())
    }

    /// Map elements in pieces of [`ELEMENTS_PER_MESSAGE`]; for `delete`, each piece is added
    /// first, then deleted.
    fn map_elements(
        &mut self,
        index: usize,
        family: NftFamily,
        table: &str,
        map: &str,
        elements: &[NftMapElement],
        delete: bool,
    ) {
        let id = self.set(family, table, map).map(|s| s.0);
        for chunk in elements.chunks(ELEMENTS_PER_MESSAGE) {
            let a = nft_map::elements(table, map, id, chunk);
            self.push(index, NFT_MSG_NEWSETELEM, NLM_F_CREATE, family, a);
            if delete {
                let a = nft_map::elements(table, map, id, chunk);
                self.push(index, NFT_MSG_DELSETELEM, 0, family, a);
            }
        }
    }

    fn table(&mut self, index: usize, message: c_int, flags: u16, family: NftFamily, name: &str) {
        let mut a = Attrs::new();
        a.str(nfta::TABLE_NAME, name);
        self.push(index, message, flags, family, a);
    }

    /// The id of a set this batch creates, and its key type.
    fn set(&self, family: NftFamily, table: &str, set: &str) -> Option<(u32, NftKeyType)> {
        self.sets
            .get(&(family, table.to_string(), set.to_string()))
            .copied()
    }

    fn elements(
        &mut self,
        index: usize,
        message: c_int,
        family: NftFamily,
        table: &str,
        set: &str,
        elements: &[NftElement],
    ) -> Result<(), NlError> {
        let known = self.set(family, table, set);
        if let Some((_, key)) = known {
            if let Some(bad) = elements.iter().find(|e| e.key.len() != key.key_len()) {
                return Err(NlError::invalid(format!(
                    "nftables: element of {} bytes for set {family} {table} {set} of type {} \
                     (expected {} bytes)",
                    bad.key.len(),
                    key.as_str(),
                    key.key_len()
                )));
            }
        }
        let delete = message == NFT_MSG_DELSETELEM;
        let flags = if delete { 0 } else { NLM_F_CREATE };
        for chunk in elements.chunks(ELEMENTS_PER_MESSAGE) {
            let mut a = Attrs::new();
            a.str(nfta::SET_ELEM_LIST_TABLE, table)
                .str(nfta::SET_ELEM_LIST_SET, set);
            if let Some((id, _)) = known {
                a.be32(nfta::SET_ELEM_LIST_SET_ID, id);
            }
            a.nest(nfta::SET_ELEM_LIST_ELEMENTS, |list| {
                for e in chunk {
                    list.nest(nfta::LIST_ELEM, |el| {
                        el.value(nfta::SET_ELEM_KEY, &e.key);
                        if let (false, Some(ms)) = (delete, e.timeout_ms.into_option()) {
                            el.be64(nfta::SET_ELEM_TIMEOUT, ms);
                        }
                    });
                }
            });
            self.push(index, message, flags, family, a);
        }
        Ok(())
    }

    /// Appends one expression (`NFTA_LIST_ELEM { NFTA_EXPR_NAME, NFTA_EXPR_DATA }`) of a rule
    /// that `check_rule` accepted.
    fn expr(&self, list: &mut Attrs, family: NftFamily, table: &str, expr: &NftExpr) {
        let reg = NFT_REG_1 as u32;
        list.nest(nfta::LIST_ELEM, |e| {
            let (name, data): (&str, Attrs) = match expr {
                NftExpr::Payload { base, offset, len } => {
                    let mut d = Attrs::new();
                    d.be32(nfta::PAYLOAD_DREG, reg)
                        .be32(nfta::PAYLOAD_BASE, payload_base(*base))
                        .be32(nfta::PAYLOAD_OFFSET, *offset)
                        .be32(nfta::PAYLOAD_LEN, *len);
                    ("payload", d)
                }
                NftExpr::Meta { key } => {
                    let mut d = Attrs::new();
                    d.be32(nfta::META_DREG, reg)
                        .be32(nfta::META_KEY, meta_key(*key));
                    ("meta", d)
                }
                NftExpr::Cmp { op, data } => {
                    let mut d = Attrs::new();
                    d.be32(nfta::CMP_SREG, reg)
                        .be32(nfta::CMP_OP, cmp_op(*op))
                        .value(nfta::CMP_DATA, data);
                    ("cmp", d)
                }
                NftExpr::Range { invert, from, to } => {
                    let op = if *invert { NFT_RANGE_NEQ } else { NFT_RANGE_EQ };
                    let mut d = Attrs::new();
                    d.be32(nfta::RANGE_SREG, reg)
                        .be32(nfta::RANGE_OP, op as u32)
                        .value(nfta::RANGE_FROM_DATA, from)
                        .value(nfta::RANGE_TO_DATA, to);
                    ("range", d)
                }
                NftExpr::Bitwise { mask, xor } => {
                    let mut d = Attrs::new();
                    d.be32(nfta::BITWISE_SREG, reg)
                        .be32(nfta::BITWISE_DREG, reg)
                        .be32(nfta::BITWISE_LEN, mask.len() as u32)
                        .value(nfta::BITWISE_MASK, mask)
                        .value(nfta::BITWISE_XOR, xor);
                    ("bitwise", d)
                }
                NftExpr::Lookup { set, invert } => {
                    let mut d = Attrs::new();
                    d.str(nfta::LOOKUP_SET, set);
                    if let Some((id, _)) = self.set(family, table, set) {
                        d.be32(nfta::LOOKUP_SET_ID, id);
                    }
                    d.be32(nfta::LOOKUP_SREG, reg);
                    if *invert {
                        d.be32(nfta::LOOKUP_FLAGS, NFT_LOOKUP_F_INV as u32);
                    }
                    ("lookup", d)
                }
                NftExpr::Verdict { verdict } => {
                    let mut d = Attrs::new();
                    d.be32(nfta::IMMEDIATE_DREG, NFT_REG_VERDICT as u32).nest(
                        nfta::IMMEDIATE_DATA,
                        |data| {
                            data.nest(nfta::DATA_VERDICT, |v| verdict_attrs(v, verdict));
                        },
                    );
                    ("immediate", d)
                }
                NftExpr::Dynset {
                    op,
                    set,
                    timeout_ms,
                } => {
                    let mut d = Attrs::new();
                    d.str(nfta::DYNSET_SET_NAME, set);
                    if let Some((id, _)) = self.set(family, table, set) {
                        d.be32(nfta::DYNSET_SET_ID, id);
                    }
                    d.be32(nfta::DYNSET_OP, dynset_op(*op))
                        .be32(nfta::DYNSET_SREG_KEY, reg);
                    if let Some(ms) = timeout_ms.into_option() {
                        d.be64(nfta::DYNSET_TIMEOUT, ms);
                    }
                    ("dynset", d)
                }
                NftExpr::Queue {
                    num,
                    total,
                    bypass,
                    fanout,
                } => {
                    let mut flags = 0;
                    if *bypass {
                        flags |= NFT_QUEUE_FLAG_BYPASS;
                    }
                    if *fanout {
                        flags |= NFT_QUEUE_FLAG_CPU_FANOUT;
                    }
                    let mut d = Attrs::new();
                    d.be16(nfta::QUEUE_NUM, *num)
                        .be16(nfta::QUEUE_TOTAL, (*total).max(1))
                        .be16(nfta::QUEUE_FLAGS, flags as u16);
                    ("queue", d)
                }
                NftExpr::Counter => ("counter", Attrs::new()),
                NftExpr::Fib { .. } | NftExpr::Nat { .. } | NftExpr::Masq { .. } => {
                    nft_nat::data(expr, reg)
                        .unwrap_or_else(|| unreachable!("nft_nat::data covers fib, nat, masq"))
                }
                NftExpr::Concat { .. } | NftExpr::NatMap { .. } => {
                    unreachable!("nft_map::exprs encodes concat and nat map")
                }
                NftExpr::Log { prefix, group } => {
                    let mut d = Attrs::new();
                    if let Some(group) = group.into_option() {
                        d.be16(nfta::LOG_GROUP, group);
                    }
                    if let Some(prefix) = prefix.as_ref().into_option() {
                        d.str(nfta::LOG_PREFIX, prefix);
                    }
                    ("log", d)
                }
            };
            e.str(nfta::EXPR_NAME, name);
            let data = data.into_bytes();
            if !data.is_empty() {
                e.nest(nfta::EXPR_DATA, |d| {
                    d.raw(&data);
                });
            }
        });
    }
}

/// `NFTA_CHAIN_HOOK`, `NFTA_CHAIN_POLICY` and `NFTA_CHAIN_TYPE` of a base chain.
fn chain_hook(a: &mut Attrs, family: NftFamily, hook: &NftHook) {
    let hooknum = match (family, hook.kind) {
        (NftFamily::Netdev, NftHookKind::Ingress) => NF_NETDEV_INGRESS,
        (NftFamily::Netdev, NftHookKind::Egress) => NF_NETDEV_EGRESS,
        (_, NftHookKind::Ingress) => NF_INET_INGRESS,
        (_, NftHookKind::Egress) => NF_NETDEV_EGRESS,
        (_, NftHookKind::Prerouting) => libc::NF_INET_PRE_ROUTING as u32,
        (_, NftHookKind::Input) => libc::NF_INET_LOCAL_IN as u32,
        (_, NftHookKind::Forward) => libc::NF_INET_FORWARD as u32,
        (_, NftHookKind::Output) => libc::NF_INET_LOCAL_OUT as u32,
        (_, NftHookKind::Postrouting) => libc::NF_INET_POST_ROUTING as u32,
    };
    a.nest(nfta::CHAIN_HOOK, |h| {
        h.be32(nfta::HOOK_HOOKNUM, hooknum)
            .be32(nfta::HOOK_PRIORITY, hook.priority as u32);
        if let Some(dev) = hook.device.as_ref().into_option() {
            h.str(nfta::HOOK_DEV, dev);
        }
    });
    let policy = match hook.policy {
        NftPolicy::Accept => NF_ACCEPT,
        NftPolicy::Drop => NF_DROP,
    };
    a.be32(nfta::CHAIN_POLICY, policy as u32)
        .str(nfta::CHAIN_TYPE, hook.chain_type.as_str());
}

fn verdict_attrs(v: &mut Attrs, verdict: &NftVerdict) {
    let (code, chain) = match verdict {
        NftVerdict::Accept => (NF_ACCEPT, None),
        NftVerdict::Drop => (NF_DROP, None),
        NftVerdict::Return => (NFT_RETURN, None),
        NftVerdict::Jump { chain } => (NFT_JUMP, Some(chain)),
        NftVerdict::Goto { chain } => (NFT_GOTO, Some(chain)),
    };
    v.be32(nfta::VERDICT_CODE, code as u32);
    if let Some(chain) = chain {
        v.str(nfta::VERDICT_CHAIN, chain);
    }
}

fn set_flags(flags: &NftSetFlags) -> u32 {
    let mut out = 0;
    if flags.timeout {
        out |= NFT_SET_TIMEOUT;
    }
    if flags.interval {
        out |= NFT_SET_INTERVAL;
    }
    if flags.dynamic {
        out |= NFT_SET_EVAL;
    }
    out as u32
}

/// nft's datatype numbers (`enum datatypes` in nftables' `datatype.h`), which the kernel keeps
/// for `nft list` to print the elements.
pub(super) fn key_type(key: NftKeyType) -> u32 {
    match key {
        NftKeyType::Ipv4Addr => 7,
        NftKeyType::Ipv6Addr => 8,
        NftKeyType::EtherAddr => 9,
        NftKeyType::InetService => 13,
        NftKeyType::Ifname => 41,
        // A concatenation: each part's type shifted in by nft's TYPE_BITS (6).
        NftKeyType::Ipv4AddrIfname => (7 << 6) | 41,
        NftKeyType::Ipv4AddrInetService => (7 << 6) | 13,
    }
}

pub(super) fn payload_base(base: NftPayloadBase) -> u32 {
    (match base {
        NftPayloadBase::Ll => NFT_PAYLOAD_LL_HEADER,
        NftPayloadBase::Nh => NFT_PAYLOAD_NETWORK_HEADER,
        NftPayloadBase::Th => NFT_PAYLOAD_TRANSPORT_HEADER,
    }) as u32
}

pub(super) fn meta_key(key: NftMetaKey) -> u32 {
    (match key {
        NftMetaKey::Protocol => NFT_META_PROTOCOL,
        NftMetaKey::Nfproto => NFT_META_NFPROTO,
        NftMetaKey::L4proto => NFT_META_L4PROTO,
        NftMetaKey::Iifname => NFT_META_IIFNAME,
        NftMetaKey::Oifname => NFT_META_OIFNAME,
        NftMetaKey::Pkttype => NFT_META_PKTTYPE,
    }) as u32
}

fn cmp_op(op: NftCmpOp) -> u32 {
    (match op {
        NftCmpOp::Eq => NFT_CMP_EQ,
        NftCmpOp::Neq => NFT_CMP_NEQ,
        NftCmpOp::Lt => NFT_CMP_LT,
        NftCmpOp::Lte => NFT_CMP_LTE,
        NftCmpOp::Gt => NFT_CMP_GT,
        NftCmpOp::Gte => NFT_CMP_GTE,
    }) as u32
}

fn dynset_op(op: NftDynsetOp) -> u32 {
    match op {
        NftDynsetOp::Add => NFT_DYNSET_OP_ADD as u32,
        NftDynsetOp::Update => NFT_DYNSET_OP_UPDATE as u32,
        NftDynsetOp::Delete => NFT_DYNSET_OP_DELETE,
    }
}

/// The set's user data as nft writes it: the key's byte order
/// (`NFTNL_UDATA_SET_KEYBYTEORDER`, nft's `BYTEORDER_HOST_ENDIAN` 1 or `BIG_ENDIAN` 2), which
/// `nft list` needs to print interface names, kept in host order.
pub(super) fn key_byteorder(key: NftKeyType) -> Vec<u8> {
    const UDATA_SET_KEYBYTEORDER: u8 = 0;
    let order: u32 = match key {
        NftKeyType::Ifname => 1,
        _ => 2,
    };
    let mut out = vec![UDATA_SET_KEYBYTEORDER, 4];
    out.extend_from_slice(&order.to_ne_bytes());
    out
}

/// A rule comment in libnftnl's user data format.
fn comment_udata(comment: &str) -> Result<Vec<u8>, NlError> {
    let len = u8::try_from(comment.len() + 1)
        .map_err(|_| NlError::invalid(format!("nftables: rule comment too long: {comment:?}")))?;
    let mut out = vec![UDATA_RULE_COMMENT, len];
    out.extend_from_slice(comment.as_bytes());
    out.push(0);
    Ok(out)
}

#[cfg(test)]
#[path = "nft_batch_tests.rs"]
mod tests;
