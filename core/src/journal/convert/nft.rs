//! `ioc_sdk::nft` (the batch of an `NftCommit`) to and from its journal form.

use abi_stable::std_types::{ROption, RString, RVec};
use ioc_sdk::nft::{
    NftBatch, NftChainType, NftCmpOp, NftCommand, NftDynsetOp, NftElement, NftExpr, NftFibFlags,
    NftFibResult, NftHook, NftHookKind, NftKeyType, NftMetaKey, NftNatKind, NftPayloadBase,
    NftPolicy, NftPortRange, NftSetFlags, NftVerdict,
};

use super::super::record::*;
use super::nft_map;

/// `From` both ways between a fieldless sdk enum and its journal mirror, variant by variant.
macro_rules! mirror_enum {
    ($sdk:ident <=> $disk:ident { $($v:ident),* $(,)? }) => {
        impl From<$sdk> for $disk {
            fn from(x: $sdk) -> $disk {
                match x { $($sdk::$v => $disk::$v),* }
            }
        }
        impl From<$disk> for $sdk {
            fn from(x: $disk) -> $sdk {
                match x { $($disk::$v => $sdk::$v),* }
            }
        }
    };
}

mirror_enum!(NftHookKind <=> DiskNftHookKind {
    Ingress, Egress, Prerouting, Input, Forward, Output, Postrouting
});
mirror_enum!(NftPolicy <=> DiskNftPolicy { Accept, Drop });
mirror_enum!(NftKeyType <=> DiskNftKeyType {
    Ipv4Addr, Ipv6Addr, EtherAddr, Ifname, InetService, Ipv4AddrIfname, Ipv4AddrInetService
});
mirror_enum!(NftPayloadBase <=> DiskNftPayloadBase { Ll, Nh, Th });
mirror_enum!(NftMetaKey <=> DiskNftMetaKey {
    Protocol, Nfproto, L4proto, Iifname, Oifname, Pkttype
});
mirror_enum!(NftCmpOp <=> DiskNftCmpOp { Eq, Neq, Lt, Lte, Gt, Gte });
mirror_enum!(NftDynsetOp <=> DiskNftDynsetOp { Add, Update, Delete });
mirror_enum!(NftChainType <=> DiskNftChainType { Filter, Nat });
mirror_enum!(NftFibResult <=> DiskNftFibResult { Oif, Type });
mirror_enum!(NftNatKind <=> DiskNftNatKind { Snat, Dnat });

fn ports_out(p: ROption<NftPortRange>) -> Option<DiskNftPortRange> {
    p.into_option().map(|p| DiskNftPortRange {
        first: p.first,
        last: p.last,
    })
}

fn ports_in(p: Option<DiskNftPortRange>) -> ROption<NftPortRange> {
    p.map(|p| NftPortRange {
        first: p.first,
        last: p.last,
    })
    .into()
}

fn s(x: &RString) -> String {
    x.to_string()
}

fn bytes(x: &RVec<u8>) -> Vec<u8> {
    x.to_vec()
}

fn elements_out(e: &RVec<NftElement>) -> Vec<DiskNftElement> {
    e.iter()
        .map(|e| DiskNftElement {
            key: bytes(&e.key),
            timeout_ms: e.timeout_ms.into_option(),
        })
        .collect()
}

fn elements_in(e: Vec<DiskNftElement>) -> RVec<NftElement> {
    e.into_iter()
        .map(|e| NftElement {
            key: e.key.into(),
            timeout_ms: e.timeout_ms.into(),
        })
        .collect()
}

impl From<&NftBatch> for DiskNftBatch {
    fn from(b: &NftBatch) -> DiskNftBatch {
        DiskNftBatch {
            commands: b.commands.iter().map(DiskNftCommand::from).collect(),
        }
    }
}

impl From<DiskNftBatch> for NftBatch {
    fn from(b: DiskNftBatch) -> NftBatch {
        NftBatch {
            commands: b.commands.into_iter().map(NftCommand::from).collect(),
        }
    }
}

