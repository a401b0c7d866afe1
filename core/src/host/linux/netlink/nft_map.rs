//! The map items of an [`NftBatch`](ioc_sdk::nft::NftBatch) as nfnetlink attributes and
//! kernel expressions: map elements (key and data), concatenated loads and the NAT map
//! statement of the shared NAT table (issue 12).
//!
//! Register layout: a concatenation fills the test register `NFT_REG_1` from its first 32-bit
//! word (`NFT_REG32_00`) on, one part after another at 4-byte boundaries, as nft lays it out;
//! a NAT map's lookup writes its data (address, then port) to `NFT_REG_2` (`NFT_REG32_04` and
//! `NFT_REG32_05`), where the `nat` expression right after it reads them.

use ioc_sdk::nft::{NftExpr, NftKeyPart, NftKeyType, NftMapElement, NftNatKind};

use super::nft_attr::{nfta, Attrs};
use super::nft_batch::{key_byteorder, key_type};

/// `NFT_REG32_00`: the first 32-bit word of `NFT_REG_1`.
const REG32_00: u32 = 8;
/// Where a NAT map's data lands: `NFT_REG_2`, i.e. `NFT_REG32_04`, and the port's word.
const REG_DATA: u32 = 2;
const REG32_05: u32 = 13;
/// `NF_NAT_RANGE_PROTO_SPECIFIED`: the port is given.
const NAT_RANGE_PROTO_SPECIFIED: u32 = 2;

/// The `NFT_MSG_NEWSET` attributes of a map with these `(key, data)` types and set id.
pub(super) fn map(table: &str, name: &str, types: (NftKeyType, NftKeyType), id: u32) -> Attrs {
    let (key, data) = types;
    let mut a = Attrs::new();
    a.str(nfta::SET_TABLE, table)
        .str(nfta::SET_NAME, name)
        .be32(nfta::SET_FLAGS, libc::NFT_SET_MAP as u32)
        .be32(nfta::SET_KEY_TYPE, key_type(key))
        .be32(nfta::SET_KEY_LEN, key.key_len() as u32)
        .be32(nfta::SET_DATA_TYPE, key_type(data))
        .be32(nfta::SET_DATA_LEN, data.key_len() as u32)
        .be32(nfta::SET_ID, id)
        .put(nfta::SET_USERDATA, &key_byteorder(key));
    a
}

/// The `NFT_MSG_NEWSETELEM`/`DELSETELEM` attributes for `elements` of `map` (`id` when this
/// batch creates it).
pub(super) fn elements(
    table: &str,
    map: &str,
    id: Option<u32>,
    elements: &[NftMapElement],
) -> Attrs {
    let mut a = Attrs::new();
    a.str(nfta::SET_ELEM_LIST_TABLE, table)
        .str(nfta::SET_ELEM_LIST_SET, map);
    if let Some(id) = id {
        a.be32(nfta::SET_ELEM_LIST_SET_ID, id);
    }
    a.nest(nfta::SET_ELEM_LIST_ELEMENTS, |list| {
        for e in elements {
            list.nest(nfta::LIST_ELEM, |el| {
                el.value(nfta::SET_ELEM_KEY, &e.key)
                    .value(nfta::SET_ELEM_DATA, &e.data);
            });
        }
    });
    a
}

/// Appends the kernel expressions of a `Concat` or `NatMap` and says so; `false` for any
/// other expression (the caller encodes it). `set_id` names the sets this batch creates.
pub(super) fn exprs(
    list: &mut Attrs,
    expr: &NftExpr,
    set_id: &dyn Fn(&str) -> Option<u32>,
) -> bool {
    match expr {
        NftExpr::Concat { parts } => {
            let mut word = 0u32;
            for part in parts.iter() {
                load(list, *part, REG32_00 + word);
                word += (part.padded_len() / 4) as u32;
            }
            true
        }
        NftExpr::NatMap { kind, map } => {
            let mut d = Attrs::new();
            d.str(nfta::LOOKUP_SET, map);
            if let Some(id) = set_id(map) {
                d.be32(nfta::LOOKUP_SET_ID, id);
            }
            d.be32(nfta::LOOKUP_SREG, 1)
                .be32(nfta::LOOKUP_DREG, REG_DATA);
            one(list, "lookup", d);
            let kind = match kind {
                NftNatKind::Snat => libc::NFT_NAT_SNAT,
                NftNatKind::Dnat => libc::NFT_NAT_DNAT,
            };
            let mut d = Attrs::new();
            d.be32(nfta::NAT_TYPE, kind as u32)
                .be32(nfta::NAT_FAMILY, libc::NFPROTO_IPV4 as u32)
                .be32(nfta::NAT_REG_ADDR_MIN, REG_DATA)
                .be32(nfta::NAT_REG_PROTO_MIN, REG32_05)
                .be32(nfta::NAT_FLAGS, NAT_RANGE_PROTO_SPECIFIED);
            one(list, "nat", d);
            true
        }
        _ => false,
    }
}

