//! The `shared-ip` mode through its `NetworkMode` hooks, with the sdk's recording host.

use ioc_sdk::testing::{JailBuilder, RecordingHost};
use ioc_sdk::{Cidr, HostErrorKind, HostOp, NetworkMode, Side};

use super::SharedIp;

fn jail() -> JailBuilder {
    JailBuilder::new("jail-a")
        .ip4_addr("em0|192.0.2.10/24")
        .ip6_addr("em0|2001:db8::10/64")
}

fn cidr(text: &str) -> Cidr {
    let (ip, prefix) = text.split_once('/').unwrap();
    Cidr::new(
        ip.parse::<std::net::IpAddr>().unwrap(),
        prefix.parse().unwrap(),
    )
}

#[test]
fn setup_aliases_each_address_on_its_host_interface_in_written_order() {
    let mut host = RecordingHost::new();
    SharedIp.setup(&jail().build(), &mut host.host()).unwrap();
    let aliases: Vec<(String, String)> = host
        .ops()
        .into_iter()
        .map(|op| match op {
            HostOp::AddHostAlias { iface, address } => (iface.into_string(), address.to_string()),
            other => panic!("shared-ip asked for {other:?}"),
        })
        .collect();
    assert_eq!(
        aliases,
        [
            ("em0".to_string(), "192.0.2.10/24".to_string()),
            ("em0".to_string(), "2001:db8::10/64".to_string()),
        ]
    );
}

#[test]
fn setup_goes_on_when_the_host_already_has_an_address() {
    let mut host = RecordingHost::new().with_host_address("em0", cidr("192.0.2.10/24"));
    SharedIp.setup(&jail().build(), &mut host.host()).unwrap();
    assert_eq!(host.names(), ["add-host-alias", "add-host-alias"]);
}

#[test]
fn setup_reports_a_failed_alias() {
    let mut host =
        RecordingHost::new().fail_on("add-host-alias", HostErrorKind::PermissionDenied, "denied");
    let err = SharedIp
        .setup(&jail().build(), &mut host.host())
        .unwrap_err();
    assert_eq!(err.to_string(), "denied");
    assert_eq!(host.ops().len(), 1, "nothing after the failure");
}

#[test]
fn validate_checks_host_interfaces_and_changes_nothing() {
    let mut host = RecordingHost::validating().with_link(Side::Host, "em0", 1500);
    SharedIp
        .validate(&jail().build(), &mut host.host())
        .unwrap();
    assert!(host.changes().is_empty());
    assert_eq!(host.names(), ["link-exists", "link-exists"]);
}

#[test]
fn validate_refuses_what_a_shared_stack_cannot_do() {
    let cases = [
        (
            jail().vnet(true),
            "property 'vnet': the shared-ip mode needs vnet=off",
        ),
        (
            jail().ip4_addr("em0|dhcp"),
            "property 'ip4_addr': em0|dhcp is not possible with vnet=off",
        ),
        (
            jail().ip6_addr("em0|accept_rtadv"),
            "property 'ip6_addr': em0|accept_rtadv is not possible with vnet=off",
        ),
        (
            jail().ip6_addr("em1|2001:db8::10/64"),
            "property 'ip6_addr': host interface em1 does not exist",
        ),
    ];
    for (jail, expected) in cases {
        let mut host = RecordingHost::validating().with_link(Side::Host, "em0", 1500);
        let err = SharedIp
            .validate(&jail.build(), &mut host.host())
            .unwrap_err();
        assert!(
            err.to_string().contains(expected),
            "{err} lacks {expected:?}"
        );
        assert!(host.changes().is_empty());
    }
}