impl From<&NftCommand> for DiskNftCommand {
    fn from(c: &NftCommand) -> DiskNftCommand {
        match c {
            NftCommand::AddTable { family, name } => DiskNftCommand::AddTable {
                family: (*family).into(),
                name: s(name),
            },
            NftCommand::CreateTable { family, name } => DiskNftCommand::CreateTable {
                family: (*family).into(),
                name: s(name),
            },
            NftCommand::DeleteTable { family, name } => DiskNftCommand::DeleteTable {
                family: (*family).into(),
                name: s(name),
            },
            NftCommand::AddChain {
                family,
                table,
                name,
                hook,
            } => DiskNftCommand::AddChain {
                family: (*family).into(),
                table: s(table),
                name: s(name),
                hook: hook.as_ref().into_option().map(|h| DiskNftHook {
                    kind: h.kind.into(),
                    device: h.device.as_ref().map(s).into_option(),
                    priority: h.priority,
                    policy: h.policy.into(),
                    chain_type: h.chain_type.into(),
                }),
            },
            NftCommand::AddSet {
                family,
                table,
                name,
                key,
                flags,
                elements,
            } => DiskNftCommand::AddSet {
                family: (*family).into(),
                table: s(table),
                name: s(name),
                key: (*key).into(),
                flags: DiskNftSetFlags {
                    timeout: flags.timeout,
                    interval: flags.interval,
                    dynamic: flags.dynamic,
                },
                elements: elements_out(elements),
            },
            NftCommand::AddElements {
                family,
                table,
                set,
                elements,
            } => DiskNftCommand::AddElements {
                family: (*family).into(),
                table: s(table),
                set: s(set),
                elements: elements_out(elements),
            },
            NftCommand::DeleteElements {
                family,
                table,
                set,
                elements,
            } => DiskNftCommand::DeleteElements {
                family: (*family).into(),
                table: s(table),
                set: s(set),
                elements: elements_out(elements),
            },
            NftCommand::AddRule {
                family,
                table,
                chain,
                exprs,
                comment,
            } => DiskNftCommand::AddRule {
                family: (*family).into(),
                table: s(table),
                chain: s(chain),
                exprs: exprs.iter().map(DiskNftExpr::from).collect(),
                comment: comment.as_ref().map(s).into_option(),
            },
            other => nft_map::command_out(other),
        }
    }
}

impl From<DiskNftCommand> for NftCommand {
    fn from(c: DiskNftCommand) -> NftCommand {
        match c {
            DiskNftCommand::AddTable { family, name } => NftCommand::AddTable {
                family: family.into(),
                name: name.into(),
            },
            DiskNftCommand::CreateTable { family, name } => NftCommand::CreateTable {
                family: family.into(),
                name: name.into(),
            },
            DiskNftCommand::DeleteTable { family, name } => NftCommand::DeleteTable {
                family: family.into(),
                name: name.into(),
            },
            DiskNftCommand::AddChain {
                family,
                table,
                name,
                hook,
            } => NftCommand::AddChain {
                family: family.into(),
                table: table.into(),
                name: name.into(),
                hook: hook
                    .map(|h| NftHook {
                        kind: h.kind.into(),
                        device: h.device.map(RString::from).into(),
                        priority: h.priority,
                        policy: h.policy.into(),
                        chain_type: h.chain_type.into(),
                    })
                    .into(),
            },
            DiskNftCommand::AddSet {
                family,
                table,
                name,
                key,
                flags,
                elements,
            } => NftCommand::AddSet {
                family: family.into(),
                table: table.into(),
                name: name.into(),
                key: key.into(),
                flags: NftSetFlags {
                    timeout: flags.timeout,
                    interval: flags.interval,
                    dynamic: flags.dynamic,
                },
                elements: elements_in(elements),
            },
            DiskNftCommand::AddElements {
                family,
                table,
                set,
                elements,
            } => NftCommand::AddElements {
                family: family.into(),
                table: table.into(),
                set: set.into(),
                elements: elements_in(elements),
            },
            DiskNftCommand::DeleteElements {
                family,
                table,
                set,
                elements,
            } => NftCommand::DeleteElements {
                family: family.into(),
                table: table.into(),
                set: set.into(),
                elements: elements_in(elements),
            },
            DiskNftCommand::AddRule {
                family,
                table,
                chain,
                exprs,
                comment,
            } => NftCommand::AddRule {
                family: family.into(),
                table: table.into(),
                chain: chain.into(),
                exprs: exprs.into_iter().map(NftExpr::from).collect(),
                comment: comment.map(RString::from).into(),
            },
            other => nft_map::command_in(other),
        }
    }
}

impl From<&NftVerdict> for DiskNftVerdict {
    fn from(v: &NftVerdict) -> DiskNftVerdict {
        match v {
            NftVerdict::Accept => DiskNftVerdict::Accept,
            NftVerdict::Drop => DiskNftVerdict::Drop,
            NftVerdict::Return => DiskNftVerdict::Return,
            NftVerdict::Jump { chain } => DiskNftVerdict::Jump { chain: s(chain) },
            NftVerdict::Goto { chain } => DiskNftVerdict::Goto { chain: s(chain) },
        }
    }
}

