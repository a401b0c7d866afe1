//! What the shared VNET code asks the host for and what it refuses, checked with the sdk's
//! recording host (no root, nothing on the system changes).

use ioc_sdk::testing::{JailBuilder, RecordingHost};
use ioc_sdk::{HostErrorKind, HostOp, Mac, Nic, Platform, Side};

use super::{host_end, jail_end, setup, validate, Attach};

/// A VNET jail with one plain pair on `bridge0`, JID 5.
fn vnet_jail() -> JailBuilder {
    JailBuilder::new("jail-a")
        .jid(5)
        .vnet(true)
        .interfaces("vnet0:bridge0")
}

fn refusal(jail: JailBuilder, host: RecordingHost, attach: Attach) -> String {
    let mut host = host;
    let err = validate(&jail.build(), &mut host.host(), attach).unwrap_err();
    assert!(
        host.changes().is_empty(),
        "validate changed {:?}",
        host.changes()
    );
    err.to_string()
}

#[test]
fn names_follow_the_platform() {
    let linux = vnet_jail().build();
    let nic = &linux.network().interfaces()[0];
    assert_eq!(
        (host_end(&linux, nic), jail_end(&linux, nic)),
        ("vnet0.5".into(), "vnet0.5.j".into())
    );
    let bsd = vnet_jail().platform(Platform::FreeBsd).build();
    let nic = &bsd.network().interfaces()[0];
    assert_eq!(
        (host_end(&bsd, nic), jail_end(&bsd, nic)),
        ("vnet0:5".into(), "vnet0:5:j".into())
    );
}

#[test]
fn a_complete_jail_validates_with_queries_only() {
    let jail = vnet_jail()
        .interfaces("vnet0:bridge0,vnet1:bridge1")
        .ip4_addr("vnet0|10.0.0.2/24,vnet1|dhcp")
        .ip6_addr("vnet1|accept_rtadv")
        .defaultrouter("10.0.0.1@vnet0")
        .build();
    let mut host = RecordingHost::validating()
        .with_bridge("bridge0")
        .with_bridge("bridge1");
    validate(&jail, &mut host.host(), Attach::Bridge).unwrap();
    assert!(host.changes().is_empty());
    assert_eq!(host.ops_named("link-exists").len(), 2);
}

#[test]
fn validate_refuses_what_a_vnet_start_cannot_build() {
    let bridged = || RecordingHost::validating().with_bridge("bridge0");
    let cases = [
        (vnet_jail().vnet(false), "needs vnet=on"),
        (vnet_jail().interfaces("none"), "no interfaces are set"),
        (
            vnet_jail().interfaces("vnet0:none"),
            "requires setting a bridge (NIC vnet0 has none)",
        ),
        (
            vnet_jail().interfaces("vnet0::bridge0"),
            "vnet0::bridge0 asks for Secure VNET",
        ),
        (
            vnet_jail().ip4_addr("vnet1|10.0.0.2/24"),
            "property 'ip4_addr': NIC vnet1 is not in interfaces",
        ),
        (
            vnet_jail().ip6_addr("vnet1|accept_rtadv"),
            "property 'ip6_addr': NIC vnet1 is not in interfaces",
        ),
        (
            vnet_jail().defaultrouter6("fe80::1@vnet9"),
            "property 'defaultrouter6': NIC vnet9 is not in interfaces",
        ),
        (
            vnet_jail()
                .ip4_addr("vnet0|dhcp")
                .defaultrouter("10.23.42.1"),
            "property 'defaultrouter': 10.23.42.1 cannot be reached when the jail starts",
        ),
        (
            vnet_jail()
                .ip6_addr("vnet0|accept_rtadv")
                .defaultrouter6("fd00::1"),
            "property 'defaultrouter6': fd00::1 cannot be reached",
        ),
    ];
    for (jail, expected) in cases {
        let message = refusal(jail, bridged(), Attach::Bridge);
        assert!(message.contains(expected), "{message:?} lacks {expected:?}");
    }
}

