//! The nft text of batches; that nft accepts it is checked by `tests/nft_commit_live.rs`.

use std::net::Ipv4Addr;

use ioc_sdk::nft::{
    NftBatch, NftChainType, NftCommand, NftElement, NftExpr, NftField, NftHook, NftHookKind,
    NftKeyType, NftMetaKey, NftPolicy, NftRule, NftSetFlags,
};
use ioc_sdk::NftFamily::Netdev;

use super::*;

#[test]
fn a_port_table_reads_as_nft_input() {
    let mut b = NftBatch::new();
    let timeout = NftSetFlags {
        timeout: true,
        ..NftSetFlags::default()
    };
    b.add_table(Netdev, "ioc-vnet0.5")
        .add_chain(
            Netdev,
            "ioc-vnet0.5",
            "from",
            Some(NftHook {
                kind: NftHookKind::Ingress,
                device: Some("vnet0.5".into()).into(),
                priority: 0,
                policy: NftPolicy::Drop,
                chain_type: NftChainType::Filter,
            }),
        )
        .add_set(
            Netdev,
            "ioc-vnet0.5",
            "lease4",
            NftKeyType::Ipv4Addr,
            timeout,
            vec![NftElement::ipv4(Ipv4Addr::new(10, 0, 0, 7)).with_timeout_ms(90_000)],
        )
        .add_rule(
            Netdev,
            "ioc-vnet0.5",
            "from",
            NftRule::new()
                .ipv4()
                .not_in(NftField::IP_SADDR, "lease4")
                .drop(),
        )
        .add_rule(
            Netdev,
            "ioc-vnet0.5",
            "from",
            NftRule::new()
                .l4proto(17)
                .eq(NftField::TH_SPORT, &68u16.to_be_bytes())
                .eq(NftField::TH_DPORT, &67u16.to_be_bytes())
                .queue(4)
                .comment("dhcp to the learner"),
        );
    assert_eq!(
        batch(&b),
        "\
add table netdev ioc-vnet0.5
add chain netdev ioc-vnet0.5 from { type filter hook ingress device \"vnet0.5\" priority 0; policy drop; }
add set netdev ioc-vnet0.5 lease4 { type ipv4_addr; flags timeout; }
add element netdev ioc-vnet0.5 lease4 { 10.0.0.7 timeout 90000ms }
add rule netdev ioc-vnet0.5 from meta protocol 0x0800 ip saddr != @lease4 drop
add rule netdev ioc-vnet0.5 from meta l4proto 17 @th,0,16 0x0044 @th,16,16 0x0043 queue num 4 comment \"dhcp to the learner\"
"
    );
}

#[test]
fn a_delete_is_idempotent_text_too() {
    let mut b = NftBatch::new();
    b.delete_table(Netdev, "ioc-vnet0.5");
    assert_eq!(
        batch(&b),
        "add table netdev ioc-vnet0.5\ndelete table netdev ioc-vnet0.5\n"
    );
    assert_eq!(command(&b.commands[0]), "delete table netdev ioc-vnet0.5");
}

#[test]
fn elements_of_sets_made_elsewhere_are_typed_by_their_length() {
    let del = NftCommand::DeleteElements {
        family: Netdev,
        table: "t".into(),
        set: "s".into(),
        elements: vec![
            NftElement::ipv4(Ipv4Addr::new(192, 0, 2, 1)).with_timeout_ms(5),
            NftElement::ifname("vnet0.5"),
            NftElement::ipv6("2001:db8::1".parse().unwrap()),
            NftElement::ether(ioc_sdk::Mac([2, 0, 0, 0, 0, 1])),
            NftElement::port(547),
        ]
        .into(),
    };
    assert_eq!(
        command(&del),
        "delete element netdev t s { 192.0.2.1, \"vnet0.5\", 2001:db8::1, 02:00:00:00:00:01, 547 }"
    );
}

#[test]
fn statements_print_as_nft_writes_them() {
    let rule = |r: NftRule| rule_text(NftFamily::Netdev, r.exprs());
    assert_eq!(
        rule(
            NftRule::new()
                .meta_eq(NftMetaKey::Iifname, &ioc_sdk::nft::ifname_bytes("eth0"))
                .masked_eq(NftField::new(NftPayloadBase::Nh, 0, 1), &[0xf0], &[0x40])
                .counter()
                .log("x")
                .jump("aux")
        ),
        "meta iifname \"eth0\" @nh,0,8 & 0xf0 == 0x40 counter log prefix \"x\" jump aux"
    );
    assert_eq!(
        rule(
            NftRule::new()
                .ipv6()
                .update_set(NftField::IP6_SADDR, "slaac6", Some(1000))
                .expr(NftExpr::Queue {
                    num: 2,
                    total: 2,
                    bypass: true,
                    fanout: true
                })
        ),
        "meta protocol 0x86dd update @slaac6 { ip6 saddr timeout 1000ms } queue flags bypass,fanout num 2-3"
    );
    assert_eq!(
        rule(NftRule::new().range(NftField::ARP_OPERATION, &[0, 1], &[0, 2])),
        "@nh,48,16 0x0001-0x0002"
    );
}

#[test]
fn nat_statements_print_as_nft_writes_them() {
    let rule = |family, r: NftRule| rule_text(family, r.exprs());
    let v4 = std::net::IpAddr::from([172, 16, 0, 6]);
    assert_eq!(
        rule(
            NftFamily::Ip,
            NftRule::new()
                .to_local_address()
                .l4proto(6)
                .eq(NftField::TH_DPORT, &8080u16.to_be_bytes())
                .dnat(v4, Some(NftPortRange::one(80)))
        ),
        "fib daddr type local meta l4proto 6 @th,16,16 0x1f90 dnat to 172.16.0.6:80"
    );
    assert_eq!(
        rule(NftFamily::Inet, NftRule::new().snat(v4, None)),
        "snat ip to 172.16.0.6"
    );
    let v6 = std::net::IpAddr::from([0x2001, 0xdb8, 0, 0, 0, 0, 0, 1]);
    let ports = NftPortRange {
        first: 80,
        last: 90,
    };
    assert_eq!(
        rule(NftFamily::Ip6, NftRule::new().dnat(v6, Some(ports))),
        "dnat to [2001:db8::1]:80-90"
    );
    assert_eq!(
        rule(
            NftFamily::Ip,
            NftRule::new().expr(NftExpr::Masq {
                ports: Some(ports).into()
            })
        ),
        "masquerade to :80-90"
    );
    assert_eq!(
        rule(NftFamily::Ip, NftRule::new().masquerade()),
        "masquerade"
    );
}