impl From<DiskNftVerdict> for NftVerdict {
    fn from(v: DiskNftVerdict) -> NftVerdict {
        match v {
            DiskNftVerdict::Accept => NftVerdict::Accept,
            DiskNftVerdict::Drop => NftVerdict::Drop,
            DiskNftVerdict::Return => NftVerdict::Return,
            DiskNftVerdict::Jump { chain } => NftVerdict::Jump {
                chain: chain.into(),
            },
            DiskNftVerdict::Goto { chain } => NftVerdict::Goto {
                chain: chain.into(),
            },
        }
    }
}

impl From<&NftExpr> for DiskNftExpr {
    fn from(e: &NftExpr) -> DiskNftExpr {
        match e {
            NftExpr::Payload { base, offset, len } => DiskNftExpr::Payload {
                base: (*base).into(),
                offset: *offset,
                len: *len,
            },
            NftExpr::Meta { key } => DiskNftExpr::Meta { key: (*key).into() },
            NftExpr::Cmp { op, data } => DiskNftExpr::Cmp {
                op: (*op).into(),
                data: bytes(data),
            },
            NftExpr::Range { invert, from, to } => DiskNftExpr::Range {
                invert: *invert,
                from: bytes(from),
                to: bytes(to),
            },
            NftExpr::Bitwise { mask, xor } => DiskNftExpr::Bitwise {
                mask: bytes(mask),
                xor: bytes(xor),
            },
            NftExpr::Lookup { set, invert } => DiskNftExpr::Lookup {
                set: s(set),
                invert: *invert,
            },
            NftExpr::Verdict { verdict } => DiskNftExpr::Verdict {
                verdict: verdict.into(),
            },
            NftExpr::Dynset {
                op,
                set,
                timeout_ms,
            } => DiskNftExpr::Dynset {
                op: (*op).into(),
                set: s(set),
                timeout_ms: timeout_ms.into_option(),
            },
            NftExpr::Queue {
                num,
                total,
                bypass,
                fanout,
            } => DiskNftExpr::Queue {
                num: *num,
                total: *total,
                bypass: *bypass,
                fanout: *fanout,
            },
            NftExpr::Counter => DiskNftExpr::Counter,
            NftExpr::Fib { result, flags } => DiskNftExpr::Fib {
                result: (*result).into(),
                flags: DiskNftFibFlags {
                    saddr: flags.saddr,
                    iif: flags.iif,
                    oif: flags.oif,
                },
            },
            NftExpr::Nat { kind, addr, ports } => DiskNftExpr::Nat {
                kind: (*kind).into(),
                addr: bytes(addr),
                ports: ports_out(*ports),
            },
            NftExpr::Masq { ports } => DiskNftExpr::Masq {
                ports: ports_out(*ports),
            },
            NftExpr::Log { prefix, group } => DiskNftExpr::Log {
                prefix: prefix.as_ref().map(s).into_option(),
                group: group.into_option(),
            },
            other => nft_map::expr_out(other),
        }
    }
}

impl From<DiskNftExpr> for NftExpr {
    fn from(e: DiskNftExpr) -> NftExpr {
        match e {
            DiskNftExpr::Payload { base, offset, len } => NftExpr::Payload {
                base: base.into(),
                offset,
                len,
            },
            DiskNftExpr::Meta { key } => NftExpr::Meta { key: key.into() },
            DiskNftExpr::Cmp { op, data } => NftExpr::Cmp {
                op: op.into(),
                data: data.into(),
            },
            DiskNftExpr::Range { invert, from, to } => NftExpr::Range {
                invert,
                from: from.into(),
                to: to.into(),
            },
            DiskNftExpr::Bitwise { mask, xor } => NftExpr::Bitwise {
                mask: mask.into(),
                xor: xor.into(),
            },
            DiskNftExpr::Lookup { set, invert } => NftExpr::Lookup {
                set: set.into(),
                invert,
            },
            DiskNftExpr::Verdict { verdict } => NftExpr::Verdict {
                verdict: verdict.into(),
            },
            DiskNftExpr::Dynset {
                op,
                set,
                timeout_ms,
            } => NftExpr::Dynset {
                op: op.into(),
                set: set.into(),
                timeout_ms: timeout_ms.into(),
            },
            DiskNftExpr::Queue {
                num,
                total,
                bypass,
                fanout,
            } => NftExpr::Queue {
                num,
                total,
                bypass,
                fanout,
            },
            DiskNftExpr::Counter => NftExpr::Counter,
            DiskNftExpr::Fib { result, flags } => NftExpr::Fib {
                result: result.into(),
                flags: NftFibFlags {
                    saddr: flags.saddr,
                    iif: flags.iif,
                    oif: flags.oif,
                },
            },
            DiskNftExpr::Nat { kind, addr, ports } => NftExpr::Nat {
                kind: kind.into(),
                addr: addr.into(),
                ports: ports_in(ports),
            },
            DiskNftExpr::Masq { ports } => NftExpr::Masq {
                ports: ports_in(ports),
            },
            DiskNftExpr::Log { prefix, group } => NftExpr::Log {
                prefix: prefix.map(RString::from).into(),
                group: group.into(),
            },
            other => nft_map::expr_in(other),
        }
    }
}

