//! The attribute layout of encoded batches, checked byte by byte where the kernel is strict.

use std::net::Ipv4Addr;

use ioc_sdk::nft::{
    NftBatch, NftChainType, NftElement, NftField, NftHook, NftHookKind, NftKeyType, NftPolicy,
    NftRule, NftSetFlags,
};
use ioc_sdk::NftFamily::Netdev;

use super::*;

/// An attribute: its type without `NLA_F_NESTED`, its value.
type Attr<'a> = (u16, &'a [u8]);

/// The attributes of an encoded list.
fn attrs(mut bytes: &[u8]) -> Vec<Attr<'_>> {
    let mut out = Vec::new();
    while bytes.len() >= 4 {
        let len = u16::from_ne_bytes([bytes[0], bytes[1]]) as usize;
        let kind = u16::from_ne_bytes([bytes[2], bytes[3]]) & 0x7fff;
        out.push((kind, &bytes[4..len]));
        bytes = &bytes[((len + 3) & !3).min(bytes.len())..];
    }
    out
}

fn get<'a>(list: &[(u16, &'a [u8])], kind: u16) -> &'a [u8] {
    list.iter()
        .find(|(k, _)| *k == kind)
        .unwrap_or_else(|| panic!("attribute {kind} missing"))
        .1
}

fn be32(v: u32) -> [u8; 4] {
    v.to_be_bytes()
}

fn port_batch() -> NftBatch {
    let mut b = NftBatch::new();
    b.add_table(Netdev, "ioc-vnet0.5")
        .add_chain(
            Netdev,
            "ioc-vnet0.5",
            "from",
            Some(NftHook {
                kind: NftHookKind::Ingress,
                device: Some("vnet0.5".into()).into(),
                priority: -10,
                policy: NftPolicy::Drop,
                chain_type: NftChainType::Filter,
            }),
        )
        .add_set(
            Netdev,
            "ioc-vnet0.5",
            "lease4",
            NftKeyType::Ipv4Addr,
            NftSetFlags {
                timeout: true,
                ..NftSetFlags::default()
            },
            vec![NftElement::ipv4(Ipv4Addr::new(10, 0, 0, 7)).with_timeout_ms(3_600_000)],
        )
        .add_rule(
            Netdev,
            "ioc-vnet0.5",
            "from",
            NftRule::new()
                .ipv4()
                .lookup(NftField::IP_SADDR, "lease4")
                .accept(),
        );
    b
}

#[test]
fn a_batch_is_framed_by_begin_and_end_of_the_nftables_subsystem() {
    let messages = encode(&port_batch()).unwrap();
    let kinds: Vec<u16> = messages.iter().map(|m| m.kind).collect();
    let nft = |m: c_int| (10 << 8 | m) as u16;
    assert_eq!(
        kinds,
        [
            16,
            nft(NFT_MSG_NEWTABLE),
            nft(NFT_MSG_NEWCHAIN),
            nft(NFT_MSG_NEWSET),
            nft(NFT_MSG_NEWSETELEM),
            nft(NFT_MSG_NEWRULE),
            17
        ]
    );
    for delimiter in [&messages[0], &messages[6]] {
        assert_eq!((delimiter.family, delimiter.res_id), (0, 10));
        assert_eq!(delimiter.command, None);
        let mut header = [0u8; 4];
        delimiter.serialize(&mut header);
        assert_eq!(header, [0, 0, 0, 10], "res_id is big-endian");
    }
    let commands: Vec<Option<usize>> = messages.iter().map(|m| m.command).collect();
    assert_eq!(
        commands,
        [None, Some(0), Some(1), Some(2), Some(2), Some(3), None]
    );
    assert!(messages[1..6].iter().all(|m| m.family == 5), "netdev");
    assert_eq!(messages[5].flags, NLM_F_CREATE | NLM_F_APPEND);
}

#[test]
fn a_base_chain_carries_hook_device_priority_policy_and_type() {
    let messages = encode(&port_batch()).unwrap();
    let chain = attrs(&messages[2].attrs);
    assert_eq!(get(&chain, nfta::CHAIN_TABLE), b"ioc-vnet0.5\0");
    assert_eq!(get(&chain, nfta::CHAIN_NAME), b"from\0");
    let hook = attrs(get(&chain, nfta::CHAIN_HOOK));
    assert_eq!(get(&hook, nfta::HOOK_HOOKNUM), be32(0));
    assert_eq!(get(&hook, nfta::HOOK_PRIORITY), (-10i32).to_be_bytes());
    assert_eq!(get(&hook, nfta::HOOK_DEV), b"vnet0.5\0");
    assert_eq!(get(&chain, nfta::CHAIN_POLICY), be32(NF_DROP as u32));
    assert_eq!(get(&chain, nfta::CHAIN_TYPE), b"filter\0");
}

#[test]
fn a_set_and_its_elements_are_tied_by_the_set_id() {
    let messages = encode(&port_batch()).unwrap();
    let set = attrs(&messages[3].attrs);
    assert_eq!(get(&set, nfta::SET_FLAGS), be32(NFT_SET_TIMEOUT as u32));
    assert_eq!(get(&set, nfta::SET_KEY_TYPE), be32(7));
    assert_eq!(get(&set, nfta::SET_KEY_LEN), be32(4));
    let id = get(&set, nfta::SET_ID);
    let elems = attrs(&messages[4].attrs);
    assert_eq!(get(&elems, nfta::SET_ELEM_LIST_SET), b"lease4\0");
    assert_eq!(get(&elems, nfta::SET_ELEM_LIST_SET_ID), id);
    let list = attrs(get(&elems, nfta::SET_ELEM_LIST_ELEMENTS));
    let elem = attrs(list[0].1);
    let key = attrs(get(&elem, nfta::SET_ELEM_KEY));
    assert_eq!(get(&key, nfta::DATA_VALUE), [10, 0, 0, 7]);
    assert_eq!(
        get(&elem, nfta::SET_ELEM_TIMEOUT),
        3_600_000u64.to_be_bytes()
    );
}

