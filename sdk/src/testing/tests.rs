//! The kit's own tests: what the recording host answers and refuses, what the builder parses.

use std::net::IpAddr;

use super::{JailBuilder, RecordingHost, DEFAULT_MTU};
use crate::{
    Address, AddressKind, Cidr, Gateway, HostErrorKind, HostOp, HostReply, IpMode, PairSpec,
    Platform, Side,
};

#[test]
fn records_every_op_in_order_and_answers_declared_queries() {
    let mut rec = RecordingHost::new()
        .with_link(Side::Host, "bridge0", 9000)
        .with_sysctl("net.ipv4.ip_forward", "1");
    let mut host = rec.host();
    assert!(host.link_exists(Side::Host, "bridge0").unwrap());
    assert!(!host.link_exists(Side::Jail, "bridge0").unwrap());
    assert_eq!(host.link_mtu("bridge0").unwrap(), Some(9000));
    assert_eq!(host.link_mtu("missing0").unwrap(), None);
    assert_eq!(host.read_sysctl("net.ipv4.ip_forward").unwrap(), "1");
    let unknown = host.read_sysctl("net.nothing").unwrap_err();
    assert_eq!(unknown.kind, HostErrorKind::NotFound);
    host.loopback_up().unwrap();
    assert_eq!(
        host.run(Side::Jail, &["true"], &[], None).unwrap().status,
        0
    );
    assert_eq!(
        rec.names(),
        [
            "link-exists",
            "link-exists",
            "link-mtu",
            "link-mtu",
            "read-sysctl",
            "read-sysctl",
            "loopback-up",
            "run-command"
        ]
    );
    assert_eq!(rec.ops_named("link-mtu").len(), 2);
    assert_eq!(rec.changes(), [HostOp::LoopbackUp, rec.ops()[7].clone()]);
    rec.clear();
    assert!(rec.ops().is_empty());
}

#[test]
fn follows_the_links_a_plugin_makes() {
    let mut rec = RecordingHost::new();
    let mut host = rec.host();
    host.create_pair(&PairSpec {
        host: "vnet0.1",
        peer: "vnet0.1.j",
        peer_in_jail: false,
        mtu: Some(1400),
        ..PairSpec::default()
    })
    .unwrap();
    host.move_to_jail("vnet0.1.j").unwrap();
    host.rename_link(Side::Jail, "vnet0.1.j", "vnet0").unwrap();
    host.create_bridge("br1", None).unwrap();
    assert_eq!(host.link_mtu("br1").unwrap(), Some(DEFAULT_MTU));
    assert_eq!(host.link_mtu("vnet0.1").unwrap(), Some(1400));
    assert!(rec.has_link(Side::Jail, "vnet0"));
    assert!(!rec.has_link(Side::Host, "vnet0.1.j"));
    rec.host().destroy_link(Side::Host, "br1").unwrap();
    assert!(!rec.has_link(Side::Host, "br1"));
}

#[test]
fn validating_refuses_changes_as_ioc_does_but_answers_queries() {
    let mut rec = RecordingHost::validating().with_bridge("bridge0");
    let mut host = rec.host();
    assert!(host.link_exists(Side::Host, "bridge0").unwrap());
    let refused = host.create_bridge("bridge1", None).unwrap_err();
    assert_eq!(refused.kind, HostErrorKind::Unsupported);
    assert_eq!(
        refused.message.as_str(),
        "create-bridge is not allowed while validating"
    );
    assert_eq!(rec.names(), ["link-exists", "create-bridge"]);
    assert_eq!(rec.changes().len(), 1);
}

#[test]
fn failures_and_replies_can_be_injected() {
    let mut rec = RecordingHost::new()
        .fail_on("move-to-jail", HostErrorKind::PermissionDenied, "no")
        .fail_when(
            |op| matches!(op, HostOp::DestroyLink { name, .. } if name.as_str() == "b"),
            crate::HostError::new(HostErrorKind::NotFound, "b is gone"),
        )
        .with_reply("link-exists", HostReply::Flag(true));
    let mut host = rec.host();
    assert_eq!(
        host.move_to_jail("x").unwrap_err().kind,
        HostErrorKind::PermissionDenied
    );
    host.destroy_link(Side::Host, "a").unwrap();
    assert_eq!(
        host.destroy_link(Side::Host, "b")
            .unwrap_err()
            .message
            .as_str(),
        "b is gone"
    );
    assert!(host.link_exists(Side::Host, "anything").unwrap());
    assert_eq!(rec.ops().len(), 4, "failed ops are recorded too");
}

