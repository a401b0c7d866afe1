//! The NAT expressions of an [`NftBatch`](ioc_sdk::nft::NftBatch) as kernel expressions:
//! `fib`, `nat` and `masq`.
//!
//! `nat` and `masq` read their address and ports from registers; the IR carries the values
//! in the expression instead, so this module loads them first with `immediate` expressions,
//! laid out as nft lays out its own (address in `NFT_REG_1`, first port in `NFT_REG_2`, last
//! port in `NFT_REG_3` for a range): a NAT statement ends its rule, so overwriting the test
//! register there is safe, and `nft list` (which reads the registers back the way it wrote
//! them) prints the rule.

use ioc_sdk::nft::{NftExpr, NftFibResult, NftNatKind, NftPortRange};

use super::nft_attr::{nfta, Attrs};

/// Where NAT addresses and ports are loaded (`NFT_REG_1`..`NFT_REG_3`, 16 bytes each).
const REG_ADDR: u32 = 1;
const REG_PORT_MIN: u32 = 2;
const REG_PORT_MAX: u32 = 3;
/// `NF_NAT_RANGE_PROTO_SPECIFIED` (`linux/netfilter/nf_nat.h`): the ports are given.
const NAT_RANGE_PROTO_SPECIFIED: u32 = 2;
/// `NFT_FIB_RESULT_OIF`, `NFT_FIB_RESULT_ADDRTYPE` (`linux/netfilter/nf_tables.h`).
const FIB_RESULT_OIF: u32 = 1;
const FIB_RESULT_ADDRTYPE: u32 = 3;
/// `NFTA_FIB_F_*`.
const FIB_F_SADDR: u32 = 1 << 0;
const FIB_F_DADDR: u32 = 1 << 1;
const FIB_F_IIF: u32 = 1 << 3;
const FIB_F_OIF: u32 = 1 << 4;

/// Appends the `immediate` loads an expression needs before it (none for most).
pub(super) fn loads(list: &mut Attrs, expr: &NftExpr) {
    match expr {
        NftExpr::Nat { addr, ports, .. } => {
            immediate(list, REG_ADDR, addr);
            port_loads(list, ports.into_option());
        }
        NftExpr::Masq { ports } => port_loads(list, ports.into_option()),
        _ => {}
    }
}

fn port_loads(list: &mut Attrs, ports: Option<NftPortRange>) {
    if let Some(p) = ports {
        immediate(list, REG_PORT_MIN, &p.first.to_be_bytes());
        if p.last != p.first {
            immediate(list, REG_PORT_MAX, &p.last.to_be_bytes());
        }
    }
}

fn immediate(list: &mut Attrs, reg: u32, value: &[u8]) {
    list.nest(nfta::LIST_ELEM, |e| {
        e.str(nfta::EXPR_NAME, "immediate")
            .nest(nfta::EXPR_DATA, |d| {
                d.be32(nfta::IMMEDIATE_DREG, reg)
                    .value(nfta::IMMEDIATE_DATA, value);
            });
    });
}

/// The kernel name and attributes of a `Fib`, `Nat` or `Masq` expression; `None` for others.
/// `reg` is the test register a `Fib` loads.
pub(super) fn data(expr: &NftExpr, reg: u32) -> Option<(&'static str, Attrs)> {
    let mut d = Attrs::new();
    let name = match expr {
        NftExpr::Fib { result, flags } => {
            let result = match result {
                NftFibResult::Oif => FIB_RESULT_OIF,
                NftFibResult::Type => FIB_RESULT_ADDRTYPE,
            };
            let mut f = if flags.saddr {
                FIB_F_SADDR
            } else {
                FIB_F_DADDR
            };
            if flags.iif {
                f |= FIB_F_IIF;
            }
            if flags.oif {
                f |= FIB_F_OIF;
            }
            d.be32(nfta::FIB_DREG, reg)
                .be32(nfta::FIB_RESULT, result)
                .be32(nfta::FIB_FLAGS, f);
            "fib"
        }
        NftExpr::Nat { kind, addr, ports } => {
            let kind = match kind {
                NftNatKind::Snat => libc::NFT_NAT_SNAT,
                NftNatKind::Dnat => libc::NFT_NAT_DNAT,
            };
            let family = if addr.len() == 16 {
                libc::NFPROTO_IPV6
            } else {
                libc::NFPROTO_IPV4
            };
            d.be32(nfta::NAT_TYPE, kind as u32)
                .be32(nfta::NAT_FAMILY, family as u32)
                .be32(nfta::NAT_REG_ADDR_MIN, REG_ADDR);
            port_regs(
                &mut d,
                ports.into_option(),
                (
                    nfta::NAT_REG_PROTO_MIN,
                    nfta::NAT_REG_PROTO_MAX,
                    nfta::NAT_FLAGS,
                ),
            );
            "nat"
        }
        NftExpr::Masq { ports } => {
            port_regs(
                &mut d,
                ports.into_option(),
                (
                    nfta::MASQ_REG_PROTO_MIN,
                    nfta::MASQ_REG_PROTO_MAX,
                    nfta::MASQ_FLAGS,
                ),
            );
            "masq"
        }
        _ => return None,
    };
    Some((name, d))
}

/// The port registers of a `nat` or `masq` and the flag saying they are given, as nft
/// writes them: `attrs` are that expression's `(REG_PROTO_MIN, REG_PROTO_MAX, FLAGS)`.
fn port_regs(d: &mut Attrs, ports: Option<NftPortRange>, attrs: (u16, u16, u16)) {
    let Some(p) = ports else { return };
    let (min, max, flags) = attrs;
    d.be32(min, REG_PORT_MIN);
    if p.last != p.first {
        d.be32(max, REG_PORT_MAX);
    }
    d.be32(flags, NAT_RANGE_PROTO_SPECIFIED);
}