/// One load of a concatenation into the 32-bit register `reg`.
fn load(list: &mut Attrs, part: NftKeyPart, reg: u32) {
    let mut d = Attrs::new();
    let name = match part {
        NftKeyPart::Payload { base, offset, len } => {
            d.be32(nfta::PAYLOAD_DREG, reg)
                .be32(nfta::PAYLOAD_BASE, super::nft_batch::payload_base(base))
                .be32(nfta::PAYLOAD_OFFSET, offset)
                .be32(nfta::PAYLOAD_LEN, len);
            "payload"
        }
        NftKeyPart::Meta { key } => {
            d.be32(nfta::META_DREG, reg)
                .be32(nfta::META_KEY, super::nft_batch::meta_key(key));
            "meta"
        }
    };
    one(list, name, d);
}

fn one(list: &mut Attrs, name: &str, data: Attrs) {
    list.nest(nfta::LIST_ELEM, |e| {
        e.str(nfta::EXPR_NAME, name).nest(nfta::EXPR_DATA, |d| {
            d.raw(&data.into_bytes());
        });
    });
}

#[cfg(test)]
mod tests {
    use ioc_sdk::nft::{NftField, NftKeyPart, NftMetaKey, NftRule};

    use super::*;

    fn encoded(rule: NftRule) -> Vec<u8> {
        let mut list = Attrs::new();
        for expr in rule.exprs() {
            exprs(&mut list, expr, &|_| None);
        }
        list.into_bytes()
    }

    /// `be32` attribute `kind` with `value`, as it appears in the encoding.
    fn attr(kind: u16, value: u32) -> Vec<u8> {
        let mut a = Attrs::new();
        a.be32(kind, value);
        a.into_bytes()
    }

    fn has(bytes: &[u8], needle: &[u8]) -> bool {
        bytes.windows(needle.len()).any(|w| w == needle)
    }

    #[test]
    fn a_concatenation_loads_each_part_at_its_own_word() {
        let b = encoded(NftRule::new().concat(&[
            NftKeyPart::field(NftField::IP_SADDR),
            NftKeyPart::Meta {
                key: NftMetaKey::Oifname,
            },
        ]));
        assert!(has(&b, &attr(nfta::PAYLOAD_DREG, REG32_00)));
        assert!(has(&b, &attr(nfta::META_DREG, REG32_00 + 1)));
    }

    #[test]
    fn a_nat_map_reads_address_and_port_where_its_lookup_wrote_them() {
        let b = encoded(NftRule::new().dnat_map("fwd"));
        assert!(has(&b, b"lookup\0"));
        assert!(has(&b, &attr(nfta::LOOKUP_SREG, 1)));
        assert!(has(&b, &attr(nfta::LOOKUP_DREG, REG_DATA)));
        assert!(has(&b, b"nat\0"));
        assert!(has(&b, &attr(nfta::NAT_REG_ADDR_MIN, REG_DATA)));
        assert!(has(&b, &attr(nfta::NAT_REG_PROTO_MIN, REG32_05)));
    }

    #[test]
    fn other_expressions_are_left_to_the_caller() {
        let mut list = Attrs::new();
        assert!(!exprs(
            &mut list,
            &NftRule::new().counter().exprs()[0],
            &|_| None
        ));
        assert!(list.into_bytes().is_empty());
    }
}