#[test]
fn a_gateway_on_a_named_nic_or_beside_a_static_address_is_fine_with_dhcp() {
    let bridged = || RecordingHost::validating().with_bridge("bridge0");
    for jail in [
        vnet_jail()
            .ip4_addr("vnet0|dhcp")
            .defaultrouter("10.23.42.1@vnet0"),
        vnet_jail()
            .interfaces("vnet0:bridge0,vnet1:bridge0")
            .ip4_addr("vnet0|dhcp,vnet1|10.23.42.2/24")
            .defaultrouter("10.23.42.1"),
        vnet_jail().ip4_addr("vnet0|dhcp"),
    ] {
        let mut host = bridged();
        validate(&jail.build(), &mut host.host(), Attach::Bridge).unwrap();
    }
}

#[test]
fn validate_refuses_a_missing_bridge_and_a_twice_named_nic() {
    let missing = refusal(vnet_jail(), RecordingHost::validating(), Attach::Bridge);
    assert_eq!(missing, "VNET bridge bridge0 does not exist");
    let twice = vnet_jail().nic(Nic::new(
        "vnet0",
        Some("bridge0"),
        false,
        Mac([2, 0, 0, 0, 0, 2]),
        Mac([2, 0, 0, 0, 0, 3]),
    ));
    let message = refusal(
        twice,
        RecordingHost::validating().with_bridge("bridge0"),
        Attach::Bridge,
    );
    assert!(message.contains("NIC vnet0 is named twice"), "{message}");
}

#[test]
fn firewall_attach_wants_secure_pairs() {
    let message = refusal(
        vnet_jail(),
        RecordingHost::validating().with_bridge("bridge0"),
        Attach::Firewall,
    );
    assert!(
        message.contains("Secure VNET needs vnet0::bridge0"),
        "{message}"
    );
}

#[test]
fn setup_builds_pairs_then_addresses_loopback_routes_and_dynamic_config() {
    let jail = vnet_jail()
        .ip4_addr("vnet0|10.0.0.2/24,vnet0|dhcp")
        .ip6_addr("vnet0|2001:db8::2/64,vnet0|accept_rtadv")
        .defaultrouter("10.0.0.1@vnet0")
        .defaultrouter6("2001:db8::1")
        .build();
    let mut host = RecordingHost::new().with_link(Side::Host, "bridge0", 9000);
    setup(&jail, &mut host.host(), Attach::Bridge).unwrap();
    assert_eq!(
        host.names(),
        [
            "link-mtu",
            "create-pair",
            "add-bridge-members",
            "move-to-jail",
            "rename-link",
            "add-address",
            "add-address",
            "loopback-up",
            "add-route",
            "add-route",
            "add-route",
            "start-dhcp",
            "accept-rtadv",
        ]
    );
    let nic = &jail.network().interfaces()[0];
    let HostOp::CreatePair {
        host: h,
        peer,
        peer_in_jail,
        host_mac,
        peer_mac,
        mtu,
        description,
    } = &host.ops_named("create-pair")[0]
    else {
        unreachable!()
    };
    assert_eq!(
        (h.as_str(), peer.as_str(), *peer_in_jail),
        ("vnet0.5", "vnet0.5.j", true)
    );
    assert_eq!(
        (host_mac.into_option(), peer_mac.into_option()),
        (Some(nic.host_mac()), Some(nic.jail_mac()))
    );
    assert_eq!(
        mtu.into_option(),
        Some(9000),
        "the pair takes the bridge's MTU"
    );
    assert_eq!(description.as_str(), "associated with jail: jail-a");
    // The jail end ends up inside the jail under the NIC's name.
    assert!(host.has_link(Side::Jail, "vnet0"));
    // `IP@NIC`: an interface route to the gateway first, then the default routes.
    let routes: Vec<_> = host
        .ops_named("add-route")
        .into_iter()
        .map(|op| match op {
            HostOp::AddRoute {
                destination,
                gateway,
                link,
            } => (
                destination.into_option().map(|d| d.to_string()),
                gateway.into_option().map(|g| g.to_string()),
                link.into_option().map(|l| l.into_string()),
            ),
            other => unreachable!("{other:?}"),
        })
        .collect();
    let text = |s: &str| Some(s.to_string());
    assert_eq!(
        routes,
        [
            (text("10.0.0.1"), None, text("vnet0")),
            (None, text("10.0.0.1"), text("vnet0")),
            (None, text("2001:db8::1"), None),
        ]
    );
}

