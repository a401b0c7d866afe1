//! The `nat` mode through its hooks, with the sdk's recording host.

use ioc_sdk::testing::{JailBuilder, RecordingHost};
use ioc_sdk::{HostOp, Nat, NetworkMode, Platform, PortForward, Protocol, Side};

use super::NatMode;

fn jail(vnet: bool, uplink: Option<&str>) -> JailBuilder {
    let forwards = vec![PortForward {
        proto: Protocol::Tcp,
        jail_port: 80,
        host_port: 8080,
        count: 1,
    }];
    JailBuilder::new("web")
        .jid(3)
        .vnet(vnet)
        .ip4_addr("vnet0|172.16.0.6/30")
        .nat(Nat::new(
            "172.16.0.4".parse().unwrap(),
            uplink,
            forwards,
            "nftables",
        ))
}

#[test]
fn setup_routes_the_pair_and_asks_the_backend_for_the_nat() {
    let mut host = RecordingHost::new();
    NatMode
        .setup(&jail(true, Some("em0")).build(), &mut host.host())
        .unwrap();
    let names: Vec<&str> = host.ops().iter().map(HostOp::name).collect();
    assert_eq!(
        names,
        [
            "create-pair",
            "add-host-alias",
            "move-to-jail",
            "rename-link",
            "add-address",
            "loopback-up",
            "add-route",
            "enable-forwarding",
            "enable-forwarding",
            "nat-jail",
        ]
    );
    let aliases = host.ops_named("add-host-alias");
    let [HostOp::AddHostAlias { iface, address }] = aliases.as_slice() else {
        panic!("{aliases:?}");
    };
    assert_eq!(
        (iface.as_str(), address.to_string()),
        ("vnet0.3", "172.16.0.5/30".into())
    );
    let nat = host.ops_named("nat-jail");
    let [HostOp::NatJail { request }] = nat.as_slice() else {
        panic!("{nat:?}");
    };
    assert_eq!(request.link.as_str(), "vnet0.3");
    assert_eq!(request.nat.jail_address().to_string(), "172.16.0.6");
}

#[test]
fn on_freebsd_forwarding_is_asked_for_once() {
    let mut host = RecordingHost::new();
    let jail = jail(true, Some("em0")).platform(Platform::FreeBsd).build();
    NatMode.setup(&jail, &mut host.host()).unwrap();
    assert_eq!(host.ops_named("enable-forwarding").len(), 1);
}

#[test]
fn validate_refuses_a_missing_uplink_and_no_default_route() {
    let mut host = RecordingHost::validating().with_link(Side::Host, "em0", 1500);
    NatMode
        .validate(&jail(true, Some("em0")).build(), &mut host.host())
        .unwrap();
    assert!(host.changes().is_empty());
    let err = |j: JailBuilder, host: &mut RecordingHost| {
        NatMode
            .validate(&j.build(), &mut host.host())
            .unwrap_err()
            .to_string()
    };
    assert!(err(jail(true, Some("em9")), &mut host).contains("the uplink em9 does not exist"));
    assert!(err(jail(true, None), &mut host).contains("no IPv4 default route"));
}

#[test]
fn a_shared_ip_nat_jail_gets_a_loopback_alias_and_the_nat() {
    let mut host = RecordingHost::new();
    NatMode
        .setup(&jail(false, Some("em0")).build(), &mut host.host())
        .unwrap();
    let names: Vec<&str> = host.ops().iter().map(HostOp::name).collect();
    assert_eq!(names, ["add-host-alias", "nat-jail"]);
    let aliases = host.ops_named("add-host-alias");
    let [HostOp::AddHostAlias { iface, address }] = aliases.as_slice() else {
        panic!("{aliases:?}");
    };
    assert_eq!(
        (iface.as_str(), address.to_string()),
        ("lo", "172.16.0.6/32".into())
    );
}
