//! Unit tests of the example mode with the sdk's test kit: no root, no jail, nothing changes.

use ioc_sdk::testing::{JailBuilder, RecordingHost};
use ioc_sdk::NetworkMode;

use super::Isolated;

#[test]
fn setup_only_brings_the_loopback_up() {
    let jail = JailBuilder::new("builder")
        .vnet(true)
        .property("user.example.greeting", "hi")
        .build();
    let mut host = RecordingHost::new();
    Isolated.setup(&jail, &mut host.host()).unwrap();
    assert_eq!(host.names(), ["loopback-up"]);
}

#[test]
fn setup_reports_a_host_failure() {
    let jail = JailBuilder::new("builder").vnet(true).build();
    let mut host = RecordingHost::new().fail_on(
        "loopback-up",
        ioc_sdk::HostErrorKind::PermissionDenied,
        "no loopback for you",
    );
    let err = Isolated.setup(&jail, &mut host.host()).unwrap_err();
    assert_eq!(err.to_string(), "no loopback for you");
}

#[test]
fn validate_accepts_an_isolated_vnet_jail_and_changes_nothing() {
    let jail = JailBuilder::new("builder").vnet(true).build();
    let mut host = RecordingHost::validating();
    Isolated.validate(&jail, &mut host.host()).unwrap();
    assert!(host.changes().is_empty());
}

#[test]
fn validate_refuses_a_shared_stack_and_any_network() {
    for (jail, property) in [
        (JailBuilder::new("j"), "'vnet'"),
        (
            JailBuilder::new("j").vnet(true).interfaces("vnet0:bridge0"),
            "'interfaces'",
        ),
        (
            JailBuilder::new("j")
                .vnet(true)
                .ip4_addr("vnet0|10.0.0.2/24"),
            "'interfaces'",
        ),
    ] {
        let mut host = RecordingHost::validating();
        let err = Isolated
            .validate(&jail.build(), &mut host.host())
            .unwrap_err();
        assert!(
            err.to_string().contains(property),
            "{err} should name {property}"
        );
    }
}