#[test]
fn setup_stops_at_the_first_failed_request() {
    let mut host = RecordingHost::new().with_bridge("bridge0").fail_on(
        "create-pair",
        HostErrorKind::AlreadyExists,
        "vnet0.5 exists",
    );
    let err = setup(&vnet_jail().build(), &mut host.host(), Attach::Bridge).unwrap_err();
    assert_eq!(err.to_string(), "vnet0.5 exists");
    assert_eq!(host.names(), ["link-mtu", "create-pair"]);
}

#[test]
fn setup_refuses_a_bridge_that_vanished_since_validation() {
    let mut host = RecordingHost::new();
    let err = setup(&vnet_jail().build(), &mut host.host(), Attach::Bridge).unwrap_err();
    assert_eq!(err.to_string(), "VNET bridge bridge0 does not exist");
    assert!(host.changes().is_empty());
}

#[test]
fn a_port_learns_what_its_nic_takes_at_run_time_and_the_jails_dhcp_server_role() {
    let jail = ioc_sdk::testing::JailBuilder::new("jail-a")
        .vnet(true)
        .interfaces("vnet0::bridge0,vnet1::bridge0")
        .ip4_addr("vnet0|dhcp,vnet1|10.0.0.2/24")
        .ip6_addr("vnet1|accept_rtadv")
        .dhcp_server(true)
        .build();
    let net = jail.network();
    let learn = |nic| crate::learning(net, nic);
    assert_eq!(
        (
            learn("vnet0").dhcp4,
            learn("vnet0").slaac,
            learn("vnet0").dhcp_server
        ),
        (true, false, true)
    );
    assert_eq!(
        (
            learn("vnet1").dhcp4,
            learn("vnet1").slaac,
            learn("vnet1").dhcp_server
        ),
        (false, true, true)
    );
}

#[test]
fn a_nic_without_ipv6_settings_gets_ipv6_off_before_it_comes_up() {
    let jail = vnet_jail()
        .interfaces("vnet0:bridge0,vnet1:bridge0,vnet2:bridge0,vnet3:bridge0")
        .ip4_addr("vnet0|10.0.0.2/24,vnet1|10.0.1.2/24")
        .ip6_addr("vnet1|2001:db8::2/64,vnet2|accept_rtadv")
        .defaultrouter6("fe80::1@vnet3")
        .build();
    let net = jail.network();
    let wants: Vec<bool> = ["vnet0", "vnet1", "vnet2", "vnet3"]
        .iter()
        .map(|nic| crate::wants_ipv6(net, nic))
        .collect();
    assert_eq!(wants, [false, true, true, true]);
    let mut host = RecordingHost::new().with_bridge("bridge0");
    setup(&jail, &mut host.host(), Attach::Bridge).unwrap();
    let off: Vec<_> = host
        .ops_named("disable-ipv6")
        .into_iter()
        .map(|op| match op {
            HostOp::DisableIpv6 { link } => link.into_string(),
            other => unreachable!("{other:?}"),
        })
        .collect();
    // The jail end, by its name before the rename brings it up.
    assert_eq!(off, ["vnet0.5.j"]);
    let names = host.names();
    let at = |name: &str| names.iter().position(|n| *n == name).unwrap();
    assert!(at("disable-ipv6") < at("rename-link"), "{names:?}");
}
