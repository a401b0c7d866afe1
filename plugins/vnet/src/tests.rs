//! The `vnet` mode through its `NetworkMode` hooks, with the sdk's recording host.

use ioc_sdk::testing::{JailBuilder, RecordingHost};
use ioc_sdk::{HostOp, NetworkMode, Platform};

use super::Vnet;

fn jail() -> JailBuilder {
    JailBuilder::new("jail-a")
        .jid(5)
        .vnet(true)
        .interfaces("vnet0:bridge0")
        .ip4_addr("vnet0|10.0.0.2/24")
}

#[test]
fn setup_puts_the_host_end_on_the_bridge() {
    let mut host = RecordingHost::new().with_bridge("bridge0");
    Vnet.setup(
        &jail().platform(Platform::FreeBsd).build(),
        &mut host.host(),
    )
    .unwrap();
    let members = host.ops_named("add-bridge-members");
    let [HostOp::AddBridgeMembers { bridge, members }] = members.as_slice() else {
        panic!("expected one add-bridge-members, got {members:?}");
    };
    assert_eq!(bridge.as_str(), "bridge0");
    assert_eq!(members.as_slice(), ["vnet0:5"]);
    assert!(
        host.ops_named("protect-port").is_empty(),
        "plain VNET has no firewall"
    );
    assert_eq!(host.ops_named("add-address").len(), 1);
}

#[test]
fn validate_changes_nothing_and_refuses_secure_pairs() {
    let mut host = RecordingHost::validating().with_bridge("bridge0");
    Vnet.validate(&jail().build(), &mut host.host()).unwrap();
    assert!(host.changes().is_empty());

    let secure = jail().interfaces("vnet0::bridge0").build();
    let err = Vnet.validate(&secure, &mut host.host()).unwrap_err();
    assert!(
        err.to_string()
            .contains("use network_plugin=auto or secure-vnet"),
        "{err}"
    );
}

#[test]
fn validate_refuses_a_missing_bridge() {
    let mut host = RecordingHost::validating();
    let err = Vnet
        .validate(&jail().build(), &mut host.host())
        .unwrap_err();
    assert_eq!(err.to_string(), "VNET bridge bridge0 does not exist");
}