#[cfg(test)]
pub(in crate::journal::convert) mod tests {
    use std::path::Path;

    use ioc_sdk::nft::{NftField, NftRule};
    use ioc_sdk::{HostOp, NftFamily};

    use crate::journal::{format, Record};
    use crate::step::Step;

    use super::*;

    /// A batch using every command and expression survives the journal, and its line is
    /// ioc's own form (snake_case names, no sdk layout).
    #[test]
    fn an_nft_commit_survives_the_round_trip() {
        let fam = NftFamily::Netdev;
        let mut batch = NftBatch::new();
        batch
            .add_table(fam, "t")
            .delete_table(fam, "old")
            .create_table(fam, "new")
            .add_chain(
                fam,
                "t",
                "from",
                Some(NftHook {
                    kind: NftHookKind::Egress,
                    device: Some("vnet0".into()).into(),
                    priority: -5,
                    policy: NftPolicy::Drop,
                    chain_type: NftChainType::Filter,
                }),
            )
            .add_chain(
                NftFamily::Ip,
                "n",
                "pre",
                Some(NftHook::nat(NftHookKind::Prerouting, -100)),
            )
            .add_set(
                fam,
                "t",
                "s",
                NftKeyType::Ipv4Addr,
                NftSetFlags {
                    timeout: true,
                    interval: false,
                    dynamic: true,
                },
                vec![NftElement::port(1).with_timeout_ms(9)],
            )
            .push(NftCommand::AddElements {
                family: fam,
                table: "t".into(),
                set: "s".into(),
                elements: vec![NftElement::ifname("x")].into(),
            })
            .push(NftCommand::DeleteElements {
                family: fam,
                table: "t".into(),
                set: "s".into(),
                elements: vec![NftElement::ipv4([1, 2, 3, 4].into())].into(),
            })
            .add_rule(
                fam,
                "t",
                "from",
                NftRule::new()
                    .meta_eq(NftMetaKey::Oifname, b"x")
                    .cmp(NftCmpOp::Lte, &[1])
                    .range(NftField::TH_DPORT, &[0, 1], &[0, 2])
                    .masked_eq(NftField::IP_SADDR, &[255, 0, 0, 0], &[10, 0, 0, 0])
                    .not_in(NftField::IP_SADDR, "s")
                    .update_set(NftField::IP_SADDR, "s", Some(5))
                    .expr(NftExpr::Queue {
                        num: 1,
                        total: 2,
                        bypass: true,
                        fanout: false,
                    })
                    .counter()
                    .log("p")
                    .goto("from")
                    .comment("c"),
            )
            .add_rule(
                NftFamily::Ip,
                "n",
                "pre",
                NftRule::new()
                    .expr(NftExpr::Fib {
                        result: NftFibResult::Oif,
                        flags: NftFibFlags {
                            saddr: true,
                            iif: true,
                            oif: false,
                        },
                    })
                    .cmp(NftCmpOp::Eq, &[0; 4])
                    .to_local_address()
                    .dnat([10, 0, 0, 2].into(), Some(NftPortRange::one(80))),
            )
            .add_rule(
                NftFamily::Ip,
                "n",
                "pre",
                NftRule::new().snat([10, 0, 0, 1].into(), None),
            )
            .add_rule(
                NftFamily::Ip,
                "n",
                "pre",
                NftRule::new().expr(NftExpr::Masq {
                    ports: Some(NftPortRange {
                        first: 1024,
                        last: 2048,
                    })
                    .into(),
                }),
            );
        assert_commit_round_trips(
            batch,
            &[
                "\"nft_commit\"",
                "\"add_rule\"",
                "\"dynset\"",
                "\"goto\"",
                "\"nat\"",
                "\"fib\"",
                "\"masq\"",
            ],
        );
    }

    /// Journals `batch` as an `NftCommit` step, checks that the line names each of `names`,
    /// and that it parses back to the same record.
    pub(in crate::journal::convert) fn assert_commit_round_trips(
        batch: ioc_sdk::nft::NftBatch,
        names: &[&str],
    ) {
        let record = Record::Step {
            step: Step::Op(HostOp::NftCommit { batch }),
            undo: None,
        };
        let line = format::record_line(&record);
        let text = std::str::from_utf8(&line).unwrap();
        for name in names {
            assert!(text.contains(name), "{name} missing: {text}");
        }
        let parsed = format::parse(text, Path::new("j")).unwrap();
        assert_eq!(parsed.records, vec![record]);
    }
}