#[test]
fn host_aliases_the_host_already_has_are_reported() {
    let owned = Cidr::new("192.0.2.1".parse::<IpAddr>().unwrap(), 24);
    let fresh = Cidr::new("192.0.2.9".parse::<IpAddr>().unwrap(), 24);
    let mut rec = RecordingHost::new().with_host_address("em0", owned);
    let mut host = rec.host();
    assert!(!host.add_host_alias("em0", owned).unwrap());
    assert!(host.add_host_alias("em0", fresh).unwrap());
}

#[test]
fn builder_defaults_follow_ioc() {
    let jail = JailBuilder::new("jail-a").build();
    assert_eq!(jail.name(), "jail-a");
    assert_eq!(jail.jid(), 1);
    assert_eq!(jail.platform(), Platform::Linux);
    assert_eq!(jail.firewall(), "nftables");
    let net = jail.network();
    assert!(!net.vnet());
    assert!(net.interfaces().is_empty() && net.addresses().next().is_none());
    assert_eq!((net.ip4_mode(), net.ip6_mode()), (IpMode::New, IpMode::New));
    assert!(net.ip4_saddrsel() && net.ip6_saddrsel() && !net.allow_raw_sockets());
    let bsd = JailBuilder::new("j").platform(Platform::FreeBsd).build();
    assert_eq!(bsd.firewall(), "ipfw");
}

#[test]
fn builder_parses_what_users_write() {
    let jail = JailBuilder::new("jail-a")
        .jid(7)
        .vnet(true)
        .interfaces("vnet0:bridge0, vnet1::bridge1 vnet2:none")
        .mac("vnet1", "02:00:00:00:00:10,02:00:00:00:00:20")
        .mac("vnet2", "020000000030")
        .ip4_addr("vnet0|10.0.0.2/24,vnet0|10.0.0.3,vnet1|dhcp")
        .ip6_addr("vnet1|2001:db8::2/64,vnet0|accept_rtadv")
        .defaultrouter("10.0.0.1@vnet0")
        .defaultrouter6("2001:db8::1")
        .property("user.greeting", "hi")
        .build();
    let net = jail.network();
    let nics: Vec<_> = net
        .interfaces()
        .iter()
        .map(|n| (n.name(), n.bridge(), n.secure()))
        .collect();
    assert_eq!(
        nics,
        [
            ("vnet0", Some("bridge0"), false),
            ("vnet1", Some("bridge1"), true),
            ("vnet2", None, false)
        ]
    );
    let vnet0 = net.interface("vnet0").unwrap();
    assert_eq!(vnet0.jail_mac().to_u64(), vnet0.host_mac().to_u64() + 1);
    assert_eq!(vnet0.host_mac().0[..3], [0x02, 0xff, 0x60]);
    assert_ne!(vnet0.host_mac(), net.interface("vnet2").unwrap().host_mac());
    let vnet1 = net.interface("vnet1").unwrap();
    assert_eq!(vnet1.jail_mac().to_string(), "02:00:00:00:00:20");
    let vnet2 = net.interface("vnet2").unwrap();
    assert_eq!(vnet2.jail_mac().to_string(), "02:00:00:00:00:31");
    let statics: Vec<String> = net
        .static_addresses("vnet0")
        .map(|c| c.to_string())
        .collect();
    assert_eq!(statics, ["10.0.0.2/24", "10.0.0.3/32"]);
    assert_eq!(net.ip4()[2].kind(), AddressKind::Dhcp);
    assert_eq!(net.ip6()[1].kind(), AddressKind::AcceptRtadv);
    let gw = net.defaultrouter().unwrap();
    assert_eq!(
        (gw.ip().to_string(), gw.nic()),
        ("10.0.0.1".into(), Some("vnet0"))
    );
    assert_eq!(net.defaultrouter6().unwrap().nic(), None);
    assert_eq!(jail.property("user.greeting"), Some("hi"));
}

#[test]
fn hand_built_entries_go_to_their_family() {
    let v6: IpAddr = "2001:db8::2".parse().unwrap();
    let jail = JailBuilder::new("j")
        .address(Address::new(
            "vnet0",
            AddressKind::Static(Cidr::new(v6, 64)),
        ))
        .address(Address::new("vnet0", AddressKind::Dhcp))
        .address(Address::new("vnet0", AddressKind::AcceptRtadv))
        .gateway(Gateway::new("fe80::1".parse().unwrap(), Some("vnet0")))
        .build();
    let net = jail.network();
    assert_eq!((net.ip4().len(), net.ip6().len()), (1, 2));
    assert!(net.defaultrouter().is_none() && net.defaultrouter6().is_some());
}

#[test]
#[should_panic(expected = "property 'ip4_addr'")]
fn builder_names_the_property_it_cannot_parse() {
    let _ = JailBuilder::new("j").ip4_addr("vnet0|2001:db8::1");
}
