//! The `secure-vnet` mode through its `NetworkMode` hooks, with the sdk's recording host.

use ioc_sdk::testing::{JailBuilder, RecordingHost};
use ioc_sdk::{HostOp, NetworkMode, PortLearning};

use super::SecureVnet;

fn jail() -> JailBuilder {
    JailBuilder::new("jail-a")
        .jid(5)
        .vnet(true)
        .interfaces("vnet0::bridge0")
        .ip4_addr("vnet0|10.0.0.2/24")
        .ip6_addr("vnet0|2001:db8::2/64")
}

#[test]
fn setup_hands_the_port_to_the_firewall_instead_of_the_bridge() {
    let jail = jail().build();
    let mut host = RecordingHost::new().with_link(ioc_sdk::Side::Host, "bridge0", 9000);
    SecureVnet.setup(&jail, &mut host.host()).unwrap();
    assert!(
        host.ops_named("add-bridge-members").is_empty(),
        "the firewall backend attaches the port itself"
    );
    assert_eq!(
        host.names()[..4],
        ["link-mtu", "create-pair", "protect-port", "move-to-jail"]
    );
    let ports = host.ops_named("protect-port");
    let [HostOp::ProtectPort { policy }] = ports.as_slice() else {
        panic!("expected one protect-port, got {ports:?}");
    };
    let nic = &jail.network().interfaces()[0];
    assert_eq!(
        (
            policy.jail(),
            policy.jid(),
            policy.nic(),
            policy.port(),
            policy.bridge()
        ),
        ("jail-a", 5, "vnet0", "vnet0.5", "bridge0")
    );
    assert_eq!(
        policy.mac(),
        nic.jail_mac(),
        "only the jail end's MAC may pass"
    );
    let v4: Vec<String> = policy.ipv4().map(|a| a.to_string()).collect();
    let v6: Vec<String> = policy.ipv6().map(|a| a.to_string()).collect();
    assert_eq!(
        (v4, v6),
        (
            vec!["10.0.0.2".to_string()],
            vec!["2001:db8::2".to_string()]
        )
    );
    assert_eq!(policy.mtu(), Some(9000));
}

#[test]
fn validate_accepts_static_addresses_and_changes_nothing() {
    let mut host = RecordingHost::validating().with_bridge("bridge0");
    SecureVnet
        .validate(&jail().build(), &mut host.host())
        .unwrap();
    assert!(host.changes().is_empty());
}

#[test]
fn learned_addresses_become_the_ports_learning_and_the_jail_still_runs_its_clients() {
    let jail = jail()
        .ip4_addr("vnet0|dhcp")
        .ip6_addr("vnet0|accept_rtadv")
        .build();
    let mut check = RecordingHost::validating().with_bridge("bridge0");
    SecureVnet.validate(&jail, &mut check.host()).unwrap();
    let mut host = RecordingHost::new().with_link(ioc_sdk::Side::Host, "bridge0", 1500);
    SecureVnet.setup(&jail, &mut host.host()).unwrap();
    let ports = host.ops_named("protect-port");
    let [HostOp::ProtectPort { policy }] = ports.as_slice() else {
        panic!("expected one protect-port, got {ports:?}");
    };
    assert_eq!(
        policy.learning(),
        PortLearning {
            dhcp4: true,
            slaac: true,
            dhcp_server: false
        }
    );
    assert_eq!(policy.ipv4().count() + policy.ipv6().count(), 0);
    // Exactly as plain VNET: the jail's own DHCP client and RA handling.
    assert_eq!(host.ops_named("start-dhcp").len(), 1);
    assert_eq!(host.ops_named("accept-rtadv").len(), 1);
}

#[test]
fn dhcp_server_reaches_the_ports_learning() {
    let jail = jail().dhcp_server(true).build();
    let mut host = RecordingHost::new().with_link(ioc_sdk::Side::Host, "bridge0", 1500);
    SecureVnet.setup(&jail, &mut host.host()).unwrap();
    let ports = host.ops_named("protect-port");
    let [HostOp::ProtectPort { policy }] = ports.as_slice() else {
        panic!("expected one protect-port, got {ports:?}");
    };
    assert_eq!(
        policy.learning(),
        PortLearning {
            dhcp4: false,
            slaac: false,
            dhcp_server: true
        }
    );
}

#[test]
fn validate_refuses_plain_pairs() {
    let cases = [(
        jail().interfaces("vnet0:bridge0"),
        "Secure VNET needs vnet0::bridge0",
    )];
    for (jail, expected) in cases {
        let mut host = RecordingHost::validating().with_bridge("bridge0");
        let err = SecureVnet
            .validate(&jail.build(), &mut host.host())
            .unwrap_err();
        assert!(
            err.to_string().contains(expected),
            "{err} lacks {expected:?}"
        );
        assert!(host.changes().is_empty());
    }
}