#[test]
fn rule_expressions_load_and_test_register_1() {
    let messages = encode(&port_batch()).unwrap();
    let rule = attrs(&messages[5].attrs);
    let exprs = attrs(get(&rule, nfta::RULE_EXPRESSIONS));
    let parsed: Vec<(&[u8], Vec<Attr<'_>>)> = exprs
        .iter()
        .map(|(_, e)| {
            let e = attrs(e);
            let data = e
                .iter()
                .find(|(k, _)| *k == nfta::EXPR_DATA)
                .map(|d| attrs(d.1))
                .unwrap_or_default();
            (get(&e, nfta::EXPR_NAME), data)
        })
        .collect();
    let names: Vec<&[u8]> = parsed.iter().map(|p| p.0).collect();
    assert_eq!(
        names,
        [
            &b"meta\0"[..],
            b"cmp\0",
            b"payload\0",
            b"lookup\0",
            b"immediate\0"
        ]
    );
    let meta = &parsed[0].1;
    assert_eq!(get(meta, nfta::META_DREG), be32(1));
    assert_eq!(get(meta, nfta::META_KEY), be32(NFT_META_PROTOCOL as u32));
    let cmp = &parsed[1].1;
    assert_eq!(get(cmp, nfta::CMP_OP), be32(NFT_CMP_EQ as u32));
    assert_eq!(
        get(&attrs(get(cmp, nfta::CMP_DATA)), nfta::DATA_VALUE),
        [8, 0]
    );
    let payload = &parsed[2].1;
    assert_eq!(get(payload, nfta::PAYLOAD_BASE), be32(1));
    assert_eq!(get(payload, nfta::PAYLOAD_OFFSET), be32(12));
    assert_eq!(get(payload, nfta::PAYLOAD_LEN), be32(4));
    let lookup = &parsed[3].1;
    assert_eq!(get(lookup, nfta::LOOKUP_SET), b"lease4\0");
    assert_eq!(get(lookup, nfta::LOOKUP_SET_ID), be32(1));
    assert!(lookup.iter().all(|(k, _)| *k != nfta::LOOKUP_FLAGS));
    let verdict = attrs(get(&parsed[4].1, nfta::IMMEDIATE_DATA));
    let verdict = attrs(get(&verdict, nfta::DATA_VERDICT));
    assert_eq!(get(&verdict, nfta::VERDICT_CODE), be32(NF_ACCEPT as u32));
}

#[test]
fn deleting_a_table_adds_it_first_so_absent_is_fine() {
    let mut b = NftBatch::new();
    b.delete_table(Netdev, "ioc-gone");
    let messages = encode(&b).unwrap();
    assert_eq!(messages[1].kind, (10 << 8 | NFT_MSG_NEWTABLE) as u16);
    assert_eq!(messages[2].kind, (10 << 8 | NFT_MSG_DELTABLE) as u16);
    assert_eq!(messages[1].command, Some(0));
    assert_eq!(messages[2].command, Some(0));
}

#[test]
fn an_element_of_the_wrong_length_is_refused_naming_the_set() {
    let mut b = NftBatch::new();
    b.add_table(Netdev, "t").add_set(
        Netdev,
        "t",
        "allowed6",
        NftKeyType::Ipv6Addr,
        NftSetFlags::default(),
        vec![NftElement::ipv4(Ipv4Addr::LOCALHOST)],
    );
    let e = encode(&b).unwrap_err().to_string();
    assert!(e.contains("set netdev t allowed6 of type ipv6_addr"), "{e}");
}

#[test]
fn a_comment_is_libnftnl_user_data() {
    assert_eq!(comment_udata("hi").unwrap(), [0, 3, b'h', b'i', 0]);
    assert!(comment_udata(&"x".repeat(300)).is_err());
}

#[test]
fn long_element_lists_go_as_several_messages_of_one_command() {
    let ports = |n: u16| -> Vec<ioc_sdk::nft::NftMapElement> {
        (0..n)
            .map(|p| ioc_sdk::nft::NftMapElement::port_to(p, Ipv4Addr::LOCALHOST, p))
            .collect()
    };
    let mut b = NftBatch::new();
    b.add_map_elements(ioc_sdk::NftFamily::Ip, "t", "m", ports(1300))
        .delete_map_elements(ioc_sdk::NftFamily::Ip, "t", "m", ports(600))
        .add_elements(
            Netdev,
            "t",
            "s",
            (0..1030u32)
                .map(|i| NftElement::ipv4(Ipv4Addr::from(i)))
                .collect(),
        );
    let messages = encode(&b).unwrap();
    let kinds: Vec<(u16, Option<usize>)> = messages[1..messages.len() - 1]
        .iter()
        .map(|m| (m.kind & 0xff, m.command))
        .collect();
    let (new, del) = (NFT_MSG_NEWSETELEM as u16, NFT_MSG_DELSETELEM as u16);
    assert_eq!(
        kinds,
        [
            (new, Some(0)),
            (new, Some(0)),
            (new, Some(0)),
            // A delete adds each piece first, then deletes it.
            (new, Some(1)),
            (del, Some(1)),
            (new, Some(1)),
            (del, Some(1)),
            (new, Some(2)),
            (new, Some(2)),
            (new, Some(2)),
        ]
    );
    assert!(messages.iter().all(|m| m.attrs.len() < 32 * 1024));
}
